"""Every action on the Surveys page acts on the survey on screen, and says so after its rerun."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import delete, func
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from db.auth.actor import OPERATOR
from db.core.engine import make_engine, session_scope
from db.models.surveys import ActionPlan, Survey, SurveyCreate, SurveyStatus
from db.surveys.builder import create_survey
from db.surveys.distribution import issue_links, open_survey
from db.surveys.voice import ContactSurveyCreate, create_contact_survey, open_contact_survey
from tests.app.conftest import RunPage


@contextmanager
def database(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def leave_the_demo_as_it_was(app_database: str) -> Iterator[None]:
    """Remove the surveys a test made: the other page tests read the demo's newest ones."""
    with database(app_database) as session:
        before = session.exec(select(func.max(Survey.id))).one() or 0
        plans_before = session.exec(select(func.max(ActionPlan.id))).one() or 0
    yield
    with database(app_database) as session:
        session.execute(delete(ActionPlan).where(col(ActionPlan.id) > plans_before))
        session.execute(delete(Survey).where(col(Survey.id) > before))
        session.commit()


def make_survey(url: str, title: str, *, opened: bool) -> int:
    """A pulse survey of everyone, opened or left as a draft."""
    with database(url) as session:
        survey = create_survey(
            session=session,
            survey_in=SurveyCreate(
                title=title,
                template="pulse",
                opens_on=date.today(),
                closes_on=date.today() + timedelta(days=14),
            ),
            actor=OPERATOR,
        )
        assert survey.id is not None
        if opened:
            open_survey(session=session, survey_id=survey.id, actor=OPERATOR)
        return survey.id


def read_survey(url: str, survey_id: int) -> Survey | None:
    with database(url) as session:
        found = session.get(Survey, survey_id)
        if found is not None:
            session.expunge(found)
        return found


def test_closing_a_survey_keeps_it_in_the_picker_and_says_it_was_closed(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "December customer check", opened=True)
    make_survey(app_database, "A newer draft", opened=False)  # first in the picker
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    at.button(key=f"close_s{target}").click()
    at.run()
    assert not at.exception
    assert at.selectbox(key="chosen_survey").value == target
    assert any("Closed “December customer check”" in s.value for s in at.success)
    assert any(c.value.startswith("Status: closed") for c in at.caption)
    closed = read_survey(app_database, target)
    assert closed is not None and closed.status == SurveyStatus.closed.value


def test_copying_a_wave_copies_the_survey_on_screen_under_the_typed_title(
    run_page: RunPage, app_database: str
) -> None:
    source = make_survey(app_database, "Autumn pulse", opened=True)
    make_survey(app_database, "Unrelated draft", opened=False)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(source)
    at.run()
    at.text_input(key=f"wave_title_s{source}").input("Winter pulse")
    at.button(key=f"FormSubmitter:copy_wave_s{source}-Copy to a new wave: “Autumn pulse”").click()
    at.run()
    assert not at.exception
    with database(app_database) as session:
        wave = session.exec(select(Survey).where(Survey.title == "Winter pulse")).one()
        origin = session.get(Survey, source)
        assert origin is not None and wave.series_id == (origin.series_id or source)
        wave_id = wave.id
    # The picker follows the new wave, and the message names where it came from.
    assert at.selectbox(key="chosen_survey").value == wave_id
    assert any("copied from “Autumn pulse”" in s.value for s in at.success)


def test_links_prepared_for_one_survey_name_that_survey(
    run_page: RunPage, app_database: str
) -> None:
    first = make_survey(app_database, "First links survey", opened=True)
    second = make_survey(app_database, "Second links survey", opened=True)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(second)
    at.run()
    at.button(key=f"issue_links_s{second}").click()
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels and all("Second links survey" in label for label in labels), labels
    at.selectbox(key="chosen_survey").select(first)
    at.run()
    # The other survey's links are not offered under this one.
    assert not at.get("download_button")


def test_a_stray_draft_can_be_deleted_and_an_opened_survey_cannot(
    run_page: RunPage, app_database: str
) -> None:
    draft = make_survey(app_database, "Stray draft", opened=False)
    opened = make_survey(app_database, "Running survey", opened=True)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(draft)
    at.run()
    at.button(key=f"delete_s{draft}").click()
    at.run()
    assert not at.exception
    assert any("Deleted the draft “Stray draft”" in s.value for s in at.success)
    assert read_survey(app_database, draft) is None
    assert draft not in at.selectbox(key="chosen_survey").options
    at.selectbox(key="chosen_survey").select(opened)
    at.run()
    assert not [b for b in at.button if b.key == f"delete_s{opened}"]


def test_the_survey_id_for_the_command_line_is_on_screen(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "Id survey", opened=False)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    assert any(f"--survey {target}" in c.value for c in at.caption)


def link_to(url: str, survey_id: int) -> str:
    """A fresh personal link code for someone invited to the survey."""
    with database(url) as session:
        links = issue_links(
            session=session, survey_id=survey_id, actor=OPERATOR, everyone_unanswered=True
        )
        return parse_qs(urlparse(links[0].url).query)["token"][0]


def answer_everything(at: AppTest) -> AppTest:
    """Answer every section of the questionnaire on screen, then submit."""
    for _ in range(10):
        for radio in at.radio:
            radio.set_value(radio.options[0] if len(radio.options) < 11 else 9)
        at.button(key="next").click()
        at.run()
        if any("Your answers are in" in s.value for s in at.success):
            return at
    raise AssertionError([e.value for e in at.error])


def test_a_named_customer_survey_says_it_keeps_the_name_and_the_time(
    run_page: RunPage, app_database: str
) -> None:
    with database(app_database) as session:
        made = create_contact_survey(
            session=session,
            survey_in=ContactSurveyCreate(
                title="Named check-in",
                opens_on=date.today(),
                closes_on=date.today() + timedelta(days=7),
                anonymous=False,
            ),
            actor=OPERATOR,
        )
        assert made.id is not None
        open_contact_survey(session=session, survey_id=made.id, actor=OPERATOR)
        named_id = made.id
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input(link_to(app_database, named_id))
    at.run()
    said = " ".join(i.value for i in at.info)
    assert "not anonymous" in said and "exact date and time" in said, said
    assert "without your name" not in said
    answer_everything(at)
    thanks = " ".join(m.value for m in at.markdown)
    assert "stored with your name" in thanks and "without your name" not in thanks


def test_an_anonymous_staff_survey_says_it_keeps_groups_and_the_day_only(
    run_page: RunPage, app_database: str
) -> None:
    survey_id = make_survey(app_database, "Anonymous pulse", opened=True)
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input(link_to(app_database, survey_id))
    at.run()
    said = " ".join(i.value for i in at.info)
    assert "without your name or your link" in said and "not the time" in said, said
    answer_everything(at)
    thanks = " ".join(m.value for m in at.markdown)
    assert "without your name or your link" in thanks


def closed_engagement(at: AppTest) -> AppTest:
    box = at.selectbox(key="results_survey")
    box.select(next(o for o in box.options if o.startswith("Engagement") and "closed" in o))
    return at.run()


def test_a_plan_saved_for_a_department_is_listed_for_it_at_once_and_only_there(
    run_page: RunPage,
) -> None:
    at = closed_engagement(run_page("pages/survey_results.py", "hr"))
    group_box = at.selectbox(key="results_group")
    group_box.select(next(o for o in group_box.options if o.lstrip("· ") == "Sales"))
    at.run()
    at.radio(key="results_view").set_value("Action plans")
    at.run()
    form = f"new_action_{at.selectbox(key='results_group').value}"
    inputs = [t for t in at.text_input if t.label == "Focus area"]
    inputs[0].input("Fewer handovers")
    next(t for t in at.text_input if t.label == "Owner").input("Hana")
    next(t for t in at.text_area if t.label == "Actions").input("Map the handovers.")
    at.button(key=f"FormSubmitter:{form}-Save action plan").click()
    at.run()
    assert not at.exception
    assert any("Action plan saved for Sales" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    listed = [df.value for df in at.dataframe if "Focus" in df.value.columns]
    assert listed and "Fewer handovers" in set(listed[0]["Focus"])
    assert set(listed[0]["For"]) == {"Sales"}
    # The company-wide view does not list it.
    at.selectbox(key="results_group").select(at.selectbox(key="results_group").options[0])
    at.run()
    shown = [df.value for df in at.dataframe if "Focus" in df.value.columns]
    assert not shown or "Fewer handovers" not in set(shown[0]["Focus"])


def test_participation_shows_no_plumbing_columns_and_no_word_none(run_page: RunPage) -> None:
    at = closed_engagement(run_page("pages/survey_results.py", "hr"))
    at.radio(key="results_view").set_value("Participation")
    at.run()
    frame = next(df.value for df in at.dataframe if "invited" in df.value.columns)
    assert "level" not in frame.columns
    assert not any(str(v) == "None" for v in frame["note"])


def test_a_question_of_an_open_survey_is_reworded_on_the_page(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "Rewording survey", opened=True)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    next(t for t in at.text_input if t.label.startswith("New wording")).input("Proud to be here.")
    at.button(key=f"FormSubmitter:edit_question_s{target}-Save the question").click()
    at.run()
    assert not at.exception
    assert any("Saved question" in s.value for s in at.success), [e.value for e in at.error]
    shown = [
        q for df in at.dataframe if "Question" in df.value.columns for q in df.value["Question"]
    ]
    assert "Proud to be here." in shown


def test_a_library_question_is_added_to_a_draft_from_the_page(
    run_page: RunPage, app_database: str
) -> None:
    draft = make_survey(app_database, "Library draft", opened=False)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(draft)
    at.run()
    at.selectbox(key=f"library_pick_s{draft}").select("growth_learn")
    at.button(key=f"library_add_s{draft}").click()
    at.run()
    assert not at.exception
    assert any("Added question growth\\_learn" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    codes = [c for df in at.dataframe if "Code" in df.value.columns for c in df.value["Code"]]
    assert "growth_learn" in codes
