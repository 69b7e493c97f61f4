"""The worker: jobs isolated from each other, leases in the database, and two workers
racing on one database (PostgreSQL and SQLite) never sending a delivery twice."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from db.auth.accounts import get_user_by_username
from db.core.events import record_event
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.integrations import webhooks, worker
from db.models.integrations_events import DomainEvent, JobLease, WebhookDelivery
from tests.conftest import ROOT, backends, drop_postgres_schema, fresh_engine
from tests.webhook_receiver import Receiver, webhook_receiver

EVENTS = 30


def test_a_failing_job_is_logged_and_the_others_still_run(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken(_session: Session, _now: object) -> str:
        raise RuntimeError("the mailbox is on fire")

    def fine(_session: Session, _now: object) -> str:
        ran.append("fine")
        return "1 thing done"

    jobs = [worker.Job("broken", broken), worker.Job("fine", fine)]
    with caplog.at_level("INFO", logger="rapport.worker"):
        outcomes = worker.run_once(engine=session.get_bind(), jobs=jobs)  # type: ignore[arg-type]
    assert [(o.job, o.state) for o in outcomes] == [("broken", "failed"), ("fine", "ran")]
    assert outcomes[0].line == "RuntimeError: the mailbox is on fire"
    assert ran == ["fine"]
    assert "broken: failed" in caplog.text and "fine: 1 thing done" in caplog.text
    # A failed job gives its lease back too: the next pass may run it at once.
    assert worker.take_lease(session=session, name="broken", holder="other", now=utcnow())


def test_a_lease_keeps_a_job_to_one_worker_until_it_expires_or_is_given_back(
    session: Session,
) -> None:
    now = utcnow()
    assert worker.take_lease(session=session, name="webhooks", holder="a", now=now)
    assert not worker.take_lease(session=session, name="webhooks", holder="b", now=now)
    assert worker.take_lease(session=session, name="webhooks", holder="a", now=now)  # renewal
    later = now + worker.LEASE + timedelta(seconds=1)
    assert worker.take_lease(session=session, name="webhooks", holder="b", now=later)
    assert not worker.take_lease(session=session, name="webhooks", holder="a", now=later)
    worker.release_lease(session=session, name="webhooks", holder="b")
    assert worker.take_lease(session=session, name="webhooks", holder="a", now=later)
    assert session.exec(select(JobLease.holder)).all() == ["a"]


def queue_events(session: Session, receiver: Receiver, count: int) -> None:
    """An endpoint for contact.created and `count` such events."""
    seed_users(session=session)
    admin = get_user_by_username(session=session, username="admin")
    registered = webhooks.register_endpoint(
        session=session, actor=admin, url=receiver.url, kinds=["contact.created"]
    )
    receiver.secret = registered.secret
    for number in range(count):
        record_event(
            session=session,
            kind="contact.created",
            entity="contact",
            entity_id=number + 1,
            data={"contact_id": number + 1},
        )
    session.commit()


def test_two_senders_at_once_without_leases_still_send_each_delivery_once(
    session: Session,
) -> None:
    engine = session.get_bind()
    with webhook_receiver(delay=0.02) as receiver:
        queue_events(session, receiver, 12)
        worker.dispatch_events(session, utcnow())

        def send() -> None:
            with Session(engine, expire_on_commit=False) as own:  # type: ignore[arg-type]
                webhooks.send_due(session=own)

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    ids = [hit.event_id for hit in receiver.hits]
    assert len(ids) == 12 and len(set(ids)) == 12, "each delivery was claimed by one sender"
    assert receiver.duplicates == 0
    session.expire_all()
    assert {d.attempts for d in session.exec(select(WebhookDelivery)).all()} == {1}


def database_url(engine: Engine, schema: str | None) -> str:
    """A URL another process can use to reach this test database (and schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if schema is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


@pytest.mark.parametrize("backend", backends())
def test_two_workers_racing_on_one_database_deliver_every_event_exactly_once(
    backend: str, tmp_path: Path
) -> None:
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        SQLModel.metadata.create_all(engine)
        with webhook_receiver(delay=0.05) as receiver:
            with Session(engine, expire_on_commit=False) as session:
                queue_events(session, receiver, EVENTS)
            env = {
                **os.environ,
                "RAPPORT_DATABASE_URL": database_url(engine, schema),
                "RAPPORT_SMTP_HOST": "",
                "PYTHONUNBUFFERED": "1",
            }
            workers = [
                subprocess.Popen(
                    [sys.executable, "manage.py", "worker", "--every", "0.1"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _ in range(2)
            ]
            try:
                deadline = time.monotonic() + 60
                while len(receiver.processed) < EVENTS and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(1.0)  # a late duplicate would arrive now
            finally:
                logs = []
                for process in workers:
                    process.send_signal(signal.SIGINT)
                for process in workers:
                    out, _ = process.communicate(timeout=30)
                    logs.append(out)
        ids = [hit.event_id for hit in receiver.hits]
        assert len(receiver.processed) == EVENTS, logs
        assert len(ids) == EVENTS and receiver.duplicates == 0, "no delivery was sent twice"
        assert all(hit.signed and hit.answered == 200 for hit in receiver.hits)
        for log in logs:
            jobs = "deadlines, events, webhooks, notifications, mail, codes, survey-schedule"
            assert f"Worker running {jobs} every 0.1 s" in log
            assert "Worker stopped." in log
        # Both ran passes, and the lease kept one of them out of a job the other was in.
        assert all("rapport.worker INFO" in log for log in logs)
        assert any("skipped, another worker holds it" in log for log in logs), logs
        with Session(engine) as session:
            deliveries = session.exec(select(WebhookDelivery)).all()
            assert len(deliveries) == EVENTS
            assert {(d.status, d.attempts) for d in deliveries} == {("delivered", 1)}
            events = session.exec(select(DomainEvent)).all()
            assert all(e.dispatched_at is not None for e in events)
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()


def test_the_worker_command_runs_one_pass_and_says_what_each_job_did(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'once.db'}"
    env = {**os.environ, "RAPPORT_DATABASE_URL": url, "RAPPORT_SMTP_HOST": ""}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate"], cwd=ROOT, env=env, capture_output=True
    )
    assert migrate.returncode == 0, migrate.stderr
    done = subprocess.run(
        [sys.executable, "manage.py", "worker"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "deadlines: ran: 0 deadline(s) found",
        "events: ran: 0 event(s): 0 delivery(ies), 0 notification(s) queued",
        "webhooks: ran: 0 delivered, 0 to retry, 0 given up",
        "notifications: ran: 0 sent, 0 digest(s), 0 to retry, 0 failed, 0 not sent",
        "mail: ran: no mailbox is connected and enabled",
        "codes: ran: 0 expired emailed code(s) forgotten",
        "survey-schedule: ran: nothing due",
    ]
