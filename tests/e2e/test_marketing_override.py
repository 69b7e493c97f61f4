"""In Chromium: a refused marketing email on Contact 360 keeps what was typed, and the
override the refusal asks for is right there on the form."""

from typing import Any

from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine, session_scope
from db.models.people import ContactCreate
from db.people.contacts import create_contact
from tests.e2e.conftest import Steps
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
    wait_until_idle,
)


def new_contact(env: dict[str, str]) -> int:
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            seller = get_user_by_username(session=session, username="sales")
            assert seller is not None
            made = create_contact(
                session=session,
                contact_in=ContactCreate(given_name="Odile", family_name="Brandt"),
                actor=seller,
            )
            return made.id or 0
    finally:
        engine.dispose()


def test_a_refused_marketing_email_keeps_the_form_and_is_logged_with_an_override(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    contact_id = new_contact(server_env)
    page = new_page(browser)
    sign_in(page, server, "sales", DEMO_PASSWORD)
    page.goto(f"{server}/contact?id={contact_id}")
    page.get_by_text("Odile").first.wait_for()
    wait_until_idle(page)
    # The channel about to be used is email (the first), as the button says.
    page.get_by_role("tab", name="Log interaction").click()
    choose(page, "Purpose", "marketing")
    field(page, "Subject").first.fill("Autumn offers")
    page.locator('textarea[aria-label="Notes"]').first.fill("Two for one on workshops.")
    page.get_by_role("button", name="Log email").click()
    page.get_by_text("has never agreed to marketing").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "refused")
    assert field(page, "Subject").first.input_value() == "Autumn offers"
    assert (
        page.locator('textarea[aria-label="Notes"]').first.input_value()
        == "Two for one on workshops."
    )
    override = field(page, "Override reason (marketing without consent only)")
    override.fill("Contractual notice of the price change")
    page.get_by_role("button", name="Log email").click()
    page.get_by_text("Logged the email.").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "logged-with-override")
    assert field(page, "Subject").first.input_value() == ""
