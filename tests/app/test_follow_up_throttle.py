"""The follow-up page throttles the browser session that guesses, never the reporter's."""

from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from db.cases.intake import FREE_ATTEMPTS, Submitted, submit_concern
from db.core.engine import session_scope
from db.models.cases import ConcernCreate
from tests.app.conftest import RunPage

WRONG = "AAAA-BBBB-CCCC-DDDD-EEEE"


def raised(engine: Engine) -> Submitted:
    with session_scope(engine) as session:
        return submit_concern(
            session=session,
            concern_in=ConcernCreate(category="misconduct", what_happened="Petty cash missing."),
        )


def try_code(at: AppTest, reference: str, receipt: str) -> AppTest:
    at.text_input(key="follow_reference").input(reference)
    at.text_input(key="follow_receipt").input(receipt)
    at.button(key="follow_open").click()
    return at.run()


def test_a_stranger_guessing_at_a_reference_locks_out_only_their_own_browser(
    run_page: RunPage, app_engine: Engine
) -> None:
    sent = raised(app_engine)
    stranger = run_page("pages/follow_up.py")
    for _ in range(FREE_ATTEMPTS):
        try_code(stranger, sent.reference, WRONG)
        assert any("do not match" in e.value for e in stranger.error)
    try_code(stranger, sent.reference, sent.receipt)
    assert any("Too many wrong receipt codes" in e.value for e in stranger.error)
    assert not stranger.metric
    # An unknown reference reads the same in the stranger's browser: it is refused first.
    try_code(stranger, "C-NOSUCH", WRONG)
    assert any("Too many wrong receipt codes" in e.value for e in stranger.error)

    reporter = run_page("pages/follow_up.py")
    try_code(reporter, sent.reference, sent.receipt)
    assert not reporter.exception and not reporter.error
    assert {m.label: m.value for m in reporter.metric}["Status"] == "New"
