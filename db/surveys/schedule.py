"""The survey schedule the worker follows: open, remind and close at set times by itself.

HR sets when a survey opens and closes and how reminders go (the first N days after
opening, then every K days, up to M). On each pass (`manage.py worker`) `run_schedule`
opens what is due (and emails the invitations), closes what is due, and sends the
reminders that are due through `send_round`, the same path as a manual send: consent is
checked at the moment of sending, nobody is sent twice in a round, and only people who
have not answered are sent to. Who they are stays inside that send: the schedule keeps
and reports counts only.

Every step is claimed by a conditional UPDATE (a survey's version for opening and
closing, `reminders_sent` for a reminder), so two workers never do the same step twice.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator, require_role
from db.auth.audit import record
from db.core.errors import DomainError, ValidationError
from db.core.types import utcnow
from db.models.audit import AuditEvent
from db.models.auth import Role
from db.models.surveys import AudienceKind, Survey, SurveyStatus
from db.surveys.builder import close_survey, get_survey
from db.surveys.distribution import MailNotConfigured, SmtpSettings, open_survey, send_round
from db.surveys.voice import open_contact_survey


class Scheduler(Operator):
    """The worker acting on a survey's schedule, as HR set it."""

    username = "schedule"
    display_name = "Survey schedule (worker)"


SCHEDULER = Scheduler()


@dataclass(frozen=True)
class Schedule:
    """When a survey opens and closes by itself, and its reminders."""

    opens_at: datetime | None = None
    closes_at: datetime | None = None
    remind_after_days: int | None = None
    remind_every_days: int | None = None
    remind_max: int = 0


# A time picked for "now" is a little behind by the time it is saved (pickers go by the
# minute): that much in the past is taken as "at once", more is refused.
PAST_GRACE = timedelta(minutes=5)


def set_schedule(
    *,
    session: Session,
    survey_id: int,
    actor: Actor,
    schedule: Schedule,
    now: datetime | None = None,
) -> Survey:
    """Set (or clear, with None) when a survey opens, closes and reminds (HR)."""
    require_role(actor, Role.hr, doing="schedule surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    s = schedule
    earliest = (now or utcnow()) - PAST_GRACE
    if s.opens_at and s.opens_at < earliest:
        raise ValidationError(
            "Opens at: that time has passed; choose a later one.", field="opens_at"
        )
    if s.closes_at and s.closes_at < earliest:
        raise ValidationError(
            "Closes at: that time has passed; choose a later one.", field="closes_at"
        )
    if s.opens_at and s.closes_at and s.closes_at <= s.opens_at:
        raise ValidationError("Closes at: choose a time after it opens.", field="closes_at")
    if s.opens_at and survey.status != SurveyStatus.draft.value:
        raise ValidationError(
            "Opens at: this survey is already open; only a draft can open later.",
            field="opens_at",
        )
    if not 0 <= s.remind_max <= 10:
        raise ValidationError("Reminders: between 0 and 10.", field="remind_max")
    if s.remind_max:
        if s.remind_after_days is None or s.remind_after_days < 1:
            raise ValidationError(
                "First reminder: at least 1 day after opening.", field="remind_after_days"
            )
        if s.remind_max > 1 and (s.remind_every_days is None or s.remind_every_days < 1):
            raise ValidationError(
                "Reminders every: at least 1 day between reminders.", field="remind_every_days"
            )
    survey.opens_at = s.opens_at
    survey.closes_at = s.closes_at
    survey.remind_after_days = s.remind_after_days
    survey.remind_every_days = s.remind_every_days
    survey.remind_max = s.remind_max
    survey.version += 1
    session.add(survey)
    record(
        session=session,
        actor=actor,
        action="survey.schedule",
        entity="survey",
        entity_id=survey_id,
        details={
            "opens_at": s.opens_at.isoformat() if s.opens_at else None,
            "closes_at": s.closes_at.isoformat() if s.closes_at else None,
            "reminders": s.remind_max,
        },
    )
    session.commit()
    return survey


@dataclass(frozen=True)
class ScheduleProblem:
    """Why the worker could not follow a survey's schedule, and when it gave up."""

    at: datetime
    reason: str


def schedule_problem(*, session: Session, survey_id: int, actor: Actor) -> ScheduleProblem | None:
    """The last scheduled step that failed, unless HR has set the schedule again since (HR)."""
    require_role(actor, Role.hr, doing="see survey schedules")
    last = session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.entity) == "survey",
            col(AuditEvent.entity_id) == str(survey_id),
            col(AuditEvent.action).in_(("survey.schedule", "survey.schedule.failed")),
        )
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    if last is None or last.action != "survey.schedule.failed":
        return None
    reason = json.loads(last.details or "{}").get("reason") or "no reason was recorded"
    return ScheduleProblem(at=last.occurred_at, reason=str(reason))


def reminders_due(survey: Survey, now: datetime) -> int:
    """How many reminders should have gone by `now` (0 before the first is due)."""
    started = survey.opened_at
    if started is None or not survey.remind_max or survey.remind_after_days is None:
        return 0
    first = started + timedelta(days=survey.remind_after_days)
    if now < first:
        return 0
    every = survey.remind_every_days
    due = 1 + (int((now - first) / timedelta(days=every)) if every else 0)
    return min(due, survey.remind_max)


def _claim_version(session: Session, survey: Survey, status: SurveyStatus) -> bool:
    """Take a step on a survey: True for the one worker whose UPDATE matched."""
    result = session.execute(
        update(Survey)
        .where(
            col(Survey.id) == survey.id,
            col(Survey.version) == survey.version,
            col(Survey.status) == status.value,
        )
        .values(version=survey.version + 1)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _claim_reminder(session: Session, survey: Survey) -> bool:
    result = session.execute(
        update(Survey)
        .where(col(Survey.id) == survey.id, col(Survey.reminders_sent) == survey.reminders_sent)
        .values(reminders_sent=survey.reminders_sent + 1)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _send(session: Session, survey_id: int, smtp: SmtpSettings | None, *, reminder: bool) -> str:
    try:
        report = send_round(
            session=session, survey_id=survey_id, actor=SCHEDULER, smtp=smtp, reminder=reminder
        )
    except MailNotConfigured as err:
        return f"email not configured ({err})"
    except DomainError as err:
        return f"send cut short ({err}); the next pass resumes it"
    return f"{report.sent} sent"


def _open(session: Session, survey: Survey, now: datetime) -> str:
    sid = survey.id
    assert sid is not None
    if not _claim_version(session, survey, SurveyStatus.draft):
        return "opened by another worker"
    session.refresh(survey)
    try:
        if survey.audience_kind == AudienceKind.contacts.value:
            open_contact_survey(session=session, survey_id=sid, actor=SCHEDULER)
        else:
            open_survey(session=session, survey_id=sid, actor=SCHEDULER)
    except DomainError as err:
        session.rollback()
        survey = get_survey(session=session, survey_id=sid)
        # Not tried again on every pass: HR fixes it and sets the time again.
        survey.opens_at = None
        session.add(survey)
        record(
            session=session,
            actor=SCHEDULER,
            action="survey.schedule.failed",
            entity="survey",
            entity_id=survey.id,
            details={"reason": str(err)},
        )
        session.commit()
        return f"could not open: {err}"
    survey = get_survey(session=session, survey_id=sid)
    survey.opened_at = now
    session.add(survey)
    session.commit()
    return "opened"


def run_schedule(session: Session, now: datetime, smtp: SmtpSettings | None = None) -> str:
    """One pass: open, send invitations and reminders, and close what is due; a log line."""
    done: list[str] = []
    drafts = session.exec(
        select(Survey).where(
            col(Survey.status) == SurveyStatus.draft.value,
            col(Survey.opens_at).is_not(None),
            col(Survey.opens_at) <= now,
        )
    ).all()
    for survey in drafts:
        assert survey.id is not None
        outcome = _open(session, survey, now)
        if outcome == "opened":
            outcome += ", invitations " + _send(session, survey.id, smtp, reminder=False)
        done.append(f"survey {survey.id} {outcome}")
    for survey in session.exec(
        select(Survey).where(col(Survey.status) == SurveyStatus.open.value)
    ).all():
        assert survey.id is not None
        if survey.closes_at is not None and survey.closes_at <= now:
            if _claim_version(session, survey, SurveyStatus.open):
                close_survey(session=session, survey_id=survey.id, actor=SCHEDULER)
                done.append(f"survey {survey.id} closed")
            continue
        if not survey.mail_round_done:
            # A round the mail server cut short: finish it (nobody is sent twice).
            done.append(
                f"survey {survey.id} resumed: "
                + _send(session, survey.id, smtp, reminder=survey.reminders_sent > 0)
            )
            continue
        number = survey.reminders_sent + 1
        if reminders_due(survey, now) >= number and _claim_reminder(session, survey):
            done.append(
                f"survey {survey.id} reminder {number}: "
                + _send(session, survey.id, smtp, reminder=True)
            )
    return "; ".join(done) or "nothing due"


def schedule_job(session: Session, now: datetime) -> str:
    """The worker's job (db/wiring.py): the schedule with the configured mail server."""
    return run_schedule(session, now)
