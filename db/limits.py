"""Rate limits of the public forms, counted in the database so every replica shares them.

Each public form accepts a few submissions per browser session per clock hour and a
bounded number per minute in all (both in db/config.py). Only accepted submissions
count, so a person correcting a typo does not use up their allowance. The count and the
insert are two statements, so two replicas racing at the very edge may let one extra
submission through: the limit is a brake on floods, not an exact quota.

What is stored is only what the limits need, so that the table cannot be joined to a
concern, a reply or a survey answer by time, nor link one person's activity across forms:

- a counter per browser session, form and clock hour, under a key derived from all three
  (a session's key for one form or hour says nothing of its key for another);
- a counter per form and minute for everyone together, with no session at all;
- the start of the hour or minute, never the moment of a submission.

Counters of past hours and minutes are deleted on every check, and by
`manage.py forget-public-limits` for a quiet system.
"""

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from db.config import get_settings
from db.errors import DomainError
from db.models.limits import EVERYONE, PublicSubmission
from db.types import utcnow

SESSION_WINDOW = timedelta(hours=1)
TOTAL_WINDOW = timedelta(minutes=1)
VISITOR_MAX = 64


class PublicForm(StrEnum):
    """The public forms that are rate-limited, and the receipt check of the follow-up page."""

    concern = "concern"
    reporter_reply = "reporter_reply"
    survey_answer = "survey_answer"
    receipt_failure = "receipt_failure"


_WHAT = {
    PublicForm.concern: "concerns",
    PublicForm.reporter_reply: "messages",
    PublicForm.survey_answer: "survey answers",
    PublicForm.receipt_failure: "wrong receipt codes",
}


class TooManySubmissions(DomainError):
    """A public form's rate limit is reached; nothing was saved."""


def hour_of(now: datetime) -> datetime:
    """The start of the clock hour `now` falls in: the only time a session's counter keeps."""
    return now.replace(minute=0, second=0, microsecond=0)


def minute_of(now: datetime) -> datetime:
    """The start of the minute `now` falls in: the only time the shared counter keeps."""
    return now.replace(second=0, microsecond=0)


def session_key(form: PublicForm, visitor: str, hour: datetime) -> str:
    """The key a browser session's counter is stored under, for one form and one hour.

    A one-way hash of the three, so the same browser session has unrelated keys on
    different forms and in different hours, and the random session id itself (kept only
    in the server's memory) is never stored.
    """
    material = f"{form.value}\x1f{visitor[:VISITOR_MAX]}\x1f{hour.isoformat()}"
    return hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()[:48]


def _sum(session: Session, form: PublicForm, visitor: str, bucket: datetime) -> int:
    query = select(func.coalesce(func.sum(PublicSubmission.count), 0)).where(
        col(PublicSubmission.form) == form.value,
        col(PublicSubmission.visitor) == visitor,
        col(PublicSubmission.bucket) == bucket,
    )
    return int(session.exec(query).one())


def used_by_session(
    *, session: Session, form: PublicForm, visitor: str, now: datetime | None = None
) -> int:
    """How many times this browser session used `form` in the current clock hour."""
    now = now or utcnow()
    hour = hour_of(now)
    return _sum(session, form, session_key(form, visitor, hour), hour)


def used_by_everyone(*, session: Session, form: PublicForm, now: datetime | None = None) -> int:
    """How many times everyone together used `form` in the current minute."""
    return _sum(session, form, EVERYONE, minute_of(now or utcnow()))


def check_allowance(
    *, session: Session, form: PublicForm, visitor: str, now: datetime | None = None
) -> None:
    """Raise TooManySubmissions if this browser session or everyone has sent too many."""
    now = now or utcnow()
    forget_expired(session=session, now=now, commit=False)
    settings = get_settings()
    what = _WHAT[form]
    if used_by_session(session=session, form=form, visitor=visitor, now=now) >= (
        settings.public_per_session
    ):
        raise TooManySubmissions(
            f"You have sent {settings.public_per_session} {what} from this browser in the "
            "last hour, which is the limit. Nothing more was sent: please wait a while and "
            "try again, or open a new browser session later."
        )
    if used_by_everyone(session=session, form=form, now=now) >= settings.public_per_minute:
        raise TooManySubmissions(
            f"Rapport is receiving a lot of {what} right now (at most "
            f"{settings.public_per_minute} a minute). Nothing was sent: please wait a minute "
            "and try again; your text is still in the form."
        )


def _bump(session: Session, form: PublicForm, visitor: str, bucket: datetime, by: int) -> None:
    bumped = session.execute(
        update(PublicSubmission)
        .where(
            col(PublicSubmission.form) == form.value,
            col(PublicSubmission.visitor) == visitor,
            col(PublicSubmission.bucket) == bucket,
        )
        .values(count=PublicSubmission.count + by)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        # A replica racing here adds a second row for the same counter; counts are summed.
        session.add(PublicSubmission(form=form.value, visitor=visitor, bucket=bucket, count=by))
        session.flush()


def note_submission(
    *,
    session: Session,
    form: PublicForm,
    visitor: str,
    now: datetime | None = None,
    session_weight: int = 1,
) -> None:
    """Count one accepted submission (the caller commits) and forget past hours and minutes.

    `session_weight` counts it as that many against the browser session (everyone's
    counter always counts one).
    """
    now = now or utcnow()
    forget_expired(session=session, now=now, commit=False)
    hour = hour_of(now)
    _bump(session, form, session_key(form, visitor, hour), hour, max(1, session_weight))
    _bump(session, form, EVERYONE, minute_of(now), 1)


def forget_expired(*, session: Session, now: datetime | None = None, commit: bool = True) -> int:
    """Delete the counters of past hours and minutes; returns how many rows went.

    Commits unless `commit` is false (the limit checks run it inside their caller's
    transaction, which commits).
    """
    now = now or utcnow()
    gone = session.execute(
        delete(PublicSubmission).where(
            or_(
                col(PublicSubmission.bucket) < hour_of(now),
                (col(PublicSubmission.visitor) == EVERYONE)
                & (col(PublicSubmission.bucket) < minute_of(now)),
            )
        )
    )
    if commit:
        session.commit()
    return int(gone.rowcount)  # type: ignore[attr-defined]
