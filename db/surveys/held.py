"""Answers on their way in: whether a survey takes answers, and the pool of held ones.

A submitted questionnaire is held here (in memory, per database and survey) and written
later in a shuffled batch of at least the survey's threshold, in a transaction that
touches no invitation, with random keys and one day for all of it (db.surveys.answers
says why). It sits below the builder and the answering code, which both use it.
"""

import atexit
import secrets
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.auth.audit import record
from db.core.types import utcnow
from db.models.surveys import Survey, SurveyAnswer, SurveyResponse, SurveyStatus
from db.surveys.tallies import tally_survey

# Held answers are written once this long has passed even if fewer than the threshold
# came in (checked on later requests), so a quiet survey's answers still arrive.
HOLD_AT_MOST = timedelta(hours=6)


def accepts_answers(survey: Survey, today: date) -> bool:
    """True while the survey is open and inside its dates."""
    return survey.status == SurveyStatus.open.value and survey.opens_on <= today <= survey.closes_on


@dataclass(frozen=True)
class Held:
    """A submitted questionnaire waiting for its batch: no link, invitation or time."""

    survey_id: int
    # Which survey of that id: one deleted and its id reused never receives these.
    survey_created: datetime
    cuts: dict[str, str]
    answers: tuple[tuple[int, int | None, str | None], ...]


@dataclass
class _Pool:
    """Submissions held per survey for one database, and since when the oldest waits."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    held: dict[int, list[Held]] = field(default_factory=dict)
    since: dict[int, datetime] = field(default_factory=dict)


_POOLS: "weakref.WeakKeyDictionary[Engine, _Pool]" = weakref.WeakKeyDictionary()
_POOLS_LOCK = threading.Lock()


def engine_of(session: Session) -> Engine:
    """The engine a session is bound to (the pools are kept per database)."""
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def pool_of(engine: Engine) -> _Pool:
    """The pool of held answers of one database."""
    with _POOLS_LOCK:
        pool = _POOLS.get(engine)
        if pool is None:
            pool = _POOLS[engine] = _Pool()
        return pool


def held_count(*, session: Session, survey_id: int) -> int:
    """How many submitted answers of the survey wait for their batch."""
    pool = pool_of(engine_of(session))
    with pool.lock:
        return len(pool.held.get(survey_id, []))


def take(pool: _Pool, survey_id: int) -> list[Held]:
    """Remove and return what the pool holds for a survey."""
    with pool.lock:
        pool.since.pop(survey_id, None)
        return pool.held.pop(survey_id, [])


def flush_held_answers(
    *, session: Session, survey_id: int | None = None, due_only: bool = False
) -> int:
    """Write held answers (of one survey, or all) in shuffled batches; returns how many.

    With `due_only`, only surveys whose answers reached the threshold, waited longer
    than `HOLD_AT_MOST`, or whose survey no longer takes answers are written.
    """
    pool = pool_of(engine_of(session))
    with pool.lock:
        waiting = [survey_id] if survey_id is not None else list(pool.held)
        since = dict(pool.since)
    written = 0
    for sid in waiting:
        survey = session.get(Survey, sid)
        if survey is None:
            take(pool, sid)
            continue
        with pool.lock:
            # Held for a survey that was deleted and whose id was reused: gone with it.
            mine = [h for h in pool.held.get(sid, []) if h.survey_created == survey.created_at]
            if sid in pool.held:
                pool.held[sid] = mine
            n = len(mine)
        if due_only:
            stale = sid in since and utcnow() - since[sid] >= HOLD_AT_MOST
            if not (n >= survey.min_group or stale or not accepts_answers(survey, date.today())):
                continue
        batch = [h for h in take(pool, sid) if h.survey_created == survey.created_at]
        if batch and (n or not due_only):
            try:
                _write_batch(session, survey, batch)
            except Exception:
                # Nothing of the batch was saved: put it back for the next attempt.
                session.rollback()
                with pool.lock:
                    pool.held.setdefault(sid, []).extend(batch)
                    pool.since.setdefault(sid, utcnow())
                raise
            written += len(batch)
    return written


def _write_batch(session: Session, survey: Survey, batch: list[Held]) -> None:
    """One transaction: the batch's responses in random order, random keys, one day."""
    order = list(batch)
    secrets.SystemRandom().shuffle(order)
    # The day the batch is written (never after the close), the same for all of it.
    day = min(date.today(), survey.closes_on)
    responses = [
        SurveyResponse(
            id=uuid.uuid4().hex,
            survey_id=held.survey_id,
            submitted_on=day,
            **held.cuts,  # type: ignore[arg-type]
        )
        for held in order
    ]
    session.add_all(responses)
    session.flush()  # the answers' foreign key needs the response rows first
    for response, held in zip(responses, order, strict=True):
        for question_id, value, text in held.answers:
            session.add(
                SurveyAnswer(
                    response_id=response.id, question_id=question_id, value=value, text=text
                )
            )
    session.flush()
    # The log counts answers per batch: no entry per answer, no time that pairs with one.
    record(
        session=session,
        actor=None,
        action="survey.answers",
        entity="survey",
        entity_id=survey.id,
        details={"count": len(order), "on": day.isoformat()},
    )
    if survey.tallied:
        # A closed survey's tallies stand for its answers: recompute them with these.
        tally_survey(session=session, survey=survey)
    session.commit()
    forget_commit_order(session)


def _flush_at_exit() -> None:
    """On a clean shutdown, write what is still held rather than lose it."""
    with _POOLS_LOCK:
        pools = list(_POOLS.items())
    for engine, pool in pools:
        if any(pool.held.values()):
            try:
                with Session(engine) as session:
                    flush_held_answers(session=session)
            except Exception:  # shutting down: there is nobody left to tell
                pass


atexit.register(_flush_at_exit)


def forget_commit_order(session: Session) -> None:
    """On SQLite, fold the write-ahead log into the database file and empty it.

    The log keeps each recent commit apart, in order; emptied after each spent link and
    each batch, it never holds a spent link beside the answers it could be paired with.
    The database file itself keeps no order of commits. (Best effort: a reader still
    inside a long read makes SQLite leave the log for the next time.)
    """
    engine = engine_of(session)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
