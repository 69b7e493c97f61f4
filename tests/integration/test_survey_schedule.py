"""The survey schedule: open and close at set times, reminders only to non-respondents."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.core.errors import ValidationError
from db.core.types import utcnow
from db.models.consent import ConsentAction
from db.models.surveys import Survey, SurveyInvitation, SurveyStatus
from db.surveys.distribution import SmtpSettings
from db.surveys.schedule import (
    Schedule,
    reminders_due,
    run_schedule,
    schedule_problem,
    set_schedule,
)
from tests.integration.consent_helpers import consent, purpose
from tests.integration.test_survey_voice import contact_survey, customers, hr, world
from tests.integration.test_surveys import new_survey, staff
from tests.smtp_sink import smtp_sink

__all__ = ["world"]


def test_a_scheduled_survey_opens_reminds_only_non_respondents_and_closes(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    start = utcnow()
    set_schedule(
        session=session,
        survey_id=sid,
        actor=OPERATOR,
        schedule=Schedule(
            opens_at=start + timedelta(hours=1),
            closes_at=start + timedelta(days=10),
            remind_after_days=3,
            remind_every_days=2,
            remind_max=2,
        ),
    )
    with smtp_sink() as (port, mailbox):
        smtp = SmtpSettings("127.0.0.1", port, sender="hr@example.org")
        assert run_schedule(session, start, smtp) == "nothing due"
        assert session.get(Survey, sid).status == SurveyStatus.draft.value  # type: ignore[union-attr]
        opened = start + timedelta(hours=1)
        assert "opened, invitations 6 sent" in run_schedule(session, opened, smtp)
        assert len(mailbox.messages) == 6
        answered = session.exec(
            select(SurveyInvitation).where(SurveyInvitation.survey_id == sid)
        ).all()[:2]
        for invitation in answered:
            invitation.answered = True
            session.add(invitation)
        session.commit()
        answered_emails = {i.employee_id for i in answered}
        assert answered_emails
        # Two workers on the same pass: the reminder goes once.
        day3 = opened + timedelta(days=3, minutes=1)
        first = run_schedule(session, day3, smtp)
        second = run_schedule(session, day3, smtp)
        assert "reminder 1: 4 sent" in first and second == "nothing due"
        assert len(mailbox.messages) == 10
        assert all(m["Subject"].startswith("Reminder: ") for m in mailbox.messages[6:])
        assert run_schedule(session, opened + timedelta(days=5, minutes=2), smtp).endswith(
            "reminder 2: 4 sent"
        )
        # No third: the schedule says two.
        assert run_schedule(session, opened + timedelta(days=7, minutes=3), smtp) == "nothing due"
        assert "closed" in run_schedule(session, start + timedelta(days=10), smtp)
    assert session.get(Survey, sid).status == SurveyStatus.closed.value  # type: ignore[union-attr]


def test_consent_withdrawn_before_a_scheduled_reminder_means_no_reminder(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    sid = contact_survey(world)
    start = utcnow()
    set_schedule(
        session=world,
        survey_id=sid,
        actor=hr(world),
        schedule=Schedule(opens_at=start, remind_after_days=2, remind_max=1),
    )
    with smtp_sink() as (port, mailbox):
        smtp = SmtpSettings("127.0.0.1", port, sender="hr@example.org")
        assert "invitations 6 sent" in run_schedule(world, start, smtp)
        leaver = people[1]
        consent(world, leaver, feedback[0], ConsentAction.withdraw, utcnow())
        assert "reminder 1: 5 sent" in run_schedule(world, start + timedelta(days=2), smtp)
    reminded = [m["To"] for m in mailbox.messages[6:]]
    assert leaver.email not in reminded and len(reminded) == 5


def test_reminders_due_counts_from_opening() -> None:
    now = utcnow()
    survey = Survey(
        title="t",
        opens_on=now.date(),
        closes_on=now.date(),
        opened_at=now,
        remind_after_days=3,
        remind_every_days=2,
        remind_max=3,
    )
    assert [reminders_due(survey, now + timedelta(days=d)) for d in (0, 3, 4, 5, 7, 30)] == [
        0,
        1,
        1,
        2,
        3,
        3,
    ]


def test_a_time_already_past_is_refused_and_one_just_gone_is_taken_as_now(
    session: Session,
) -> None:
    sid = new_survey(session).id or 0
    now = utcnow()
    with pytest.raises(ValidationError, match="Opens at: that time has passed"):
        set_schedule(
            session=session,
            survey_id=sid,
            actor=OPERATOR,
            schedule=Schedule(opens_at=now - timedelta(hours=1)),
            now=now,
        )
    with pytest.raises(ValidationError, match="Closes at: that time has passed"):
        set_schedule(
            session=session,
            survey_id=sid,
            actor=OPERATOR,
            schedule=Schedule(closes_at=now - timedelta(days=1)),
            now=now,
        )
    session.rollback()
    # A minute picked on the page is a little behind by the time it is saved.
    saved = set_schedule(
        session=session,
        survey_id=sid,
        actor=OPERATOR,
        schedule=Schedule(opens_at=now - timedelta(minutes=1)),
        now=now,
    )
    assert saved.opens_at is not None and saved.closes_at is None


def test_a_scheduled_opening_that_fails_tells_hr_why_until_the_schedule_is_set_again(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 2})  # fewer people than the survey's threshold
    sid = new_survey(session).id or 0
    start = utcnow()
    plan = Schedule(opens_at=start + timedelta(hours=1))
    set_schedule(session=session, survey_id=sid, actor=OPERATOR, schedule=plan)
    assert schedule_problem(session=session, survey_id=sid, actor=OPERATOR) is None
    line = run_schedule(session, start + timedelta(hours=1))
    assert "could not open" in line
    problem = schedule_problem(session=session, survey_id=sid, actor=OPERATOR)
    assert problem is not None and problem.reason and problem.reason in line
    stored = session.get(Survey, sid)
    assert stored is not None
    assert stored.status == SurveyStatus.draft.value and stored.opens_at is None
    # HR sets the time again: the old failure is no longer the survey's news.
    set_schedule(session=session, survey_id=sid, actor=OPERATOR, schedule=plan)
    assert schedule_problem(session=session, survey_id=sid, actor=OPERATOR) is None
