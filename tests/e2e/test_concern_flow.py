"""In Chromium: an anonymous reporter raises a concern, a reviewer acknowledges and
replies, and the reporter reads the reply with the receipt code."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
    wait_until_idle,
)

CONCERN = "The medication trolley on ward 7 is left unlocked during the evening round."
REPLY = (
    "Thank you. The ward manager has fitted a self-locking trolley; please tell us if it recurs."
)


def test_a_reporter_reads_the_reviewers_reply_with_the_receipt(
    browser: Any, server: str, steps: Steps
) -> None:
    reporter = new_page(browser)
    reporter.goto(f"{server}/raise_concern")
    reporter.get_by_role("heading", name="Raise a concern").first.wait_for()
    wait_until_idle(reporter)
    reporter.locator('textarea[aria-label="What happened"]').fill(CONCERN)
    steps.shot(reporter, "concern-form")
    reporter.get_by_role("button", name="Send my concern").click()
    reporter.get_by_text("Your concern has been received.").first.wait_for()
    codes = reporter.locator('[data-testid="stCode"] code')
    codes.nth(1).wait_for()
    reference, receipt = (codes.nth(i).inner_text().strip() for i in range(2))
    assert re.fullmatch(r"C-[2-9A-Z]{6}", reference)
    assert re.fullmatch(r"([2-9A-Z]{4}-){4}[2-9A-Z]{4}", receipt)
    steps.shot(reporter, "receipt-shown")
    # Nobody is signed in on the reporter's browser, and no cookie was set for the concern.
    assert not [c for c in reporter.context.cookies() if c["name"] == "rapport_session"]

    reviewer = new_page(browser)
    sign_in(reviewer, server, "reviewer", DEMO_PASSWORD)
    reviewer.get_by_role("heading", name=re.compile("Good to see you, Rui")).first.wait_for()
    reviewer.get_by_role("link", name="Case", exact=True).click()
    reviewer.get_by_role("heading", name="Case", exact=True).first.wait_for()
    wait_until_idle(reviewer)
    field(reviewer, "Case reference").fill(reference)
    field(reviewer, "Case reference").press("Enter")
    reviewer.get_by_text(CONCERN).first.wait_for()
    steps.shot(reviewer, "case-opened")
    reviewer.locator(
        'textarea[aria-label="Acknowledgement message to the reporter (optional)"]'
    ).fill("We have received your concern.")
    reviewer.get_by_role("button", name="Acknowledge").click()
    reply_box = reviewer.locator('textarea[aria-label="Message to the reporter"]')
    reply_box.wait_for()
    reply_box.fill(REPLY)
    reviewer.get_by_role("button", name="Send to reporter").click()
    reviewer.get_by_text("message to reporter").nth(1).wait_for(state="attached")
    steps.shot(reviewer, "replied")

    reporter.goto(f"{server}/follow_up")
    reporter.get_by_role("heading", name="Follow up a concern").first.wait_for()
    wait_until_idle(reporter)
    field(reporter, "Case reference").fill(reference)
    field(reporter, "Receipt code").fill(receipt)
    reporter.get_by_role("button", name="Open my case").click()
    reporter.get_by_text(REPLY).first.wait_for()
    reporter.get_by_text("We have received your concern.").first.wait_for()
    steps.shot(reporter, "reply-read")
    assert reporter.get_by_text("Acknowledged").count() >= 1
