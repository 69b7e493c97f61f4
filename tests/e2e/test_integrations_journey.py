"""In Chromium: an admin registers a webhook, a concern arrives, one pass of the worker
sends it signed to a receiver and emails the reviewers; the reviewer sees it on Home."""

import re
from typing import Any

from sqlalchemy import create_engine
from sqlmodel import Session

from db.cases.intake import submit_concern
from db.models.cases import ConcernCreate
from tests.e2e.conftest import Steps, manage
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    TIMEOUT,
    field,
    sign_in,
    wait_until_idle,
)
from tests.smtp_sink import smtp_sink
from tests.webhook_receiver import webhook_receiver

MARKER = "only-the-reporter-knows-8e1c"


def laptop(browser: Any) -> Any:
    """A page the size of a laptop's screen."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def test_a_concern_reaches_a_signed_webhook_and_the_reviewers_inbox_and_home(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    admin = laptop(browser)
    sign_in(admin, server, "admin", DEMO_PASSWORD)
    admin.get_by_role("link", name="Webhooks", exact=True).click()
    admin.get_by_role("heading", name="Webhooks").first.wait_for()
    with webhook_receiver() as receiver:
        field(admin, "URL").fill(receiver.url)
        field(admin, "What receives it (optional)").fill("The case-management bridge")
        events = admin.locator('input[aria-label="Events"]').first
        events.click()
        events.fill("concern.received")
        events.press("Enter")
        admin.keyboard.press("Escape")
        admin.get_by_role("button", name="Register").click()
        admin.get_by_text("Copy this signing secret now").first.wait_for()
        wait_until_idle(admin)
        steps.shot(admin, "webhook-registered-secret-once")
        receiver.secret = admin.locator('[data-testid="stCode"] code').first.inner_text().strip()
        assert receiver.secret.startswith("whsec_")

        engine = create_engine(server_env["RAPPORT_DATABASE_URL"])
        with Session(engine) as session:
            submitted = submit_concern(
                session=session,
                concern_in=ConcernCreate(
                    category="safeguarding", what_happened=f"A child was left alone. {MARKER}"
                ),
                receipt_log2n=10,
            )
        engine.dispose()
        with smtp_sink() as (port, mailbox):
            out = manage(
                {**server_env, "RAPPORT_SMTP_HOST": "127.0.0.1", "RAPPORT_SMTP_PORT": str(port)},
                "worker",
            )
        assert "webhooks: ran: 1 delivered" in out, out

    (hit,) = [h for h in receiver.hits if h.kind == "concern.received"]
    assert hit.signed and hit.answered == 200 and MARKER.encode() not in hit.body
    # Other tests' concerns may be waiting on the same server's database: count the
    # emails about this one (each names its case, never what was written).
    told = sorted(
        str(m["To"])
        for m in mailbox.messages
        if "A new concern" in str(m["Subject"]) and submitted.reference in m.as_string()
    )
    assert told == ["reviewer2@example.org", "reviewer@example.org"], told
    assert all(MARKER not in m.as_string() for m in mailbox.messages)

    admin.reload()
    admin.get_by_role("heading", name="Deliveries").first.wait_for()
    wait_until_idle(admin)
    steps.shot(admin, "webhook-deliveries")

    reviewer = laptop(browser)
    sign_in(reviewer, server, "reviewer", DEMO_PASSWORD)
    reviewer.get_by_role("heading", name=re.compile("Notifications")).first.wait_for()
    link = reviewer.get_by_role("link", name=re.compile(f"case {submitted.reference}"))
    link.first.wait_for()
    assert reviewer.get_by_text(MARKER).count() == 0
    steps.shot(reviewer, "home-notifications")

    reviewer.get_by_role("link", name="Notifications", exact=True).click()
    reviewer.get_by_role("heading", name="What you are told").first.wait_for()
    wait_until_idle(reviewer)
    steps.shot(reviewer, "notification-settings")
    reviewer.get_by_text("A reporter replies on a case").click()
    reviewer.get_by_role("button", name="Save").click()
    reviewer.get_by_text("Saved. From now on").first.wait_for()
    steps.shot(reviewer, "notification-settings-saved")
