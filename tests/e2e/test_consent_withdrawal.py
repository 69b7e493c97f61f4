"""In Chromium: a privacy officer records a withdrawal; a sales user is then refused a
marketing email to that person, overrides with a reason, and the audit reports it."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlmodel import col, select

from components.marketing_ui import OVERRIDE_LABEL
from db.core.engine import make_engine, session_scope
from db.models.auth import User
from db.models.consent import ConsentEvent
from db.models.people import Contact
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    new_page,
    sign_in,
    wait_until_idle,
)


def contact_without_consent(tmp_path_factory: pytest.TempPathFactory) -> int:
    """A live contact owned by the demo sales user with no consent history yet."""
    # The server fixture keeps its demo database in the session's "e2e" temp folder.
    found = Path(tmp_path_factory.getbasetemp()).glob("e2e[0-9]*/rapport.db")
    database = max(found, key=lambda p: p.stat().st_mtime)
    engine = make_engine(f"sqlite:///{database}")
    try:
        with session_scope(engine) as session:
            sales = session.exec(select(User).where(User.username == "sales")).one()
            with_consent = select(ConsentEvent.contact_id)
            contact = session.exec(
                select(Contact)
                .where(
                    Contact.owner_id == sales.id,
                    col(Contact.erased_at).is_(None),
                    col(Contact.id).not_in(with_consent),
                )
                .order_by(col(Contact.id))
            ).first()
            assert contact is not None
            return contact.id or 0
    finally:
        engine.dispose()


def choose(page: Any, label: str, option: str) -> None:
    """Pick a selectbox option by typing it; open the list again if a rerun closed it."""
    box = page.locator(f'input[aria-label="{label}"]').first
    for _ in range(3):
        box.click()
        box.fill(option)
        try:
            page.get_by_role("option", name=option, exact=True).first.click(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"the option {option!r} of {label!r} never showed")


def test_a_withdrawal_stops_marketing_and_an_override_shows_in_the_audit(
    browser: Any, server: str, steps: Steps, tmp_path_factory: pytest.TempPathFactory
) -> None:
    contact_id = contact_without_consent(tmp_path_factory)

    officer = new_page(browser)
    sign_in(officer, server, "privacy", DEMO_PASSWORD)
    officer.get_by_role("heading", name=re.compile("Good to see you, Priya")).first.wait_for()
    officer.goto(f"{server}/consent?contact={contact_id}")
    officer.get_by_role("heading", name="Consent", exact=True).first.wait_for()
    wait_until_idle(officer)
    choose(officer, "Purpose", "Marketing news and offers")
    officer.get_by_text("Withdraw: no longer agrees").click()
    officer.locator('input[aria-label="Evidence note"]').fill("Asked on the phone to stop")
    officer.get_by_role("button", name="Record").click()
    officer.get_by_text("Recorded: withdraw").first.wait_for()
    steps.shot(officer, "withdrawal-recorded")

    seller = new_page(browser)
    sign_in(seller, server, "sales", DEMO_PASSWORD)
    seller.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()
    seller.goto(f"{server}/consent?contact={contact_id}")
    seller.get_by_role("heading", name="Consent", exact=True).first.wait_for()
    wait_until_idle(seller)
    seller.locator('input[aria-label="Subject"]').fill("Winter offers")
    seller.get_by_role("button", name="Log message").click()
    seller.get_by_text(re.compile("has withdrawn their consent to marketing")).first.wait_for()
    steps.shot(seller, "refused")

    seller.locator('input[aria-label="Subject"]').fill("Winter offers")
    seller.locator(f'input[aria-label="{OVERRIDE_LABEL}"]').fill(
        "Customer asked for this one brochure"
    )
    seller.get_by_role("button", name="Log message").click()
    seller.get_by_text("Marketing message logged.").first.wait_for()
    steps.shot(seller, "overridden")

    officer.goto(f"{server}/consent_audit")
    officer.get_by_role("heading", name="Consent audit").first.wait_for()
    wait_until_idle(officer)
    officer.get_by_role("button", name="Run the audit").click()
    officer.get_by_role(
        "heading", name=re.compile("Marketing sent without valid consent")
    ).wait_for(timeout=120_000)
    steps.shot(officer, "audit")
    officer.get_by_text(re.compile("reason: Customer asked for this one brochure")).first.wait_for()
