"""The case pages through AppTest: intake, follow-up, the case page, insights."""

import datetime as dt

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.auth.accounts import get_user_by_username
from db.cases.intake import Submitted, reporter_reply, submit_concern
from db.cases.welfare import open_welfare_case
from db.core.engine import session_scope
from db.models.audit import AuditEvent
from db.models.cases import Case, ConcernCreate, WelfareCreate
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT

INJECTION = (
    "![tracker](http://evil.example/pixel.png) <img src=x onerror=alert(1)> "
    "[click](javascript:alert(1)) **loud**"
)


def raise_directly(engine: Engine, text: str) -> Submitted:
    with session_scope(engine) as session:
        return submit_concern(
            session=session,
            concern_in=ConcernCreate(category="misconduct", what_happened=text, where_when=text),
        )


def test_a_concern_raised_while_signed_in_is_still_linked_to_no_account(
    run_page: RunPage, app_engine: Engine
) -> None:
    at = run_page("pages/raise_concern.py", "reviewer")
    at.text_area(key="concern_what").input("Fire door propped open on level 2, every evening.")
    at.button(key="concern_send").click()
    at.run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert len(codes) == 2, [e.value for e in at.error]
    reference, receipt = codes
    assert receipt.count("-") == 4
    with session_scope(app_engine) as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        assert case.anonymous and case.contact_name is None and case.contact_id is None
        audit = session.exec(
            select(AuditEvent).where(
                AuditEvent.entity_id == reference, AuditEvent.action == "case.received"
            )
        ).one()
        assert audit.actor_id is None and audit.actor_name == "anonymous"
    # The receipt is shown until the reporter confirms they saved it.
    assert at.button(key="concern_done").disabled
    at.checkbox(key="concern_saved").check()
    at.run()
    at.button(key="concern_done").click()
    at.run()
    assert not at.code


def test_a_refused_concern_names_the_field_and_keeps_what_was_typed(run_page: RunPage) -> None:
    at = run_page("pages/raise_concern.py")
    at.radio(key="concern_identity").set_value("Leave my contact details")
    at.run()
    at.text_area(key="concern_what").input("Overtime sheets do not match.")
    at.text_input(key="concern_name").input("Sam")
    at.button(key="concern_send").click()
    at.run()
    assert any(e.value.startswith("Email or phone:") for e in at.error)
    assert at.text_area(key="concern_what").value == "Overtime sheets do not match."
    assert at.text_input(key="concern_name").value == "Sam"


def test_the_reporter_follows_up_with_the_receipt_and_replies(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, "Medication trolley left unlocked.")
    at = run_page("pages/follow_up.py")
    at.text_input(key="follow_reference").input(submitted.reference)
    at.text_input(key="follow_receipt").input(submitted.receipt.lower())
    at.button(key="follow_open").click()
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Status"] == "New"
    at.text_area(key="follow_message").input("It happened again tonight.")
    at.button(key="FormSubmitter:reporter_reply-Send").click()
    at.run()
    assert "It happened again tonight." in [t.value for t in at.text]


def test_a_wrong_receipt_is_refused_on_the_follow_up_page(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, "Calls dropped on hold.")
    at = run_page("pages/follow_up.py")
    at.text_input(key="follow_reference").input(submitted.reference)
    at.text_input(key="follow_receipt").input("AAAA-BBBB-CCCC-DDDD-EEEE")
    at.button(key="follow_open").click()
    at.run()
    assert any("do not match" in e.value for e in at.error)
    assert not at.metric


def test_markdown_and_html_in_a_concern_render_as_plain_text_on_the_case_page(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, INJECTION)
    at = run_page("pages/case.py", "reviewer")
    at.text_input(key="case_ref").input(submitted.reference)
    at.run()
    assert not at.exception
    assert INJECTION in [t.value for t in at.text]
    rendered_markup = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "evil.example" not in rendered_markup and "onerror" not in rendered_markup


def test_a_reviewer_acknowledges_a_case_from_the_case_page(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, "Hoist strap frayed in bay 4.")
    at = run_page("pages/case.py", "reviewer")
    at.text_input(key="case_ref").input(submitted.reference)
    at.run()
    at.text_area(key=f"ack_message_{submitted.reference}").input("Thank you, we are on it.")
    at.button(key="ack").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "**Acknowledged**" in [m.value for m in at.markdown]


def test_a_case_opened_once_and_then_worked_on_is_logged_as_one_open(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, "Night shift rota changed without notice.")
    at = run_page("pages/case.py", "reviewer")
    at.text_input(key="case_ref").input(submitted.reference)
    at.run()
    at.text_area(key=f"ack_message_{submitted.reference}").input("Thank you for telling us.")
    at.run()
    at.run()
    assert not at.exception
    with session_scope(app_engine) as session:
        opens = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "case.open", AuditEvent.entity_id == submitted.reference
            )
        ).all()
    assert len(opens) == 1


def test_the_queue_lists_open_cases_for_a_reviewer(run_page: RunPage) -> None:
    at = run_page("pages/case_queue.py", "reviewer")
    assert not at.exception
    assert at.dataframe, [e.value for e in at.error]


def test_a_manager_sees_insights_with_small_groups_withheld(run_page: RunPage) -> None:
    at = run_page("pages/case_insights.py", "manager")
    assert not at.exception
    assert at.title[0].value == "Case insights"
    assert any("fewer than 3" in c.value for c in at.caption)


def test_the_reviewer_home_shows_the_cases_panel(run_page: RunPage) -> None:
    at = run_page("app.py", "reviewer")
    labels = {m.label for m in at.metric}
    assert {"New concerns", "Overdue", "Assigned to you"} <= labels


def test_the_concern_form_says_so_when_this_browser_reached_its_limit(
    run_page: RunPage, app_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_SESSION", "1")
    at = run_page("pages/raise_concern.py")
    at.text_area(key="concern_what").input("The lift alarm has been silenced for a week.")
    at.button(key="concern_send").click()
    at.run()
    assert len(at.code) == 2
    at.checkbox(key="concern_saved").check()
    at.run()
    at.button(key="concern_done").click()
    at.run()
    at.text_area(key="concern_what").input("And the fire exit on level 3 is locked.")
    at.button(key="concern_send").click()
    at.run()
    assert not at.exception
    assert not at.code
    assert any("from this browser in the last hour" in e.value for e in at.error)
    assert at.text_area(key="concern_what").value == "And the fire exit on level 3 is locked."
    with session_scope(app_engine) as session:
        stored = session.exec(
            select(Case).where(Case.what_happened == "And the fire exit on level 3 is locked.")
        ).all()
        assert stored == []


def test_a_case_opens_at_its_address_and_typing_another_reference_moves_the_address(
    app_database: str, app_engine: Engine
) -> None:
    first = raise_directly(app_engine, "Keys to the drug cupboard left on the desk.")
    second = raise_directly(app_engine, "Agency staff have no login for the records system.")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/case.py")
    at.query_params["case"] = first.reference.lower()
    at.session_state["rapport_session_token"] = sign_in_token(app_database, "reviewer")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Keys to the drug cupboard left on the desk." in [t.value for t in at.text]
    at.text_input(key="case_ref").input(second.reference)
    at.run()
    assert "Agency staff have no login for the records system." in [t.value for t in at.text]
    assert at.query_params["case"] in (second.reference, [second.reference])


def test_a_welfare_case_shows_no_concern_only_fields(run_page: RunPage, app_engine: Engine) -> None:
    with session_scope(app_engine) as session:
        reviewer = get_user_by_username(session=session, username="reviewer")
        assert reviewer is not None
        made = open_welfare_case(
            session=session,
            actor=reviewer,
            welfare_in=WelfareCreate(
                person_name="Tomas Berg",
                reason="Back at work after a long illness.",
                first_check_in=dt.date.today(),
            ),
        )
    at = run_page("pages/case.py", "reviewer")
    at.text_input(key="case_ref").input(made.reference)
    at.run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "Back at work after a long illness." in texts
    assert not [t for t in texts if t.startswith("Urgency felt by the reporter")]
    assert "**Why they need support**" in [m.value for m in at.markdown]
    assert f"reply_message_{made.reference}" not in [a.key for a in at.text_area]


def test_the_intake_form_asks_the_categorys_questions_and_the_reviewer_reads_the_answers(
    run_page: RunPage, app_engine: Engine
) -> None:
    at = run_page("pages/raise_concern.py")
    at.selectbox(key="concern_category").set_value("health_safety")
    at.run()
    # Labels are markdown, so the question is escaped in them ("\\?" shows as "?").
    where = next(t for t in at.text_input if t.label.startswith("Where exactly is the hazard"))
    assert (where.key or "").startswith("concern_q_")
    at.text_area(key="concern_what").input("A loose floor tile trips people.")
    where.input("By the lift on level 2")
    at.button(key="concern_send").click()
    at.run()
    assert not at.exception
    reference = at.code[0].value
    reviewer = run_page("pages/case.py", "reviewer")
    reviewer.text_input(key="case_ref").input(reference)
    reviewer.run()
    assert "Where exactly is the hazard? By the lift on level 2" in [t.value for t in reviewer.text]


def test_the_queue_marks_a_reporters_reply_and_filters_to_unread(
    run_page: RunPage, app_engine: Engine
) -> None:
    submitted = raise_directly(app_engine, "Cleaning rota ignores the isolation rooms.")
    with session_scope(app_engine) as session:
        reporter_reply(
            session=session,
            reference=submitted.reference,
            receipt=submitted.receipt,
            text="It happened again.",
        )
    at = run_page("pages/case_queue.py", "reviewer")
    at.checkbox(key="queue_unread").check()
    at.text_input(key="queue_search").input("isolation rooms")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Reference"]) == [submitted.reference]
    assert list(table["New"]) == ["New reply"]
