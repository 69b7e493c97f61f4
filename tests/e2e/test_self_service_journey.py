"""In Chromium, as a member of the public: open the preference link from an email and
withdraw marketing by email (the privacy officer sees it on Consent, the audit counts
it); a one-click POST from a mail client withdraws another purpose; ask "what do you hold
on me?", confirm by the emailed code and download the answer once the officer releases
it; ask a question on Ask us choosing a phone call, which the salesperson sees on Home."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.consent.audit.report import run_audit
from db.consent.preferences import marketing_email, send_preference_link
from db.consent.records import latest_notice, record_consent
from db.core.engine import make_engine, session_scope
from db.core.types import utcnow
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentSource,
    PrivacyRequest,
)
from db.models.people import Channel, ContactCreate, Direction, Interaction, Purpose
from db.people.contacts import create_contact
from tests.api.conftest import start_server, stop_server
from tests.conftest import ROOT
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle
from tests.smtp_sink import Mailbox, smtp_sink

EMAIL = "jo.public@example.org"


@pytest.fixture(scope="module")
def mail() -> Iterator[Mailbox]:
    with smtp_sink() as (port, box):
        saved = {k: os.environ.get(k) for k in ("RAPPORT_SMTP_HOST", "RAPPORT_SMTP_PORT")}
        os.environ["RAPPORT_SMTP_HOST"] = "127.0.0.1"
        os.environ["RAPPORT_SMTP_PORT"] = str(port)
        yield box
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def site(
    mail: Mailbox, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A server of its own that sends mail to the sink; (its address, its database)."""
    folder = tmp_path_factory.mktemp("self-service")
    env = dict(os.environ)
    env["RAPPORT_DATABASE_URL"] = f"sqlite:///{folder / 'rapport.db'}"
    for command in (["migrate"], ["seed", "--if-empty"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    process, url = start_server(env, folder / "server.log")
    yield url, env["RAPPORT_DATABASE_URL"]
    stop_server(process)


def _code(box: Mailbox) -> str:
    body = box.messages[-1].get_content()  # type: ignore[attr-defined]
    found = re.search(r"(\d{4}) (\d{4})", body)
    assert found is not None, body
    return found.group(1) + found.group(2)


def _prepare(database: str, server: str) -> tuple[int, str]:
    """Jo, a customer of the salesperson, agreed to two marketing purposes by email; the
    newsletter for one goes out (its unsubscribe URL is kept) and Jo is emailed the link."""
    engine = make_engine(database)
    try:
        with session_scope(engine) as session:
            sales = get_user_by_username(session=session, username="sales")
            assert sales is not None
            jo = create_contact(
                session=session,
                contact_in=ContactCreate(
                    given_name="Jo", family_name="Public", email=EMAIL, owner_id=sales.id
                ),
                actor=OPERATOR,
            )
            for code in ("marketing", "customer-offers"):
                purpose = session.exec(
                    select(ConsentPurpose).where(col(ConsentPurpose.code) == code)
                ).one()
                notice = latest_notice(session=session, purpose_id=purpose.id or 0)
                assert notice is not None
                record_consent(
                    session=session,
                    event_in=ConsentEventCreate(
                        contact_id=jo.id or 0,
                        purpose_id=purpose.id or 0,
                        channel=ConsentChannel.email,
                        action=ConsentAction.grant,
                        notice_id=notice.id,
                        source=ConsentSource.web_form,
                        occurred_at=utcnow() - timedelta(hours=1),
                    ),
                    actor=OPERATOR,
                )
            message = marketing_email(
                session=session,
                contact_id=jo.id or 0,
                purpose_code="customer-offers",
                subject="Offers",
                body="Hello Jo",
                actor=OPERATOR,
            )
            session.commit()
            one_click = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])[0]
            send_preference_link(session=session, contact_id=jo.id or 0, actor=OPERATOR)
            return jo.id or 0, server + "/" + one_click.split("://", 1)[1].split("/", 1)[1]
    finally:
        engine.dispose()


def _states(database: str, contact_id: int) -> dict[str, str]:
    engine = make_engine(database)
    try:
        with session_scope(engine) as session:
            rows = session.exec(
                select(ConsentPurpose.code, ConsentEvent)
                .join(ConsentEvent, col(ConsentEvent.purpose_id) == col(ConsentPurpose.id))
                .where(col(ConsentEvent.contact_id) == contact_id)
                .order_by(col(ConsentEvent.seq))
            ).all()
            return {code: f"{e.action}:{e.source}" for code, e in rows}
    finally:
        engine.dispose()


def test_a_member_of_the_public_helps_themselves(
    browser: Any, site: tuple[str, str], mail: Mailbox, steps: Steps, tmp_path: Path
) -> None:
    server, database = site
    jo_id, one_click = _prepare(database, server)
    link_mail = mail.messages[-1]
    assert link_mail["To"] == EMAIL
    link = re.search(r"https?://\S+/preferences\?token=\S+", link_mail.get_content())  # type: ignore[attr-defined]
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]

    # 1. The preference centre, from the link in the email: withdraw marketing by email.
    person = new_page(browser)
    person.goto(f"{server}/{path}")
    person.get_by_role("heading", name="Your preferences").first.wait_for()
    wait_until_idle(person)
    # One "Email" switch per purpose, in the order of the purposes' headings.
    titles = [t.strip() for t in person.locator("h3").all_inner_texts()]
    in_sidebar = person.locator('[data-testid="stSidebar"] h3').count()
    position = titles.index("Marketing news and offers") - in_sidebar
    switch = person.get_by_label("Email", exact=True).nth(position)
    assert switch.is_checked()
    steps.shot(person, "preferences")
    switch.click(force=True)
    person.get_by_text("Saved: we will stop.").first.wait_for()
    wait_until_idle(person)
    steps.shot(person, "withdrawn")
    assert _states(database, jo_id)["marketing"] == "withdraw:self_service"

    officer = new_page(browser)
    sign_in(officer, server, "privacy", DEMO_PASSWORD)
    officer.goto(f"{server}/consent?contact={jo_id}")
    officer.get_by_text("self_service").first.wait_for(state="attached")
    wait_until_idle(officer)
    steps.shot(officer, "officer-sees-withdrawal")

    # 2. A mail client's one-click POST withdraws the other purpose.
    response = httpx.post(one_click, content="List-Unsubscribe=One-Click", timeout=15)
    assert response.status_code == 200
    assert _states(database, jo_id)["customer-offers"] == "withdraw:self_service"

    # The next audit measures these real opt-outs: a message sent after them is caught.
    engine = make_engine(database)
    try:
        with session_scope(engine) as session:
            session.add(
                Interaction(
                    contact_id=jo_id,
                    channel=Channel.email,
                    direction=Direction.outbound,
                    purpose=Purpose.marketing,
                    subject="Already queued newsletter",
                    occurred_at=utcnow(),
                )
            )
            session.commit()
            report = run_audit(
                session=session, actor=OPERATOR, until=utcnow().date() + timedelta(days=1)
            )
            latency = next(f for f in report.findings if f.key == "opt_out_latency")
            assert latency.summary["opt_outs_followed_by_marketing"] >= 1
            violations = next(f for f in report.findings if f.key == "violations")
            assert any(r.get("contact_id") == jo_id for r in violations.rows)
    finally:
        engine.dispose()

    # 3. "What do you hold on me?", confirmed by the emailed code.
    person.goto(f"{server}/my_data")
    person.get_by_role("heading", name="Your data and your rights").first.wait_for()
    wait_until_idle(person)
    person.locator('input[aria-label="Your email address"]').fill(EMAIL)
    person.get_by_role("button", name="Send me a code").click()
    person.locator('input[aria-label="Code from the email"]').wait_for()
    wait_until_idle(person)
    person.locator('input[aria-label="Code from the email"]').fill(_code(mail))
    person.get_by_role("button", name="Register my request").click()
    person.get_by_text("Your request is registered.").first.wait_for()
    steps.shot(person, "request-registered")
    reference = re.search(
        r"R-[A-Z0-9]{5}-[A-Z0-9]{5}", person.get_by_text("Your request is registered.").inner_text()
    )
    assert reference is not None

    engine = make_engine(database)
    try:
        with session_scope(engine) as session:
            request = session.exec(
                select(PrivacyRequest).where(col(PrivacyRequest.reference) == reference.group(0))
            ).one()
            assert request.contact_id == jo_id and request.verified_at is not None
            request_id = request.id
    finally:
        engine.dispose()
    officer.goto(f"{server}/privacy_requests?request={request_id}")
    officer.get_by_role("heading", name="Data-subject requests").first.wait_for()
    wait_until_idle(officer)
    officer.get_by_role("tab", name="Work on a request").click()
    officer.get_by_role("button", name="Complete: produce the export").click()
    officer.get_by_text("Access request completed.").first.wait_for()
    wait_until_idle(officer)
    steps.shot(officer, "officer-released")

    person.get_by_role("tab", name="Follow a request").click()
    person.locator('input[aria-label="Reference"]').fill(reference.group(0))
    person.locator('input[aria-label="Reference"]').press("Enter")
    person.get_by_role("button", name="Email me a code to download").click()
    person.locator('input[aria-label="Code from the email"]').wait_for()
    wait_until_idle(person)
    person.locator('input[aria-label="Code from the email"]').fill(_code(mail))
    person.get_by_role("button", name="Show my download").click()
    person.get_by_text("Your data is ready.").first.wait_for()
    wait_until_idle(person)
    steps.shot(person, "download-ready")
    with person.expect_download() as download:
        person.get_by_role("button", name="Download your data (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["contact"]["email"] == EMAIL
    assert any(e["source"] == "self_service" for e in data["records"]["consent_event"])

    # 4. Ask us, answer by phone: the salesperson sees the task and the waiting person.
    person.goto(f"{server}/ask_us")
    person.get_by_role("heading", name="Ask us").first.wait_for()
    wait_until_idle(person)
    person.locator('textarea[aria-label="Your question"]').fill("Can you call me about my order?")
    person.locator('input[aria-label="Your name"]').fill("Jo Public")
    person.get_by_text("Phone call", exact=True).click()
    person.locator('input[aria-label="Email address"]').fill(EMAIL)
    person.locator('input[aria-label="Phone number"]').fill("+44 20 7946 0777")
    person.get_by_role("button", name="Send my question").click()
    person.get_by_text("your question is with the team").first.wait_for()
    steps.shot(person, "asked")

    seller = new_page(browser)
    sign_in(seller, server, "sales", DEMO_PASSWORD)
    seller.get_by_role("heading", name="Questions from the Ask us page").first.wait_for()
    seller.get_by_role(
        "link",
        name=re.compile(
            "Jo Public is waiting · Answer a question from the Ask us page: phone call"
        ),
    ).first.wait_for()
    steps.shot(seller, "sales-home")
