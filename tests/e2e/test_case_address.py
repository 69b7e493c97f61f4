"""In Chromium: each case has its own address; an excluded reviewer is told exactly what
a case that does not exist would tell them, and the attempt is on the audit log."""

import re
from typing import Any

from tests.e2e.case_helpers import audit_actions, raise_concern
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, sign_in, wait_until_idle

CONCERN = "My line manager, Remi, signs off overtime that was never worked."


def refusal(page: Any) -> str:
    alert = page.get_by_test_id("stAlertContentError").first
    alert.wait_for()
    return str(alert.inner_text()).strip()


def test_an_excluded_reviewer_gets_the_answer_of_a_missing_case_and_is_audited(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    submitted = raise_concern(server_env, CONCERN, exclude=("reviewer2",))
    excluded = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    excluded.set_default_timeout(45_000)
    sign_in(excluded, server, "reviewer2", DEMO_PASSWORD)
    excluded.goto(f"{server}/case?case={submitted.reference}")
    wait_until_idle(excluded)
    hidden = refusal(excluded)
    steps.shot(excluded, "excluded-reviewer")
    assert CONCERN not in excluded.get_by_test_id("stMain").inner_text()
    excluded.goto(f"{server}/case?case=C-ZZZZZZ")
    wait_until_idle(excluded)
    missing = refusal(excluded)
    # The same sentence, but for the reference typed: nothing tells the two apart.
    assert hidden == missing.replace("C-ZZZZZZ", submitted.reference)
    assert re.fullmatch(r"There is no case C-\w+ that you can open\.", hidden)
    assert ("case.open_excluded", "reviewer2") in audit_actions(server_env, submitted.reference)

    # A reviewer who may see it opens it by its address, as from a bookmark.
    reviewer = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    reviewer.set_default_timeout(45_000)
    sign_in(reviewer, server, "reviewer", DEMO_PASSWORD)
    reviewer.goto(f"{server}/case?case={submitted.reference.lower()}")
    reviewer.get_by_text(CONCERN).first.wait_for()
    wait_until_idle(reviewer)
    steps.shot(reviewer, "opened-by-address")
    assert ("case.open", "reviewer") in audit_actions(server_env, submitted.reference)
