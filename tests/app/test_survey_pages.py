"""The survey pages do their jobs through the UI, on the seeded demo."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from db.auth.actor import OPERATOR
from db.core.engine import make_engine, session_scope
from db.models.surveys import Survey, SurveyStatus
from db.surveys.distribution import issue_links
from db.surveys.voice import ContactSurveyCreate, create_contact_survey
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
            link = issue_links(
                session=session, survey_id=pulse.id, actor=OPERATOR, everyone_unanswered=True
            )[0]
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
    closed = [o for o in survey_box.options if "closed" in o and o.startswith("Engagement")]
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


def test_a_manager_downloads_the_pdf_of_their_team_once_results_are_out(
    run_page: RunPage,
) -> None:
    at = run_page("pages/survey_results.py", "manager")
    for wanted, offered in (("(closed)", True), ("(open)", False)):
        survey_box = at.selectbox(key="results_survey")
        survey_box.select(next(o for o in survey_box.options if o.endswith(wanted)))
        at.run()
        assert not at.exception
        labels = [b.label for b in at.get("download_button")]
        assert ("Download PDF for this group" in labels) is offered, (wanted, labels)


def test_hr_creates_a_customer_nps_survey_of_contacts(run_page: RunPage) -> None:
    at = run_page("pages/surveys.py", "hr")
    at.text_input(key="contact_title").input("Spring NPS")
    at.checkbox(key="contact_named").check()
    at.button(key="FormSubmitter:new_contact_survey-Create contact survey").click()
    at.run()
    assert not at.exception
    assert any("Spring NPS" in s.value for s in at.success), [e.value for e in at.error]
    assert any("named answers" in c.value for c in at.caption)
    questions = [
        q for df in at.dataframe if "Question" in df.value.columns for q in df.value["Question"]
    ]
    assert any("recommend us to a friend" in q for q in questions), questions


def test_opening_a_contact_survey_reports_who_was_left_out_and_why(
    run_page: RunPage, app_database: str
) -> None:
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            made = create_contact_survey(
                session=session,
                survey_in=ContactSurveyCreate(
                    title="Plan for the high street",
                    template="consultation",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=20),
                ),
                actor=OPERATOR,
            )
            made_id = made.id
    finally:
        engine.dispose()
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(made_id)
    at.run()
    at.button(key=f"open_s{made_id}").click()
    at.run()
    assert not at.exception
    assert any("contacts invited" in s.value and "left out" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    reasons = at.dataframe[-1].value
    assert "never agreed to be asked for feedback" in set(reasons.iloc[:, 0])


def test_results_of_a_customer_survey_show_nps_and_single_choice_shares(
    run_page: RunPage,
) -> None:
    at = run_page("pages/survey_results.py", "hr")
    survey_box = at.selectbox(key="results_survey")
    nps = [o for o in survey_box.options if o.startswith("Customer NPS")]
    assert nps
    survey_box.select(nps[0])
    at.run()
    assert not at.exception
    assert any(m.label == "NPS" for m in at.metric)
    assert any("not anonymous" in c.value for c in at.caption)
    at.radio(key="results_view").set_value("Single choice")
    at.run()
    assert not at.exception
    shares = [df.value for df in at.dataframe if "option" in df.value.columns]
    assert shares and set(shares[0]["option"]) >= {"Satisfied", "Very satisfied"}
    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any("% of those who answered" in spec for spec in specs), specs


def test_an_open_survey_shows_participation_only_and_no_scores(run_page: RunPage) -> None:
    at = run_page("pages/survey_results.py", "hr")
    survey_box = at.selectbox(key="results_survey")
    running = [o for o in survey_box.options if o.endswith("(open)")]
    assert running, survey_box.options
    survey_box.select(running[0])
    at.run()
    assert not at.exception
    assert any("This survey is open" in i.value for i in at.info)
    assert not any(m.label in {"Engagement index", "eNPS", "NPS"} for m in at.metric)
    assert at.radio(key="results_view").options == ["Participation", "Trend", "Action plans"]
    at.radio(key="results_view").set_value("Participation")
    at.run()
    assert not at.exception
    turnout = [df.value for df in at.dataframe if "responses" in df.value.columns]
    assert turnout and turnout[0]["through a link HR downloaded"].isna().all()


def open_demo_survey(url: str) -> int:
    """The demo's open pulse survey."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            pulse = session.exec(
                select(Survey).where(Survey.status == SurveyStatus.open.value)
            ).first()
            assert pulse is not None and pulse.id is not None
            return pulse.id
    finally:
        engine.dispose()


def test_the_list_of_everyone_unanswered_needs_a_confirmation_and_says_what_it_breaks(
    run_page: RunPage, app_database: str
) -> None:
    at = run_page("pages/surveys.py", "hr")
    running = open_demo_survey(app_database)
    at.selectbox(key="chosen_survey").select(running)
    at.run()
    assert at.button(key=f"issue_unanswered_s{running}").disabled
    at.checkbox(key=f"unanswered_ack_s{running}").check()
    at.run()
    at.button(key=f"issue_unanswered_s{running}").click()
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert any("breaks confidentiality" in label for label in labels), labels


def pick_closed_engagement_survey(at):  # type: ignore[no-untyped-def]
    survey_box = at.selectbox(key="results_survey")
    survey_box.select(next(o for o in survey_box.options if "closed" in o))
    at.run()
    at.radio(key="results_view").set_value("Cuts")
    at.run()
    return at


def test_hr_cuts_results_by_location_and_tenure_with_hidden_cells_explained(
    run_page: RunPage,
) -> None:
    at = pick_closed_engagement_survey(run_page("pages/survey_results.py", "hr"))
    assert not at.exception
    at.selectbox(key="cut_first").set_value("location")
    at.run()
    at.selectbox(key="cut_second").set_value("tenure_band")
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert {"location", "tenure band", "responses", "engagement index", "note"} <= set(
        frame.columns
    )
    assert any("fewer than" in c.value for c in at.caption)
    # Every blank count has its reason beside it.
    blanks = frame[frame["responses"].isna() | (frame["responses"] == "")]
    assert all(blanks["note"].astype(str).str.len() > 0)


def test_a_manager_can_cut_only_their_own_reporting_tree(run_page: RunPage) -> None:
    at = pick_closed_engagement_survey(run_page("pages/survey_results.py", "manager"))
    assert not at.exception
    assert at.selectbox(key="cut_first").options == ["Manager"]
    at.selectbox(key="cut_second").set_value("location")
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert set(frame["manager"]) <= {
        "Maya Manager: whole reporting tree",
        "Maya Manager: direct reports",
        "manager@example.org: whole reporting tree",
        "manager@example.org: direct reports",
    }, set(frame["manager"])
