"""Rate limits of the public forms, counted in the database so every replica shares them.

Each public form accepts a few submissions per browser session per hour and a bounded
number per minute in all (both in db/core/settings.py). Only accepted submissions count, so a
person correcting a typo does not use up their allowance. The count and the insert are
two statements, so two replicas racing at the very edge may let one extra submission
through: the limit is a brake on floods, not an exact quota.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from db.core.errors import DomainError
from db.core.settings import get_settings
from db.core.types import utcnow
from db.models.limits import PublicSubmission

SESSION_WINDOW = timedelta(hours=1)
TOTAL_WINDOW = timedelta(minutes=1)
VISITOR_MAX = 64


class PublicForm(StrEnum):
    """The public forms that are rate-limited."""

    concern = "concern"
    reporter_reply = "reporter_reply"
    survey_answer = "survey_answer"


_WHAT = {
    PublicForm.concern: "concerns",
    PublicForm.reporter_reply: "messages",
    PublicForm.survey_answer: "survey answers",
}


class TooManySubmissions(DomainError):
    """A public form's rate limit is reached; nothing was saved."""


def _count(session: Session, form: PublicForm, since: datetime, visitor: str | None) -> int:
    query = select(func.count()).where(
        col(PublicSubmission.form) == form.value, col(PublicSubmission.at) > since
    )
    if visitor is not None:
        query = query.where(col(PublicSubmission.visitor) == visitor)
    return int(session.exec(query).one())


def check_allowance(
    *, session: Session, form: PublicForm, visitor: str, now: datetime | None = None
) -> None:
    """Raise TooManySubmissions if this browser session or everyone has sent too many."""
    now = now or utcnow()
    settings = get_settings()
    what = _WHAT[form]
    if _count(session, form, now - SESSION_WINDOW, visitor[:VISITOR_MAX]) >= (
        settings.public_per_session
    ):
        raise TooManySubmissions(
            f"You have sent {settings.public_per_session} {what} from this browser in the "
            "last hour, which is the limit. Nothing more was sent: please wait a while and "
            "try again, or open a new browser session later."
        )
    if _count(session, form, now - TOTAL_WINDOW, None) >= settings.public_per_minute:
        raise TooManySubmissions(
            f"Rapport is receiving a lot of {what} right now (at most "
            f"{settings.public_per_minute} a minute). Nothing was sent: please wait a minute "
            "and try again; your text is still in the form."
        )


def note_submission(
    *, session: Session, form: PublicForm, visitor: str, now: datetime | None = None
) -> None:
    """Count one accepted submission (the caller commits) and forget ones over an hour old."""
    now = now or utcnow()
    session.execute(delete(PublicSubmission).where(col(PublicSubmission.at) < now - SESSION_WINDOW))
    session.add(PublicSubmission(form=form.value, visitor=visitor[:VISITOR_MAX], at=now))
