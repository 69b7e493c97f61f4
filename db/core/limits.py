"""Rate limits of the public forms, counted in the database so every replica shares them.

Each public form accepts a few submissions per browser session per clock hour and a
bounded number per minute in all (both in db/core/settings.py). Only accepted submissions
count, so a person correcting a typo does not use up their allowance. The count and the
insert are two statements, so two replicas racing at the very edge may let one extra
submission through: the limit is a brake on floods, not an exact quota.

What is stored is only what the limits need, so that the table cannot be joined to a
concern, a reply or a survey answer by time, nor link one person's activity across forms:

- a row per use of a form by a browser session in a clock hour, under a one-way key of
  the form, the session, the hour and the use's ordinal: no two rows share a key, and
  nothing stored tells which rows came from the same session;
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

from db.core.errors import DomainError
from db.core.settings import get_settings
from db.core.types import utcnow
from db.models.limits import EVERYONE, PublicSubmission

SESSION_WINDOW = timedelta(hours=1)
TOTAL_WINDOW = timedelta(minutes=1)
VISITOR_MAX = 64


class PublicForm(StrEnum):
    """The public forms that are rate-limited, and the receipt check of the follow-up page."""

    concern = "concern"
    reporter_reply = "reporter_reply"
    survey_answer = "survey_answer"
    receipt_failure = "receipt_failure"
    privacy_request = "privacy_request"
    code_failure = "code_failure"
    ask_us = "ask_us"


_WHAT = {
    PublicForm.concern: "concerns",
    PublicForm.reporter_reply: "messages",
    PublicForm.survey_answer: "survey answers",
    PublicForm.receipt_failure: "wrong receipt codes",
    PublicForm.privacy_request: "requests for a code",
    PublicForm.code_failure: "wrong codes",
    PublicForm.ask_us: "questions",
}


class TooManySubmissions(DomainError):
    """A public form's rate limit is reached; nothing was saved."""


def hour_of(now: datetime) -> datetime:
    """The start of the clock hour `now` falls in: the only time a session's counter keeps."""
    return now.replace(minute=0, second=0, microsecond=0)


def minute_of(now: datetime) -> datetime:
    """The start of the minute `now` falls in: the only time the shared counter keeps."""
    return now.replace(second=0, microsecond=0)


def session_key(form: PublicForm, visitor: str, hour: datetime, ordinal: int) -> str:
    """The key of a browser session's `ordinal`-th use of one form in one hour.

    A one-way hash of the four, so nothing stored ties two uses together: not two forms,
    not two hours, not two submissions of the same form; and the random session id
    itself (kept only in the server's memory) is never stored. The session's own count
    is found by looking up its keys 0, 1, 2… up to the limit.
    """
    material = f"{form.value}\x1f{visitor[:VISITOR_MAX]}\x1f{hour.isoformat()}\x1f{ordinal}"
    return hashlib.sha256(material.encode("utf-8", "replace")).hexdigest()[:48]


def used_by_session(
    *,
    session: Session,
    form: PublicForm,
    visitor: str,
    now: datetime | None = None,
    up_to: int | None = None,
) -> int:
    """How many times this browser session used `form` in the current clock hour.

    Counts at most `up_to` (default: the per-session limit), all a limit needs to know.
    """
    now = now or utcnow()
    hour = hour_of(now)
    bound = up_to if up_to is not None else get_settings().public_per_session
    keys = [session_key(form, visitor, hour, n) for n in range(bound)]
    query = select(func.count()).where(
        col(PublicSubmission.form) == form.value,
        col(PublicSubmission.visitor).in_(keys),
        col(PublicSubmission.bucket) == hour,
    )
    return min(bound, int(session.exec(query).one()))


def used_by_everyone(*, session: Session, form: PublicForm, now: datetime | None = None) -> int:
    """How many times everyone together used `form` in the current minute."""
    query = select(func.coalesce(func.sum(PublicSubmission.count), 0)).where(
        col(PublicSubmission.form) == form.value,
        col(PublicSubmission.visitor) == EVERYONE,
        col(PublicSubmission.bucket) == minute_of(now or utcnow()),
    )
    return int(session.exec(query).one())


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


def _count_for_everyone(session: Session, form: PublicForm, minute: datetime) -> None:
    bumped = session.execute(
        update(PublicSubmission)
        .where(
            col(PublicSubmission.form) == form.value,
            col(PublicSubmission.visitor) == EVERYONE,
            col(PublicSubmission.bucket) == minute,
        )
        .values(count=PublicSubmission.count + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        # A replica racing here adds a second row for the same minute; counts are summed.
        session.add(PublicSubmission(form=form.value, visitor=EVERYONE, bucket=minute, count=1))
        session.flush()


def note_submission(
    *,
    session: Session,
    form: PublicForm,
    visitor: str,
    now: datetime | None = None,
    session_weight: int = 1,
    up_to: int | None = None,
) -> None:
    """Count one accepted submission (the caller commits) and forget past hours and minutes.

    `session_weight` counts it as that many against the browser session (everyone's
    counter always counts one); `up_to` is the session's limit, as for used_by_session.
    """
    now = now or utcnow()
    forget_expired(session=session, now=now, commit=False)
    hour = hour_of(now)
    used = used_by_session(session=session, form=form, visitor=visitor, now=now, up_to=up_to)
    for ordinal in range(used, used + max(1, session_weight)):
        session.add(
            PublicSubmission(
                form=form.value,
                visitor=session_key(form, visitor, hour, ordinal),
                bucket=hour,
                count=1,
            )
        )
    session.flush()
    _count_for_everyone(session, form, minute_of(now))


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
