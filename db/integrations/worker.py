"""The worker: `manage.py worker [--every 5]` runs one pass of each job in `JOBS`.

`JOBS` is a hook: db/wiring.py lists the jobs (dispatching events, sending webhooks,
scanning deadlines, sending notification emails), and a new job — a mailbox sync, a
survey schedule — is one more line there. Each job runs in its own session and its own
try: one that fails is logged and the others still run.

Several workers may run beside several app replicas on one database. Each job is taken
under a lease (a row of `job_lease` that one worker holds until it expires), so only one
worker runs a job at a time; within a job, each webhook attempt and each email is also
claimed by a single conditional UPDATE, so nothing is sent twice even if a lease ran out
in the middle of a pass.
"""

import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.core.engine import get_engine
from db.core.types import utcnow
from db.integrations import notifications, webhooks
from db.models.integrations_events import DomainEvent, JobLease

log = logging.getLogger("rapport.worker")

LEASE = timedelta(minutes=10)
# A lease given back expires at once, whatever clock the next worker reads.
RELEASED = datetime(1970, 1, 1, tzinfo=UTC)
EVENTS_BATCH = 500
# A pass stops after this many, so the other jobs are not kept waiting.
EVENTS_PER_PASS = 20_000


@dataclass(frozen=True)
class Job:
    """One thing the worker does on each pass: `run` returns a line for the log."""

    name: str
    run: Callable[[Session, datetime], str]


JOBS: list[Job] = []


def worker_name() -> str:
    """A name for this worker that no other shares: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# --- leases ---------------------------------------------------------------------------


def take_lease(
    *, session: Session, name: str, holder: str, now: datetime, ttl: timedelta = LEASE
) -> bool:
    """Take (or renew) the lease on a job; False while another worker holds it."""
    result = session.execute(
        update(JobLease)
        .where(
            col(JobLease.name) == name,
            or_(col(JobLease.expires_at) < now, col(JobLease.holder) == holder),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        session.commit()
        return True
    session.rollback()
    if session.get(JobLease, name) is not None:
        return False
    try:
        session.add(JobLease(name=name, holder=holder, expires_at=now + ttl))
        session.commit()
    except IntegrityError:
        session.rollback()  # another worker created it at the same moment
        return False
    return True


def release_lease(*, session: Session, name: str, holder: str) -> None:
    """Give a job's lease back, so the next pass of any worker may take it."""
    session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        .values(expires_at=RELEASED)
    )
    session.commit()


# --- the built-in jobs ----------------------------------------------------------------


def dispatch_events(session: Session, now: datetime) -> str:
    """Turn each new domain event into webhook deliveries and notifications, once."""
    done = deliveries = notes = 0
    while True:
        pending = session.exec(
            select(DomainEvent)
            .where(col(DomainEvent.dispatched_at).is_(None))
            .order_by(col(DomainEvent.id))
            .limit(EVENTS_BATCH)
        ).all()
        for event in pending:
            deliveries += webhooks.queue_deliveries(session, event)
            notes += notifications.notify_event(session, event, now)
            event.dispatched_at = now
            session.add(event)
            session.commit()
        done += len(pending)
        if len(pending) < EVENTS_BATCH or done >= EVENTS_PER_PASS:
            break
    return f"{done} event(s): {deliveries} delivery(ies), {notes} notification(s) queued"


def send_webhooks(session: Session, now: datetime) -> str:
    """Send the webhook deliveries that are due."""
    return webhooks.send_due(session=session, now=now).line()


def scan_deadlines(session: Session, now: datetime) -> str:
    """Find deadlines 2 days ahead or just passed."""
    return f"{notifications.scan_deadlines(session=session, now=now)} deadline(s) found"


def send_notification_emails(session: Session, now: datetime) -> str:
    """Email the notifications that are due, and the daily digests."""
    return notifications.send_emails(session=session, now=now).line()


# --- a pass ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one job went in one pass."""

    job: str
    state: str  # "ran", "skipped" (another worker holds it) or "failed"
    line: str


def run_once(
    *,
    engine: Engine | None = None,
    holder: str | None = None,
    now: datetime | None = None,
    jobs: list[Job] | None = None,
) -> list[Outcome]:
    """One pass of every job, each under its lease and in its own session."""
    engine = engine or get_engine()
    holder = holder or worker_name()
    outcomes: list[Outcome] = []
    for job in JOBS if jobs is None else jobs:
        at = now or utcnow()
        with Session(engine, expire_on_commit=False) as session:
            try:
                if not take_lease(session=session, name=job.name, holder=holder, now=at):
                    outcomes.append(Outcome(job.name, "skipped", "another worker holds it"))
                    log.info("%s: skipped, another worker holds it", job.name)
                    continue
            except Exception:  # noqa: BLE001  (a database outage must not stop the loop)
                session.rollback()
                log.exception("%s: could not take its lease", job.name)
                outcomes.append(Outcome(job.name, "failed", "could not take its lease"))
                continue
            started = time.monotonic()
            try:
                line = job.run(session, at)
                state = "ran"
                # A pass that found nothing to do is logged quietly, so the log shows work.
                level = logging.INFO if re.search(r"[1-9]", line) else logging.DEBUG
                log.log(level, "%s: %s (%.2f s)", job.name, line, time.monotonic() - started)
            except Exception as err:  # noqa: BLE001  (one failing job never stops the others)
                session.rollback()
                state, line = "failed", f"{type(err).__name__}: {err}"
                log.exception("%s: failed", job.name)
            finally:
                try:
                    release_lease(session=session, name=job.name, holder=holder)
                except Exception:  # noqa: BLE001
                    session.rollback()
                    log.exception("%s: could not release its lease", job.name)
            outcomes.append(Outcome(job.name, state, line))
    return outcomes


def run_forever(*, every: float, engine: Engine | None = None) -> None:
    """A pass of every job, then a pause of `every` seconds, until interrupted."""
    holder = worker_name()
    log.info("Worker %s started: %s every %g s", holder, ", ".join(j.name for j in JOBS), every)
    while True:
        started = time.monotonic()
        run_once(engine=engine, holder=holder)
        time.sleep(max(0.0, every - (time.monotonic() - started)))
