"""Webhooks out, against a real HTTP receiver on loopback: signed, retried with back-off,
recorded, replayable, exactly once by event id, and never in a page's way."""

import json
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.intake import submit_concern
from db.core.errors import Forbidden, ValidationError
from db.core.events import record_event
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.integrations import webhooks, worker
from db.models.auth import User
from db.models.cases import ConcernCreate
from db.models.integrations_events import DeliveryStatus, DomainEvent, WebhookDelivery
from db.models.pipeline import Deal, DealCreate, Stage
from db.pipeline.commands import create_deal, move_deal, win_deal
from db.pipeline.setup import StageSpec, create_pipeline, list_stages
from tests.webhook_receiver import Receiver, verify_signature, webhook_receiver

MARKER = "what-the-reporter-wrote-5d2e"


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


@pytest.fixture
def deal(session: Session) -> tuple[Deal, list[Stage]]:
    seed_users(session=session)
    pipeline = create_pipeline(
        session=session,
        name="New business",
        stages=[StageSpec("Lead", 10, 7), StageSpec("Qualified", 40, None)],
        actor=OPERATOR,
    )
    stages = list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR)
    made = create_deal(
        session=session,
        deal_in=DealCreate(title="Care records", pipeline_id=pipeline.id or 0, amount=Decimal(900)),
        actor=user(session, "sales"),
    )
    return made, stages


def register(session: Session, receiver: Receiver, kinds: list[str]) -> webhooks.Registered:
    registered = webhooks.register_endpoint(
        session=session, actor=user(session, "admin"), url=receiver.url, kinds=kinds
    )
    receiver.secret = registered.secret
    return registered


def test_the_receiver_gets_a_deal_move_signed_and_once_after_failing_twice(
    session: Session, deal: tuple[Deal, list[Stage]]
) -> None:
    made, stages = deal
    engine = session.get_bind()
    with webhook_receiver(fail_first=2) as receiver:
        registered = register(session, receiver, ["deal.moved"])
        assert registered.secret.startswith("whsec_") and len(registered.secret) > 40
        move_deal(
            session=session,
            deal_id=made.id or 0,
            stage_id=stages[1].id or 0,
            version=made.version,
            actor=user(session, "sales"),
        )
        start = utcnow()
        first = worker.run_once(engine=engine, now=start)  # type: ignore[arg-type]
        assert [o.state for o in first] == ["ran"] * len(worker.JOBS)
        # Back-off: nothing is sent again before the first delay has passed.
        worker.run_once(engine=engine, now=start + timedelta(seconds=10))  # type: ignore[arg-type]
        assert len(receiver.hits) == 1
        second = start + webhooks.retry_delay(1)
        worker.run_once(engine=engine, now=second)  # type: ignore[arg-type]
        third = second + webhooks.retry_delay(2)
        worker.run_once(engine=engine, now=third)  # type: ignore[arg-type]
        worker.run_once(engine=engine, now=third + timedelta(hours=1))  # type: ignore[arg-type]

    assert [h.answered for h in receiver.hits] == [500, 500, 200]
    assert all(h.signed for h in receiver.hits)
    assert len({h.event_id for h in receiver.hits}) == 1, "every retry carries the same event id"
    assert {h.body for h in receiver.hits} == {receiver.hits[0].body}
    (body,) = receiver.processed.values()
    assert body["type"] == "deal.moved"
    assert body["data"]["deal_id"] == made.id
    assert body["data"]["to_stage_id"] == stages[1].id
    assert body["id"] == receiver.hits[0].event_id
    session.expire_all()
    delivery = session.exec(select(WebhookDelivery)).one()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    rows = webhooks.list_deliveries(session=session, actor=user(session, "admin"))
    assert [(r.kind, r.status, r.attempts) for r in rows] == [("deal.moved", "delivered", 3)]


def test_a_replay_sends_the_same_event_id_and_the_receiver_keeps_it_once(
    session: Session, deal: tuple[Deal, list[Stage]]
) -> None:
    made, _stages = deal
    engine = session.get_bind()
    admin = user(session, "admin")
    with webhook_receiver() as receiver:
        register(session, receiver, ["deal.won"])
        win_deal(
            session=session,
            deal_id=made.id or 0,
            version=made.version,
            amount=Decimal(1200),
            actor=user(session, "sales"),
        )
        worker.run_once(engine=engine)  # type: ignore[arg-type]
        delivery = session.exec(select(WebhookDelivery)).one()
        webhooks.replay_delivery(session=session, actor=admin, delivery_id=delivery.id or 0)
        worker.run_once(engine=engine)  # type: ignore[arg-type]
    assert [h.answered for h in receiver.hits] == [200, 200]
    assert receiver.hits[0].event_id == receiver.hits[1].event_id
    assert len(receiver.processed) == 1 and receiver.duplicates == 1
    (body,) = receiver.processed.values()
    assert body["data"] == {"amount": "1200.00", "currency": "GBP", "deal_id": made.id}


def test_a_dead_or_slow_endpoint_never_slows_a_command_and_is_recorded(
    session: Session, deal: tuple[Deal, list[Stage]], monkeypatch: pytest.MonkeyPatch
) -> None:
    made, stages = deal
    engine = session.get_bind()
    admin = user(session, "admin")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    webhooks.register_endpoint(
        session=session,
        actor=admin,
        url=f"http://127.0.0.1:{dead_port}/gone",
        kinds=["deal.moved"],
    )
    monkeypatch.setattr(webhooks, "TIMEOUT", webhooks.httpx.Timeout(0.5))
    with webhook_receiver(delay=3.0) as slow:
        register(session, slow, ["deal.moved"])
        started = time.monotonic()
        move_deal(
            session=session,
            deal_id=made.id or 0,
            stage_id=stages[1].id or 0,
            version=made.version,
            actor=user(session, "sales"),
        )
        took = time.monotonic() - started
        worker.run_once(engine=engine)  # type: ignore[arg-type]
    assert took < 1.0, f"moving a deal took {took:.2f} s"
    session.expire_all()
    rows = {r.url: r for r in webhooks.list_deliveries(session=session, actor=admin)}
    dead = rows[f"http://127.0.0.1:{dead_port}/gone"]
    assert dead.status == "pending" and dead.attempts == 1
    assert dead.last_error and dead.last_error.startswith("Could not reach the receiver")
    assert dead.next_attempt_at is not None
    late = rows[slow.url]
    assert late.last_error == "The receiver did not answer in time."


def test_an_endpoint_gives_up_after_the_last_retry_and_can_be_replayed(
    session: Session, deal: tuple[Deal, list[Stage]]
) -> None:
    made, stages = deal
    engine = session.get_bind()
    with webhook_receiver(fail_first=webhooks.MAX_ATTEMPTS) as receiver:
        register(session, receiver, ["deal.moved"])
        move_deal(
            session=session,
            deal_id=made.id or 0,
            stage_id=stages[1].id or 0,
            version=made.version,
            actor=user(session, "sales"),
        )
        at = utcnow()
        for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
            worker.run_once(engine=engine, now=at)  # type: ignore[arg-type]
            at += webhooks.retry_delay(attempt)
        session.expire_all()
        delivery = session.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.failed, 8)
        assert delivery.last_error == "The receiver answered HTTP 500."
        webhooks.replay_delivery(
            session=session, actor=user(session, "admin"), delivery_id=delivery.id or 0
        )
        worker.run_once(engine=engine)  # type: ignore[arg-type]
    assert [h.answered for h in receiver.hits][-1] == 200
    assert len(receiver.processed) == 1


def test_a_new_concern_reaches_a_webhook_as_its_category_only(session: Session) -> None:
    seed_users(session=session)
    with webhook_receiver() as receiver:
        register(session, receiver, ["concern.received"])
        submit_concern(
            session=session,
            concern_in=ConcernCreate(
                category="bullying",
                what_happened=f"My supervisor shouts. {MARKER}",
                where_when=f"Ward 7 {MARKER}",
                people_involved=f"The night supervisor {MARKER}",
                anonymous=False,
                contact_name="Rosa Reporter",
                contact_email="rosa@example.org",
            ),
            receipt_log2n=10,
        )
        worker.run_once(engine=session.get_bind())  # type: ignore[arg-type]
    (hit,) = receiver.hits
    assert MARKER.encode() not in hit.body and b"Rosa" not in hit.body
    assert b"rosa@" not in hit.body
    body = json.loads(hit.body)
    assert body["type"] == "concern.received"
    assert body["data"] == {"category": "bullying"}


def test_only_subscribed_kinds_are_sent_and_only_since_registration(
    session: Session, deal: tuple[Deal, list[Stage]]
) -> None:
    made, stages = deal
    before = session.exec(select(DomainEvent)).all()
    assert [e.kind for e in before] == []  # the operator's own setup notifies nobody
    with webhook_receiver() as receiver:
        record_event(
            session=session,
            kind="contact.created",
            entity="contact",
            entity_id=1,
            at=utcnow() - timedelta(minutes=5),
        )
        session.commit()
        register(session, receiver, ["contact.created", "deal.won"])
        move_deal(
            session=session,
            deal_id=made.id or 0,
            stage_id=stages[1].id or 0,
            version=made.version,
            actor=user(session, "sales"),
        )
        worker.run_once(engine=session.get_bind())  # type: ignore[arg-type]
    assert receiver.hits == []


def test_only_admins_register_and_urls_and_kinds_are_checked(session: Session) -> None:
    seed_users(session=session)
    with pytest.raises(Forbidden):
        webhooks.register_endpoint(
            session=session, actor=user(session, "manager"), url="https://x.org", kinds=["deal.won"]
        )
    admin = user(session, "admin")
    for url in ("ftp://x.org/h", "x.org/hooks", "https://user:pw@x.org/h"):
        with pytest.raises(ValidationError):
            webhooks.register_endpoint(session=session, actor=admin, url=url, kinds=["deal.won"])
    with pytest.raises(ValidationError):
        webhooks.register_endpoint(
            session=session, actor=admin, url="https://x.org/h", kinds=["case.reporter_replied"]
        )
    listed = webhooks.list_endpoints(session=session, actor=admin)
    assert listed == []


def test_a_signature_fails_for_another_secret_a_changed_body_or_an_old_time() -> None:
    body = b'{"id":"evt_1"}'
    now = int(time.time())
    header = webhooks.sign("whsec_a", now, body)
    assert verify_signature("whsec_a", header, body)
    assert webhooks.verify("whsec_a", header, body, now=now)
    assert not verify_signature("whsec_b", header, body)
    assert not verify_signature("whsec_a", header, body + b" ")
    old = webhooks.sign("whsec_a", now - 3600, body)
    assert not verify_signature("whsec_a", old, body)
    assert not webhooks.verify("whsec_a", "garbage", body, now=now)


def test_retries_back_off_exponentially_up_to_six_hours() -> None:
    delays = [webhooks.retry_delay(n) for n in range(1, 9)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=8)]
    assert delays == sorted(delays) and delays[-1] == timedelta(hours=6)
