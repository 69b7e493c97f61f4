"""Audit log commands: append a link to the chain, read it, verify it."""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.core.errors import ValidationError
from db.core.types import storable_text, utcnow
from db.models.audit import GENESIS_HASH, AuditEvent, AuditHead
from db.models.auth import Role

PAGE_SIZE_MAX = 500


def canonical_json(details: dict[str, Any] | None) -> str:
    """Stable JSON text for hashing: sorted keys, no spaces."""
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str)


def _link_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str,
    entity_id: str | None,
    details: str,
    prev_hash: str,
) -> str:
    payload = "\x1f".join(
        [
            str(seq),
            occurred_at.isoformat(timespec="microseconds"),
            "" if actor_id is None else str(actor_id),
            actor_name,
            action,
            entity,
            entity_id or "",
            details,
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def ensure_head(*, session: Session) -> None:
    """Create the chain's head row if it is missing (commits)."""
    if session.get(AuditHead, 1) is None:
        session.add(AuditHead(id=1, seq=0, last_hash=GENESIS_HASH))
        session.commit()


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (the caller commits).

    Called as `record(session, actor, "case.assign", "case", entity_id=..., details=...)`:
    who did what to which kind of thing, then which one and the particulars.
    """
    # Take the head row's write lock first, so two writers queue up rather than
    # both linking to the same predecessor (a fork the verifier would flag).
    result = session.execute(
        update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, seq=1, last_hash=GENESIS_HASH))
        session.flush()
    head = session.exec(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).one()
    occurred_at = utcnow()
    text = canonical_json(details)
    actor_id = actor.id if actor is not None else None
    actor_name = actor.username if actor is not None else "anonymous"
    # Hash the text as it will be stored (db.core.types.storable_text), or the chain would break.
    ident = None if entity_id is None else storable_text(str(entity_id))
    digest = _link_hash(
        seq=head.seq,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        entity=entity,
        entity_id=ident,
        details=text,
        prev_hash=head.last_hash,
    )
    event = AuditEvent(
        seq=head.seq,
        occurred_at=occurred_at,
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        entity=entity,
        entity_id=ident,
        details=text,
        prev_hash=head.last_hash,
        hash=digest,
    )
    head.last_hash = digest
    session.add(event)
    session.add(head)
    return event


def record_view(
    *, session: Session, actor: Actor, entity: str, entity_id: object, what: str = "view"
) -> None:
    """Record that `actor` opened a sensitive record (commits)."""
    record(session, actor, what, entity, entity_id=entity_id)
    session.commit()


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def _walk(events: Iterable[AuditEvent], head: AuditHead | None) -> ChainReport:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                expected_seq,
                f"event {expected_seq} is missing (next stored event is {event.seq})",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"event {event.seq} does not link to event {event.seq - 1} "
                "(removed, reordered or altered)",
            )
        recomputed = _link_hash(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            action=event.action,
            entity=event.entity,
            entity_id=event.entity_id,
            details=event.details,
            prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            return ChainReport(
                False, checked, event.seq, f"event {event.seq} was altered after it was written"
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.last_hash != expected_prev):
        return ChainReport(
            False,
            checked,
            last_seq + 1,
            f"the chain ends at event {last_seq} but its head records event {head.seq} "
            "(events were removed from the end)",
        )
    return ChainReport(True, checked)


def verify_chain(*, session: Session) -> ChainReport:
    """Walk every event in order and report the first broken link, if any."""
    head = session.get(AuditHead, 1)
    events = session.exec(
        select(AuditEvent).order_by(col(AuditEvent.seq)).execution_options(yield_per=2000)
    )
    return _walk(events, head)


@dataclass(frozen=True)
class AuditFilter:
    """What the Audit log page filters by; empty means no filter."""

    actor_name: str | None = None
    action: str | None = None
    entity: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _conditions(flt: AuditFilter) -> list[Any]:
    if flt.since and flt.until and flt.since > flt.until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    conditions: list[Any] = []
    if flt.actor_name:
        conditions.append(col(AuditEvent.actor_name) == flt.actor_name)
    if flt.action:
        conditions.append(col(AuditEvent.action) == flt.action)
    if flt.entity:
        conditions.append(col(AuditEvent.entity) == flt.entity)
    if flt.since:
        conditions.append(col(AuditEvent.occurred_at) >= flt.since)
    if flt.until:
        conditions.append(col(AuditEvent.occurred_at) < flt.until)
    return conditions


def count_events(*, session: Session, actor: Actor, flt: AuditFilter) -> int:
    """How many events match the filter (admin only)."""
    require_role(actor, Role.admin, doing="read the audit log")
    query = select(func.count()).select_from(AuditEvent).where(*_conditions(flt))
    return int(session.exec(query).one())


def list_events(
    *, session: Session, actor: Actor, flt: AuditFilter, offset: int = 0, limit: int = 50
) -> list[AuditEvent]:
    """One page of events that match the filter, newest first (admin only)."""
    require_role(actor, Role.admin, doing="read the audit log")
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    query = (
        select(AuditEvent)
        .where(*_conditions(flt))
        .order_by(col(AuditEvent.seq).desc())
        .offset(max(offset, 0))
        .limit(limit)
    )
    return list(session.exec(query).all())


def filter_choices(*, session: Session, actor: Actor) -> dict[str, list[str]]:
    """Distinct actors, actions and entities, for the filter drop-downs (admin only)."""
    require_role(actor, Role.admin, doing="read the audit log")

    def distinct(column: Any) -> list[str]:
        return [v for v in session.exec(select(column).distinct().order_by(column)).all() if v]

    return {
        "actor": distinct(AuditEvent.actor_name),
        "action": distinct(AuditEvent.action),
        "entity": distinct(AuditEvent.entity),
    }
