"""Domain events (the outbox), webhook endpoints and deliveries, notifications and the
worker's leases.

An area records a domain event in the same transaction as its change; the worker turns
each event into webhook deliveries and notifications, so nothing outside the database
is ever called while a person waits for a page.
"""

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class DomainEvent(SQLModel, table=True):
    """Something that happened, written with the change itself; never edited but for
    `dispatched_at`, set once the worker has queued its deliveries and notifications.

    `data` is what a webhook receiver gets: identifiers and facts, never free text a
    person typed (no concern content, no reporter data)."""

    __tablename__ = "domain_event"
    __table_args__ = (Index("ix_domain_event_pending", "dispatched_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    # The public id receivers deduplicate by (the same on every retry and replay).
    event_id: str = Field(max_length=40, unique=True)
    kind: str = Field(max_length=48, index=True)
    entity: str = Field(max_length=32)
    entity_id: int | None = Field(default=None)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # When it was written (an import records past events now): what endpoints go by.
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # An event found by a scan (a deadline coming up) is recorded once per key.
    once_key: str | None = Field(default=None, max_length=120, unique=True)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookEndpoint(SQLModel, table=True):
    """A URL an administrator registered for some kinds of event."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=200)
    # Space-separated event kinds.
    kinds: str = Field(default="", max_length=1000)
    # Signs each delivery (HMAC-SHA256); shown once, when the endpoint is registered.
    secret: str = Field(max_length=100)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)


class DeliveryStatus:
    """Where a delivery stands."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last retry; can be replayed


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: sent by the worker, retried with back-off."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: int = Field(foreign_key="domain_event.id", index=True)
    status: str = Field(default=DeliveryStatus.pending, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationPreference(SQLModel, table=True):
    """What one person wants to be told, and how: the kinds they turned off, and
    whether email comes at once or as one daily digest."""

    __tablename__ = "notification_preference"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    # Space-separated notification kinds this person does not want.
    muted: str = Field(default="", max_length=500)
    digest: bool = Field(default=False)
    last_digest_on: date | None = Field(default=None)
    version: int = Field(default=1)


class EmailStatus:
    """Where a notification's email stands."""

    pending = "pending"
    digest = "digest"  # waits for the person's daily digest
    sent = "sent"
    failed = "failed"
    unsent = "unsent"  # never sent: no mail server, no address, or no longer allowed


class Notification(SQLModel, table=True):
    """One thing one person was told, on Home and by email; kept as the record of it.

    The title says what happened and where to look, never what anyone wrote."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "source_event_id"),
        Index("ix_notification_user_created", "user_id", "created_at"),
        Index("ix_notification_email_due", "email_status", "next_email_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    kind: str = Field(max_length=32)
    title: str = Field(max_length=200)
    link: str = Field(default="", max_length=200)
    entity: str = Field(default="", max_length=32)
    entity_id: int | None = Field(default=None)
    source_event_id: int | None = Field(default=None, foreign_key="domain_event.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_status: str = Field(default=EmailStatus.pending, max_length=16)
    email_attempts: int = Field(default=0)
    next_email_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    emailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    email_error: str | None = Field(default=None, max_length=300)


class JobLease(SQLModel, table=True):
    """Which worker runs a job until when: two workers never run one job at once."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=120)
    expires_at: datetime = Field(sa_type=UTCDateTime)
