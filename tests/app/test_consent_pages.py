"""The consent pages do their jobs through the UI, on the seeded demo world."""

from streamlit.testing.v1 import AppTest

from db.auth.accounts import get_user_by_username
from db.consent.records import list_purposes, update_purpose
from db.core.engine import make_engine, session_scope
from db.models.consent import ConsentPurposeUpdate
from db.people.contacts import ContactFilter, find_contacts
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT


def a_contact_of(url: str, owner: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            actor = get_user_by_username(session=session, username=owner)
            assert actor is not None
            found, _ = find_contacts(
                session=session, actor=actor, flt=ContactFilter(owner_id=actor.id)
            )
            return found[0].id or 0
    finally:
        engine.dispose()


def consent_page(url: str, username: str, contact_id: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/consent.py")
    at.query_params["contact"] = str(contact_id)
    at.session_state["rapport_session_token"] = sign_in_token(url, username)
    return at.run()


def test_a_privacy_officer_records_a_withdrawal_in_one_step(
    run_page: RunPage, app_database: str
) -> None:
    contact_id = a_contact_of(app_database, "sales")
    at = consent_page(app_database, "privacy", contact_id)
    assert not at.exception, [e.value for e in at.exception]
    at.radio(key="ca").set_value("withdraw")
    at.text_input(key="ce").input("Asked by phone to stop")
    at.button(key="FormSubmitter:record_consent-Record").click()
    at.run()
    assert any("Recorded: withdraw" in s.value for s in at.success), (
        [e.value for e in at.error],
        [i.value for i in at.info],
        [s.value for s in at.subheader],
        at.query_params,
    )
    history = at.dataframe[1].value
    assert "Asked by phone to stop" in set(history["Evidence"])


def test_a_sales_user_is_refused_a_marketing_message_without_consent(
    run_page: RunPage, app_database: str
) -> None:
    contact_id = a_contact_of(app_database, "sales")
    privacy = consent_page(app_database, "privacy", contact_id)
    privacy.radio(key="ca").set_value("withdraw")
    privacy.selectbox(key="cc").set_value(privacy.selectbox(key="cc").options[-1])
    privacy.button(key="FormSubmitter:record_consent-Record").click()
    privacy.run()
    at = consent_page(app_database, "sales", contact_id)
    at.text_input(key="ms").input("Winter offers")
    at.button(key="FormSubmitter:log_marketing-Log message").click()
    at.run()
    assert any("withdrawn" in e.value or "never agreed" in e.value for e in at.error), [
        e.value for e in at.error
    ]


def test_the_audit_runs_and_shows_seven_findings_and_a_chart(run_page: RunPage) -> None:
    at = run_page("pages/consent_audit.py", "privacy")
    at.button(key="run_audit").click()
    at.run(timeout=60)
    assert not at.exception, [e.value for e in at.exception]
    findings = [s.value for s in at.subheader if s.value[:1].isdigit()]
    assert len(findings) == 7, findings
    assert any(m.label == "Count" for m in at.metric)


def test_the_requests_page_lists_the_demo_requests(run_page: RunPage) -> None:
    at = run_page("pages/privacy_requests.py", "privacy")
    assert not at.exception
    at.selectbox(key="dsr_status").set_value("all")
    at.run()
    assert len(at.dataframe[0].value) >= 5


def test_the_purposes_page_lists_purposes_and_frozen_notices(run_page: RunPage) -> None:
    at = run_page("pages/purposes.py", "privacy")
    assert not at.exception
    assert "marketing" in set(at.dataframe[0].value["Code"])
    assert any("in use (frozen)" in m.value for m in at.markdown)


def test_privacy_home_shows_overdue_requests_and_violations(run_page: RunPage) -> None:
    at = run_page("app.py", "privacy")
    labels = {m.label for m in at.metric}
    assert {"Overdue data-subject requests", "Marketing violations, last 7 days"} <= labels


def test_a_privacy_officer_verifies_identity_on_an_open_request(run_page: RunPage) -> None:
    at = run_page("pages/privacy_requests.py", "privacy")
    at.selectbox(key="dsr_method").set_value("Call back to the phone number on file")
    at.text_area(key="dsr_verify_note").input("Called the number on file; they confirmed.")
    at.button(key="FormSubmitter:verify-Record verification").click()
    at.run()
    assert any("verification recorded" in s.value for s in at.success), [e.value for e in at.error]


def test_a_privacy_officer_edits_a_purpose_and_sees_the_new_version(run_page: RunPage) -> None:
    at = run_page("pages/purposes.py", "privacy")
    options = at.selectbox(key="pe").options
    at.selectbox(key="pe").select_index(next(i for i, p in enumerate(options) if "(research)" in p))
    at.run()
    months = next(n for n in at.number_input if n.label == "Refresh period (months)")
    months.set_value(18)
    at.button(key="FormSubmitter:edit_purpose-Save changes").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("is now version" in s.value for s in at.success), [e.value for e in at.error]
    table = at.dataframe[0].value
    assert int(table.loc[table["Code"] == "research", "Refresh (months)"].iloc[0]) == 18


def test_a_purpose_edit_after_someone_elses_is_refused_with_a_reload_hint(
    run_page: RunPage, app_database: str
) -> None:
    at = run_page("pages/purposes.py", "privacy")
    options = at.selectbox(key="pe").options
    at.selectbox(key="pe").select_index(next(i for i, p in enumerate(options) if "(research)" in p))
    at.run()
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            officer = get_user_by_username(session=session, username="privacy")
            research = next(p for p in list_purposes(session=session) if p.code == "research")
            update_purpose(
                session=session,
                purpose_id=research.id or 0,
                patch=ConsentPurposeUpdate(description="Changed in another browser."),
                version=research.version,
                actor=officer,  # type: ignore[arg-type]
            )
    finally:
        engine.dispose()
    at.run()
    assert any("Someone else changed this purpose" in w.value for w in at.warning)
    at.button(key="FormSubmitter:edit_purpose-Save changes").click()
    at.run()
    assert any("changed by someone else" in e.value for e in at.error), [
        s.value for s in at.success
    ]
    at.button(key="purpose_reload").click()
    at.run()
    assert not any("Someone else changed this purpose" in w.value for w in at.warning)


def test_a_refusal_without_the_right_to_complain_is_refused_then_recorded(
    run_page: RunPage,
) -> None:
    at = run_page("pages/privacy_requests.py", "privacy")
    chosen = at.selectbox(key="dsr_id").options[-1]
    at.selectbox(key="dsr_id").set_value(int(chosen.lstrip("#").split(" ")[0]))
    at.run()
    at.text_area(key="dsr_refusal").input("Manifestly unfounded: the same request, weekly.")
    at.button(key="FormSubmitter:refuse-Refuse the request").click()
    at.run()
    assert any("supervisory authority" in e.value for e in at.error), [e.value for e in at.error]
    at.checkbox(key="dsr_complaint").check()
    at.button(key="FormSubmitter:refuse-Refuse the request").click()
    at.run()
    assert any("refused" in s.value for s in at.success), [e.value for e in at.error]
    at.selectbox(key="dsr_status").set_value("refused")
    at.run()
    listed = at.dataframe[0].value
    assert "Manifestly unfounded: the same request, weekly." in set(listed["Refusal reason"])
    assert any("right to complain" in t.value for t in at.text)


def test_the_audit_says_how_the_ledger_chain_was_checked(run_page: RunPage) -> None:
    at = run_page("pages/consent_audit.py", "privacy")
    at.checkbox(key="audit_full_chain").check()
    at.button(key="run_audit").click()
    at.run(timeout=60)
    assert any("consent ledger: intact. Checked full" in t.value for t in at.text), [
        t.value for t in at.text
    ]
    at.checkbox(key="audit_full_chain").uncheck()
    at.button(key="run_audit").click()
    at.run(timeout=60)
    assert any("consent ledger: intact. Checked incremental" in t.value for t in at.text), [
        t.value for t in at.text
    ]
