"""In Chromium: a draft written on one case never appears on another."""

from typing import Any

from tests.e2e.case_helpers import raise_concern
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, field, sign_in, wait_until_idle

FIRST = "The rota for the night team is changed without notice every other week."
SECOND = "A supplier's gift vouchers were handed out to two managers in March."


def boxes(page: Any) -> tuple[Any, Any]:
    return (
        page.locator('textarea[aria-label="Message to the reporter"]'),
        page.locator('textarea[aria-label="Internal note (never shown to the reporter)"]'),
    )


def test_a_draft_on_one_case_never_appears_on_another(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    first = raise_concern(server_env, FIRST, acknowledged_by="reviewer")
    second = raise_concern(server_env, SECOND, acknowledged_by="reviewer")
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_default_timeout(45_000)
    sign_in(page, server, "reviewer", DEMO_PASSWORD)
    page.goto(f"{server}/case?case={first.reference}")
    page.get_by_text(FIRST).first.wait_for()
    wait_until_idle(page)
    reply, note = boxes(page)
    reply.fill("Which week did this start? (for the rota case)")
    note.fill("Rota case: ask HR for the change log.")
    page.get_by_role("tab", name="Assign").click()
    page.locator('input[aria-label="Why"]').fill("Line manager of the night team")
    steps.shot(page, "drafts-on-first-case")

    # Typing another case's reference into the Case box opens that case, empty.
    field(page, "Case reference").fill(second.reference)
    field(page, "Case reference").press("Enter")
    page.get_by_text(SECOND).first.wait_for()
    wait_until_idle(page)
    assert f"case={second.reference}" in page.url
    reply, note = boxes(page)
    assert reply.input_value() == ""
    assert note.input_value() == ""
    # Its own tab is open (the first one), not the tab chosen on the other case.
    assert page.get_by_role("tab", name="Assess").get_attribute("aria-selected") == "true"
    page.get_by_role("tab", name="Assign").click()
    assert page.locator('input[aria-label="Why"]').input_value() == ""
    body = page.get_by_test_id("stMain").inner_text()
    assert "rota case" not in body.lower() and "Rota case" not in body
    steps.shot(page, "second-case-has-no-drafts")

    # Drafts written here stay here: back on the first case, nothing of this one shows.
    reply.fill("Thank you: the vouchers case is with the finance director.")
    field(page, "Case reference").fill(first.reference)
    field(page, "Case reference").press("Enter")
    page.get_by_text(FIRST).first.wait_for()
    wait_until_idle(page)
    reply, note = boxes(page)
    assert "vouchers" not in reply.input_value()
    steps.shot(page, "first-case-again")
