"""The survey pages do their jobs through the UI, on the seeded demo."""

from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from db.audit import OPERATOR
from db.engine import make_engine, session_scope
from db.models.surveys import Survey, SurveyStatus
from db.survey_distribution import issue_links
from tests.app.conftest import RunPage


def fresh_token(url: str) -> str:
    """A new link to the demo's open pulse survey."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            pulse = session.exec(
                select(Survey).where(Survey.status == SurveyStatus.open.value)
            ).first()
            assert pulse is not None and pulse.id is not None
            link = issue_links(session=session, survey_id=pulse.id, actor=OPERATOR)[0]
            return parse_qs(urlparse(link.url).query)["token"][0]
    finally:
        engine.dispose()


def test_hr_creates_a_survey_from_the_engagement_template(run_page: RunPage) -> None:
    at = run_page("pages/surveys.py", "hr")
    at.text_input(key="new_title").input("Spring engagement")
    at.button(key="FormSubmitter:new_survey-Create survey").click()
    at.run()
    assert not at.exception
    assert any("Spring engagement" in s.value for s in at.success), [e.value for e in at.error]
    assert at.selectbox(key="chosen_survey").value is not None


def test_hr_adds_a_person_to_the_directory(run_page: RunPage) -> None:
    at = run_page("pages/employees.py", "hr")
    at.text_input(key="add_name").input("Robin Page")
    at.text_input(key="add_email").input("robin.page@example.org")
    at.text_input(key="add_department").input("Sales")
    at.text_input(key="add_team").input("North")
    at.text_input(key="add_location").input("Leeds")
    at.button(key="FormSubmitter:add_employee-Add to directory").click()
    at.run()
    assert any("Added Robin Page" in s.value for s in at.success), [e.value for e in at.error]


def test_an_unknown_link_gets_a_clear_message(run_page: RunPage) -> None:
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input("nonsense-link-code")
    at.run()
    assert any("not recognised" in e.value for e in at.error)


def test_answering_validates_then_thanks_and_refuses_the_link_a_second_time(
    run_page: RunPage, app_database: str
) -> None:
    token = fresh_token(app_database)
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input(token)
    at.run()
    assert at.get("progress"), "the answering page shows its progress"
    at.button(key="next").click()
    at.run()
    assert any(e.value.startswith("Question 1:") for e in at.error)
    for radio in at.radio:
        if len(radio.options) == 5:
            radio.set_value(4)
        else:
            radio.set_value(8)
    at.button(key="next").click()
    at.run()
    assert not at.exception
    assert any("Your answers are in" in s.value for s in at.success), [e.value for e in at.error]

    again = run_page("pages/answer_survey.py")
    again.text_input(key="pasted_token").input(token)
    again.run()
    assert any("already been used" in e.value for e in again.error)


def test_hr_sees_a_small_group_withheld_with_the_reason(run_page: RunPage) -> None:
    at = run_page("pages/survey_results.py", "hr")
    survey_box = at.selectbox(key="results_survey")
    closed = [o for o in survey_box.options if "closed" in o]
    assert closed
    survey_box.select(closed[-1])
    at.run()
    group_box = at.selectbox(key="results_group")
    payroll = [o for o in group_box.options if o.endswith("Payroll")]
    assert payroll, group_box.options
    group_box.select(payroll[0])
    at.run()
    assert not at.exception
    assert any("withheld" in w.value for w in at.warning)


def test_a_manager_sees_only_their_team(run_page: RunPage) -> None:
    at = run_page("pages/survey_results.py", "manager")
    assert not at.exception
    options = at.selectbox(key="results_group").options
    assert options and all(o.endswith("North") for o in options)
