"""The Schedule section of the Surveys page sets the schedule of the survey on screen."""

from datetime import UTC, date, datetime, time, timedelta

from db.auth.actor import OPERATOR
from db.core.types import utcnow
from db.models.surveys import Survey
from db.surveys.schedule import Schedule, run_schedule, set_schedule
from tests.app.conftest import RunPage
from tests.app.test_survey_actions import (
    database,
    leave_the_demo_as_it_was,
    make_survey,
    read_survey,
)

__all__ = ["leave_the_demo_as_it_was"]

SAVE = "FormSubmitter:schedule_s{}-Save schedule"


def test_a_schedule_set_on_the_page_is_stored_and_shown(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "Scheduled pulse", opened=False)
    make_survey(app_database, "Another draft", opened=False)  # first in the picker
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    sid = f"s{target}"
    opens_on = date.today() + timedelta(days=2)
    closes_on = date.today() + timedelta(days=12)
    at.checkbox(key=f"sched_open_on_{sid}").check()
    at.date_input(key=f"sched_open_date_{sid}").set_value(opens_on)
    at.time_input(key=f"sched_open_time_{sid}").set_value(time(9, 30))
    at.checkbox(key=f"sched_close_on_{sid}").check()
    at.date_input(key=f"sched_close_date_{sid}").set_value(closes_on)
    at.time_input(key=f"sched_close_time_{sid}").set_value(time(17, 0))
    at.number_input(key=f"sched_max_{sid}").set_value(3)
    at.number_input(key=f"sched_after_{sid}").set_value(4)
    at.number_input(key=f"sched_every_{sid}").set_value(2)
    at.button(key=SAVE.format(target)).click()
    at.run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("Saved the schedule of “Scheduled pulse”" in s.value for s in at.success)
    stored = read_survey(app_database, target)
    assert stored is not None
    # AppTest has no browser time zone: the page reads times as UTC.
    assert stored.opens_at == datetime.combine(opens_on, time(9, 30), tzinfo=UTC)
    assert stored.closes_at == datetime.combine(closes_on, time(17, 0), tzinfo=UTC)
    assert (stored.remind_after_days, stored.remind_every_days, stored.remind_max) == (4, 2, 3)
    # The caption is Markdown with its punctuation escaped; read it as shown.
    line = next(c.value for c in at.caption if c.value.startswith("Now:")).replace("\\", "")
    assert f"opens by itself {opens_on:%d %b %Y} 09:30" in line
    assert f"closes by itself {closes_on:%d %b %Y} 17:00" in line
    assert "up to 3 reminders (first 4 days after opening, then every 2 days)" in line
    assert "reminders sent so far: 0" in line


def test_closing_before_opening_is_refused_with_the_reason(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "Backwards schedule", opened=False)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    sid = f"s{target}"
    at.checkbox(key=f"sched_open_on_{sid}").check()
    at.date_input(key=f"sched_open_date_{sid}").set_value(date.today() + timedelta(days=5))
    at.checkbox(key=f"sched_close_on_{sid}").check()
    at.date_input(key=f"sched_close_date_{sid}").set_value(date.today() + timedelta(days=3))
    at.button(key=SAVE.format(target)).click()
    at.run()
    assert not at.exception
    assert any("Closes at: choose a time after it opens." in e.value for e in at.error)
    stored = read_survey(app_database, target)
    assert stored is not None and stored.opens_at is None and stored.closes_at is None


def test_a_time_already_past_is_refused(run_page: RunPage, app_database: str) -> None:
    target = make_survey(app_database, "Late schedule", opened=True)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    sid = f"s{target}"
    # An open survey offers no opening time, only the closing one.
    assert not [c for c in at.checkbox if c.key == f"sched_open_on_{sid}"]
    at.checkbox(key=f"sched_close_on_{sid}").check()
    at.date_input(key=f"sched_close_date_{sid}").set_value(date.today() - timedelta(days=1))
    at.button(key=SAVE.format(target)).click()
    at.run()
    assert not at.exception
    assert any("Closes at: that time has passed" in e.value for e in at.error)
    stored = read_survey(app_database, target)
    assert stored is not None and stored.closes_at is None


def test_an_opening_the_worker_could_not_make_is_explained_on_the_page(
    run_page: RunPage, app_database: str
) -> None:
    target = make_survey(app_database, "Too small to open", opened=False)
    with database(app_database) as session:
        survey = session.get(Survey, target)
        assert survey is not None
        survey.min_group = 100_000  # more people than the organisation has
        session.add(survey)
        session.commit()
        now = utcnow()
        plan = Schedule(opens_at=now + timedelta(minutes=1))
        set_schedule(session=session, survey_id=target, actor=OPERATOR, schedule=plan)
        assert "could not open" in run_schedule(session, now + timedelta(minutes=1))
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").select(target)
    at.run()
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "could not open this survey" in w.value]
    assert "set the opening time again" in warning
