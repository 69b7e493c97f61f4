"""Webhooks out: administrators register URLs for kinds of event; the worker signs and
sends each delivery, retries with back-off, and records how every attempt went.

A delivery is a POST of JSON `{"id", "type", "created", "data"}` with the headers

    Rapport-Event-Id: evt_…            the same on every retry and replay: deduplicate by it
    Rapport-Event: deal.moved
    Rapport-Signature: t=1764770000,v1=<hex HMAC-SHA256 of "t.body" with the secret>

as Stripe signs its webhooks. Only the worker sends, with short timeouts, so an endpoint
that is slow or dead never slows a page: a command only adds rows to the database.
"""

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import update
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.events import WEBHOOK_KINDS, event_data
from db.core.types import utcnow
from db.models.auth import Role
from db.models.integrations_events import (
    DeliveryStatus,
    DomainEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger("rapport.webhooks")

URL_MAX = 500
DESCRIPTION_MAX = 200
# Back-off after each failed attempt: 30 s, 2 min, 8 min, 32 min, ~2 h, then every 6 h.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)
MAX_ATTEMPTS = 8
# Each attempt waits at most this long for the receiver.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# While one worker sends an attempt, no other picks the delivery up.
IN_FLIGHT = timedelta(minutes=5)
BATCH = 100
SIGNATURE_HEADER = "Rapport-Signature"
EVENT_ID_HEADER = "Rapport-Event-Id"
EVENT_KIND_HEADER = "Rapport-Event"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt (exponential, capped)."""
    delay: timedelta = FIRST_RETRY * (4 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: int = 300) -> bool:
    """Whether a signature header is right for this body and recent enough (for receivers)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", "")) and abs(now - timestamp) <= tolerance


def _check_url(url: str) -> str:
    cleaned = (url or "").strip()
    parts = urlsplit(cleaned)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            "URL: give a full http:// or https:// address, like https://example.org/hooks.",
            field="url",
        )
    if len(cleaned) > URL_MAX:
        raise ValidationError(f"URL: use at most {URL_MAX} characters.", field="url")
    if parts.username or parts.password:
        raise ValidationError(
            "URL: leave user names and passwords out of the address; the signature "
            "proves that a delivery comes from Rapport.",
            field="url",
        )
    return cleaned


def _check_kinds(kinds: list[str]) -> str:
    unknown = sorted(set(kinds) - set(WEBHOOK_KINDS))
    if unknown:
        raise ValidationError(f"Events: {', '.join(unknown)} cannot be sent.", field="kinds")
    if not kinds:
        raise ValidationError("Events: choose at least one kind of event.", field="kinds")
    return " ".join(k for k in WEBHOOK_KINDS if k in set(kinds))


@dataclass(frozen=True)
class Registered:
    """A new endpoint and its secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def register_endpoint(
    *,
    session: Session,
    actor: Actor,
    url: str,
    kinds: list[str],
    description: str = "",
) -> Registered:
    """Register a URL for some kinds of event; returns its signing secret once (admins)."""
    require_role(actor, Role.admin, doing="register webhooks")
    cleaned = _check_url(url)
    chosen = _check_kinds(kinds)
    about = (description or "").strip()
    if len(about) > DESCRIPTION_MAX:
        raise ValidationError(
            f"Description: use at most {DESCRIPTION_MAX} characters.", field="description"
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=cleaned, description=about, kinds=chosen, secret=secret, created_by_id=actor.id
    )
    session.add(endpoint)
    session.flush()
    record(
        session,
        actor,
        "webhook.register",
        "webhook_endpoint",
        entity_id=endpoint.id,
        details={"url": cleaned, "kinds": chosen.split()},
    )
    session.commit()
    return Registered(endpoint=endpoint, secret=secret)


def list_endpoints(*, session: Session, actor: Actor) -> list[WebhookEndpoint]:
    """Every registered endpoint, newest first (admins)."""
    require_role(actor, Role.admin, doing="see webhooks")
    return list(
        session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id).desc())).all()
    )


def set_endpoint(
    *,
    session: Session,
    actor: Actor,
    endpoint_id: int,
    active: bool,
    kinds: list[str],
    version: int,
) -> WebhookEndpoint:
    """Pause or resume an endpoint and change its events (admins)."""
    require_role(actor, Role.admin, doing="change webhooks")
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"There is no webhook endpoint {endpoint_id}.")
    chosen = _check_kinds(kinds)
    result = session.execute(
        update(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == endpoint_id, col(WebhookEndpoint.version) == version)
        .values(active=active, kinds=chosen, version=version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict("Someone changed this endpoint since you opened it; reload the page.")
    record(
        session,
        actor,
        "webhook.change",
        "webhook_endpoint",
        entity_id=endpoint_id,
        details={"active": active, "kinds": chosen.split()},
    )
    session.commit()
    session.refresh(endpoint)
    return endpoint


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery as the admin screen lists it."""

    id: int
    endpoint_id: int
    url: str
    event_id: str
    kind: str
    occurred_at: datetime
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None


def list_deliveries(
    *,
    session: Session,
    actor: Actor,
    endpoint_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """The latest deliveries, newest first, with how each went (admins)."""
    require_role(actor, Role.admin, doing="see webhook deliveries")
    query = (
        select(WebhookDelivery, DomainEvent, WebhookEndpoint)
        .join(DomainEvent, col(DomainEvent.id) == col(WebhookDelivery.event_id))
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
        .order_by(col(WebhookDelivery.id).desc())
        .limit(min(max(limit, 1), 500))
    )
    if endpoint_id is not None:
        query = query.where(col(WebhookDelivery.endpoint_id) == endpoint_id)
    if status:
        query = query.where(col(WebhookDelivery.status) == status)
    return [
        DeliveryRow(
            id=d.id or 0,
            endpoint_id=d.endpoint_id,
            url=endpoint.url,
            event_id=event.event_id,
            kind=event.kind,
            occurred_at=event.occurred_at,
            status=d.status,
            attempts=d.attempts,
            last_attempt_at=d.last_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.pending else None,
        )
        for d, event, endpoint in session.exec(query).all()
    ]


def replay_delivery(*, session: Session, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again at the worker's next pass, with the same event id (admins)."""
    require_role(actor, Role.admin, doing="replay webhook deliveries")
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"There is no webhook delivery {delivery_id}.")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    session.add(delivery)
    record(session, actor, "webhook.replay", "webhook_delivery", entity_id=delivery_id)
    session.commit()
    return delivery


# --- the worker's side --------------------------------------------------------------


def queue_deliveries(session: Session, event: DomainEvent) -> int:
    """Queue one delivery per active endpoint that wants this kind (the caller commits).

    An endpoint gets the events recorded since it was registered."""
    if event.kind not in WEBHOOK_KINDS:
        return 0
    queued = 0
    endpoints = session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.active))).all()
    for endpoint in endpoints:
        if event.kind in endpoint.kinds.split() and event.recorded_at >= endpoint.created_at:
            session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id or 0,
                    event_id=event.id or 0,
                    next_attempt_at=event.recorded_at,
                )
            )
            queued += 1
    return queued


def body_of(event: DomainEvent) -> bytes:
    """The JSON a receiver gets for an event (the same bytes on every attempt)."""
    envelope = {
        "id": event.event_id,
        "type": event.kind,
        "created": event.occurred_at.isoformat(timespec="seconds"),
        "data": event_data(event),
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()


def _claim(session: Session, delivery_id: int, now: datetime) -> bool:
    """Take one due attempt; True for exactly one worker, whatever else runs."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
        )
        .values(
            attempts=WebhookDelivery.attempts + 1,
            last_attempt_at=now,
            next_attempt_at=now + IN_FLIGHT,
        )
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _post(client: httpx.Client, endpoint: WebhookEndpoint, event: DomainEvent) -> httpx.Response:
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Rapport-Webhooks/1",
        EVENT_ID_HEADER: event.event_id,
        EVENT_KIND_HEADER: event.kind,
        # The moment of sending, which the receiver compares with its own clock.
        SIGNATURE_HEADER: sign(endpoint.secret, int(time.time()), body),
    }
    return client.post(endpoint.url, content=body, headers=headers)


@dataclass
class SendReport:
    """What one pass of the sender did."""

    delivered: int = 0
    retrying: int = 0
    gave_up: int = 0

    def line(self) -> str:
        """One line for the worker's log."""
        return f"{self.delivered} delivered, {self.retrying} to retry, {self.gave_up} given up"


def send_due(
    *, session: Session, now: datetime | None = None, client: httpx.Client | None = None
) -> SendReport:
    """Send every delivery that is due, once each; record how each attempt went."""
    now = now or utcnow()
    report = SendReport()
    due = session.exec(
        select(WebhookDelivery.id)
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
        )
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        .limit(BATCH)
    ).all()
    if not due:
        return report
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for delivery_id in due:
            if delivery_id is None or not _claim(session, delivery_id, now):
                continue
            delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
            assert delivery is not None
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            event = session.get(DomainEvent, delivery.event_id)
            assert endpoint is not None and event is not None
            status: int | None = None
            error: str | None = None
            if not endpoint.active:
                error = "The endpoint is paused."
            else:
                try:
                    response = _post(http, endpoint, event)
                    status = response.status_code
                    if not 200 <= status < 300:
                        error = f"The receiver answered HTTP {status}."
                except httpx.TimeoutException:
                    error = "The receiver did not answer in time."
                except httpx.HTTPError as err:
                    error = f"Could not reach the receiver: {type(err).__name__}: {err}"[:500]
            delivery.last_status_code = status
            if error is None:
                delivery.status = DeliveryStatus.delivered
                delivery.delivered_at = now
                delivery.last_error = None
                report.delivered += 1
            elif delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.failed
                delivery.last_error = error
                report.gave_up += 1
            else:
                delivery.last_error = error
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
                report.retrying += 1
            session.add(delivery)
            session.commit()
            log.info(
                "webhook %s %s to %s: attempt %d, %s",
                event.kind,
                event.event_id,
                endpoint.url,
                delivery.attempts,
                "delivered" if error is None else error,
            )
    finally:
        if own:
            http.close()
    return report
