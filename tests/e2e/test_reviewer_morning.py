"""In Chromium, at 1366 px: a reviewer's morning. Three cases opened from the queue by
clicking their rows, a question to one reporter, feedback marked on another, evidence a
reporter attached downloaded from the third, and a case reopened from its bookmark."""

import re
from pathlib import Path
from typing import Any

from tests.e2e.case_helpers import case_row, click_row, photo_with_exif, raise_concern, row_of
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, field, sign_in, wait_until_idle

WORD = "Kestrelwing"
STORIES = (
    f"{WORD} ward: agency staff are not given the allergy handover sheet.",
    f"{WORD} ward: the sharps bin in the sluice room is overfull every weekend.",
    f"{WORD} ward: a senior nurse mocks the night team in the group chat.",
)


def attach_on_follow_up(browser: Any, server: str, reference: str, receipt: str) -> None:
    reporter = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    reporter.set_default_timeout(45_000)
    reporter.goto(f"{server}/follow_up")
    reporter.get_by_role("heading", name="Follow up a concern").first.wait_for()
    wait_until_idle(reporter)
    field(reporter, "Case reference").fill(reference)
    field(reporter, "Receipt code").fill(receipt)
    reporter.get_by_role("button", name="Open my case").click()
    reporter.get_by_text("Messages and updates").first.wait_for()
    wait_until_idle(reporter)
    reporter.locator('textarea[aria-label="Your message"]').fill("A photo of the chat on the wall.")
    reporter.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo_with_exif()}]
    )
    reporter.get_by_text("IMG_0001.jpg").first.wait_for()
    wait_until_idle(reporter)
    reporter.get_by_role("button", name="Send").click()
    reporter.get_by_text("Sent. The case team will see your message.").first.wait_for()
    reporter.context.close()


def open_from_queue(page: Any, server: str, reference: str) -> str:
    page.get_by_role("link", name="Case queue").click()
    page.wait_for_url("**/case_queue")
    wait_until_idle(page)
    search = field(page, "Search your cases")
    if search.input_value() != WORD:
        search.fill(WORD)
        search.press("Enter")
        wait_until_idle(page)
    page.get_by_text("Showing 1–3 of 3").first.wait_for()
    click_row(page, row_of(page, reference), leads_to=re.compile(r".*/case\?case=C-\w+$"))
    wait_until_idle(page)
    return str(page.url.rsplit("=", 1)[1])


def test_a_reviewers_morning(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps, tmp_path: Path
) -> None:
    made = [
        raise_concern(server_env, story, category="patient_safety", acknowledged_by="reviewer")
        for story in STORIES
    ]
    by_reference = {m.reference: story for m, story in zip(made, STORIES, strict=True)}
    attach_on_follow_up(browser, server, made[2].reference, made[2].receipt)

    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(45_000)
    sign_in(page, server, "reviewer", DEMO_PASSWORD)
    page.goto(f"{server}/case_queue")
    wait_until_idle(page)
    open_from_queue(page, server, made[0].reference)
    page.get_by_role("link", name="Case queue").click()
    page.wait_for_url("**/case_queue")
    # The table's cells are drawn on a canvas; their text is in the grid's accessible cells.
    page.get_by_text("New reply").first.wait_for(state="attached")
    wait_until_idle(page)
    steps.shot(page, "queue-1366")

    opened = []
    # The first case: a question to the reporter does not stop the feedback clock.
    first = open_from_queue(page, server, made[0].reference)
    opened.append(first)
    page.get_by_text(by_reference[first]).first.wait_for()
    steps.shot(page, "case-1366")
    page.locator('textarea[aria-label="Message to the reporter"]').fill(
        "Which shifts were affected?"
    )
    page.get_by_role("button", name="Send to reporter").click()
    page.get_by_text("Message sent.").first.wait_for()
    wait_until_idle(page)
    # Sent, so the box is empty again: the words cannot be sent twice.
    sent_box = page.locator('textarea[aria-label="Message to the reporter"]')
    assert sent_box.input_value() == ""
    assert case_row(server_env, first).feedback_at is None
    bookmark = page.url

    # The second: feedback on the action taken, marked as such, stops it.
    second = open_from_queue(page, server, made[1].reference)
    opened.append(second)
    page.get_by_text(by_reference[second]).first.wait_for()
    page.locator('textarea[aria-label="Message to the reporter"]').fill(
        "The ward manager has changed the handover so every shift gets the sheet."
    )
    page.get_by_text("This is feedback on the action taken or planned").click()
    page.get_by_role("button", name="Send to reporter").click()
    page.get_by_text("Feedback sent.").first.wait_for()
    wait_until_idle(page)
    page.get_by_text("Feedback given").first.wait_for()
    assert case_row(server_env, second).feedback_at is not None

    # The third: the reporter's photo, downloaded.
    third = open_from_queue(page, server, made[2].reference)
    opened.append(third)
    assert set(opened) == set(by_reference)
    assert [first, second, third] == [m.reference for m in made]
    page.get_by_text("Evidence (1)").first.wait_for()
    with page.expect_download() as event:
        page.get_by_role("button", name=re.compile("photo-1.jpg")).click()
    saved = tmp_path / event.value.suggested_filename
    event.value.save_as(saved)
    assert saved.read_bytes().startswith(b"\xff\xd8") and b"Okafor" not in saved.read_bytes()
    steps.shot(page, "third-case")

    # A bookmark opens the first case again, in a new tab of the same browser.
    again = context.new_page()
    again.set_default_timeout(45_000)
    again.goto(bookmark)
    again.get_by_text(by_reference[first]).first.wait_for()
    wait_until_idle(again)
    steps.shot(again, "bookmark")
    assert f"case={first}" in again.url
