"""Domain events: one call for any area to say that something happened.

`record_event` adds a row to the outbox (`domain_event`) in the caller's transaction, so
the event exists exactly when the change does. The worker (db/integrations/worker.py)
later turns each event into webhook deliveries and notifications; nothing here calls
out of the database. An event carries identifiers and facts only, never text a person
typed: a new concern is recorded as "one arrived, in this category", nothing more.
"""

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from db.core.types import utcnow
from db.models.integrations_events import DomainEvent

# Kinds an administrator may subscribe a webhook to, with what each means.
WEBHOOK_KINDS: dict[str, str] = {
    "deal.moved": "A deal moved to another stage",
    "deal.won": "A deal was won",
    "deal.lost": "A deal was lost",
    "contact.created": "A contact was created",
    "contact.merged": "Two contacts were merged",
    "contact.erased": "A person's data was erased",
    "consent.withdrawn": "Consent was withdrawn (or an objection recorded)",
    "concern.received": "A new concern arrived (its category only)",
    "privacy_request.due_soon": "A data-subject request is due within 2 days",
}

# Kinds that only notify people inside Rapport.
INTERNAL_KINDS: dict[str, str] = {
    "deal.assigned": "A deal was given to an owner",
    "case.reporter_replied": "A reporter added a message to their case",
    "case.deadline_soon": "A case's deadline is within 2 days",
    "case.deadline_passed": "A case's deadline has passed",
    "privacy_request.overdue": "A data-subject request is overdue",
    "task.due_soon": "A task is due within 2 days",
    "task.overdue": "A task is overdue",
}

EVENT_KINDS: dict[str, str] = WEBHOOK_KINDS | INTERNAL_KINDS


def record_event(
    *,
    session: Session,
    kind: str,
    entity: str,
    entity_id: int | None,
    data: dict[str, Any] | None = None,
    once_key: str | None = None,
    at: datetime | None = None,
) -> DomainEvent | None:
    """Add an event to the outbox in the caller's transaction (the caller commits).

    With `once_key`, an event already recorded under that key is not recorded again
    (None is returned): scans that find the same deadline twice tell people once.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"Unknown event kind {kind!r}; add it to db/core/events.py.")
    if once_key is not None:
        if session.exec(select(DomainEvent.id).where(DomainEvent.once_key == once_key)).first():
            return None
    event = DomainEvent(
        event_id=f"evt_{uuid.uuid4().hex}",
        kind=kind,
        entity=entity,
        entity_id=entity_id,
        data=json.dumps(data or {}, sort_keys=True, default=str),
        occurred_at=at or utcnow(),
        once_key=once_key,
    )
    if once_key is None:
        session.add(event)
        return event
    # Another worker may record the same key at the same moment: the unique key decides,
    # and only this event is undone, never the caller's other work.
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        return None
    return event


def event_data(event: DomainEvent) -> dict[str, Any]:
    """The facts an event carries."""
    loaded: dict[str, Any] = json.loads(event.data or "{}")
    return loaded
