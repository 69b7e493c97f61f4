"""Merging two contacts into one, keeping every linked row, and undoing a merge.

Rows that point at a contact are found from the schema itself: every column with a
foreign key to `contact.id` in `SQLModel.metadata`, plus `EXTRA_CONTACT_REFERENCES` for
columns kept without a foreign key. Tables that other areas add are covered as soon as
their models are imported.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, select, tuple_, update
from sqlmodel import Session, SQLModel, col, delete
from sqlmodel import select as sm_select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.auth.visibility import require_change
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.events import record_event
from db.core.types import utcnow
from db.models.audit import AuditEvent
from db.models.auth import Role
from db.models.people import Contact, ContactTag

# Fields a person chooses between when merging (the rest follow the survivor).
MERGE_FIELDS = (
    "kind",
    "given_name",
    "family_name",
    "organisation_id",
    "job_title",
    "email",
    "email2",
    "phone",
    "mobile",
    "street",
    "street2",
    "locality",
    "postcode",
    "region",
    "country",
    "date_of_birth",
    "identifier",
    "external_ref",
    "preferred_channel",
    "notes",
    "owner_id",
)
# (table, column) pairs that hold a contact id without a foreign key; areas append theirs.
EXTRA_CONTACT_REFERENCES: list[tuple[str, str]] = []
# Tables merged specially rather than re-pointed row by row.
_SPECIAL = {("contact_tag", "contact_id"), ("contact", "merged_into_id")}


@dataclass(frozen=True)
class MergeParticipant:
    """An area's part in a merge (e.g. consent keeps the most restrictive state).

    `merge(session, survivor_id, merged_id, actor)` runs after linked rows moved and
    returns JSON-able details; `undo(session, survivor_id, merged_id, details, actor)`
    reverses it from those details. Both run inside the merge's transaction.
    """

    name: str
    merge: Callable[[Session, int, int, Actor], dict[str, Any]]
    undo: Callable[[Session, int, int, dict[str, Any], Actor], None]


MERGE_PARTICIPANTS: list[MergeParticipant] = []


def reference_columns(entity: str = "contact") -> list[tuple[Table, str]]:
    """Every (table, column) that refers to a row of `entity` (by foreign key or by list)."""
    found: list[tuple[Table, str]] = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == entity for fk in column.foreign_keys):
                found.append((table, column.name))
    if entity == "contact":
        for table_name, column_name in EXTRA_CONTACT_REFERENCES:
            extra = SQLModel.metadata.tables.get(table_name)
            if extra is not None and (extra, column_name) not in found:
                found.append((extra, column_name))
    return found


def references_to(session: Session, entity: str, entity_id: int) -> list[tuple[str, Any]]:
    """(table, primary key) of rows that refer to one record (excluding itself)."""
    refs: list[tuple[str, Any]] = []
    for table, column in reference_columns(entity):
        pk = list(table.primary_key.columns)
        rows = session.execute(select(*pk).where(table.c[column] == entity_id)).all()
        for row in rows:
            key = row[0] if len(pk) == 1 else tuple(row)
            if not (table.name == entity and key == entity_id):
                refs.append((table.name, key))
    return refs


def _live(session: Session, contact_id: int, actor: Actor) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound(f"There is no contact {contact_id} to merge.")
    if contact.merged_into_id is not None:
        raise Conflict(f"Contact {contact_id} was already merged into {contact.merged_into_id}.")
    require_change(session=session, actor=actor, owner_id=contact.owner_id, what="this contact")
    return contact


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def pick_fields(
    survivor: object,
    merged: object,
    fields: Sequence[str],
    choices: dict[str, str] | None = None,
) -> dict[str, str]:
    """Which record each field's value comes from: the person's `choices`, else 'survivor'
    unless only the merged record has a value. Refuses an unknown field or side."""
    picks = {
        f: "merged"
        if getattr(survivor, f) in (None, "") and getattr(merged, f) not in (None, "")
        else "survivor"
        for f in fields
    }
    for name, side in (choices or {}).items():
        if name not in fields or side not in {"survivor", "merged"}:
            raise ValidationError(f"Merge: {name!r}: choose survivor or merged.", field=name)
        picks[name] = side
    return picks


def default_choices(survivor: Contact, merged: Contact) -> dict[str, str]:
    """For each field, 'survivor' unless only the merged record has a value."""
    return pick_fields(survivor, merged, MERGE_FIELDS)


def merge_contacts(
    *,
    session: Session,
    survivor_id: int,
    merged_id: int,
    actor: Actor,
    choices: dict[str, str] | None = None,
    versions: tuple[int, int] | None = None,
) -> AuditEvent:
    """Merge `merged_id` into `survivor_id` in one transaction; returns the audit event."""
    require_role(actor, Role.admin, Role.manager, doing="merge contacts")
    if survivor_id == merged_id:
        raise ValidationError("Merge: choose two different contacts.", field="merged_id")
    survivor = _live(session, survivor_id, actor)
    merged = _live(session, merged_id, actor)
    if versions is not None and versions != (survivor.version, merged.version):
        raise Conflict("One of these contacts changed since you opened the pair; reload it.")
    picks = pick_fields(survivor, merged, MERGE_FIELDS, choices)
    before = {f: _plain(getattr(survivor, f)) for f in MERGE_FIELDS}
    for name, side in picks.items():
        if side == "merged":
            setattr(survivor, name, getattr(merged, name))
    moved: dict[str, list[Any]] = {}
    for table, column in reference_columns():
        if (table.name, column) in _SPECIAL:
            continue
        moved[f"{table.name}.{column}"] = move_references(
            session, table, column, merged_id, survivor_id
        )
    # Earlier tombstones of the merged record now point straight at the survivor.
    tombstones = list(
        session.exec(sm_select(Contact.id).where(Contact.merged_into_id == merged_id)).all()
    )
    session.execute(
        update(Contact)
        .where(col(Contact.merged_into_id) == merged_id)
        .values(merged_into_id=survivor_id)
    )
    merged_tags = _tags(session, merged_id)
    added = sorted(set(merged_tags) - set(_tags(session, survivor_id)))
    session.execute(delete(ContactTag).where(col(ContactTag.contact_id) == merged_id))
    for tag in added:
        session.add(ContactTag(contact_id=survivor_id, tag=tag))
    now = utcnow()
    for contact in (survivor, merged):
        contact.version += 1
        contact.updated_at = now
        contact.updated_by_id = actor.id
    merged.merged_into_id = survivor_id
    if merged.last_activity_at and (
        survivor.last_activity_at is None or merged.last_activity_at > survivor.last_activity_at
    ):
        survivor.last_activity_at = merged.last_activity_at
    session.add(survivor)
    session.add(merged)
    session.flush()
    participants = {
        p.name: p.merge(session, survivor_id, merged_id, actor) for p in MERGE_PARTICIPANTS
    }
    event = record(
        session=session,
        actor=actor,
        action="contact.merge",
        entity="contact",
        entity_id=survivor_id,
        details={
            "survivor_id": survivor_id,
            "merged_id": merged_id,
            "survivor_before": before,
            "choices": {k: v for k, v in picks.items() if v == "merged"},
            "moved": {k: v for k, v in moved.items() if v},
            "tombstones": tombstones,
            "merged_tags": merged_tags,
            "tags_added": added,
            "versions_after": [survivor.version, merged.version],
            "participants": participants,
        },
    )
    record_event(
        session=session,
        kind="contact.merged",
        entity="contact",
        entity_id=survivor_id,
        data={"survivor_id": survivor_id, "merged_id": merged_id},
    )
    session.commit()
    return event


def move_references(session: Session, table: Table, column: str, old: int, new: int) -> list[Any]:
    """Point every row of `table` whose `column` is `old` at `new`; returns their keys."""
    pk = list(table.primary_key.columns)
    rows = session.execute(select(*pk).where(table.c[column] == old)).all()
    keys = [row[0] if len(pk) == 1 else list(row) for row in rows]
    if keys:
        session.execute(update(table).where(table.c[column] == old).values({column: new}))
    return keys


def _tags(session: Session, contact_id: int) -> list[str]:
    return sorted(
        session.exec(sm_select(ContactTag.tag).where(ContactTag.contact_id == contact_id)).all()
    )


def find_merge_event(*, session: Session, event_id: int) -> AuditEvent:
    """The audit entry of a merge."""
    event = session.exec(sm_select(AuditEvent).where(AuditEvent.seq == event_id)).first()
    if event is None or event.action != "contact.merge":
        raise NotFound(f"Audit event {event_id} is not a merge.")
    return event


def merge_undone(*, session: Session, event_id: int) -> bool:
    """True when this merge was already undone."""
    return (
        session.exec(
            sm_select(AuditEvent.seq).where(
                AuditEvent.action == "contact.merge_undo", AuditEvent.entity_id == str(event_id)
            )
        ).first()
        is not None
    )


def undo_merge(*, session: Session, event_id: int, actor: Actor) -> Contact:
    """Reverse a merge from its audit entry, if neither contact has changed since."""
    require_role(actor, Role.admin, Role.manager, doing="undo a merge")
    event = find_merge_event(session=session, event_id=event_id)
    if merge_undone(session=session, event_id=event_id):
        raise Conflict("This merge was already undone.")
    details = json.loads(event.details)
    survivor = session.get(Contact, details["survivor_id"])
    merged = session.get(Contact, details["merged_id"])
    if survivor is None or merged is None:
        raise NotFound("One of the merged contacts no longer exists; the merge cannot be undone.")
    if [survivor.version, merged.version] != details["versions_after"]:
        raise Conflict(
            "One of these contacts was changed after the merge, so undoing it could lose that "
            "change. Nothing was undone."
        )
    require_change(session=session, actor=actor, owner_id=survivor.owner_id, what="this contact")
    for name, value in details["survivor_before"].items():
        if name == "date_of_birth" and value:
            value = date.fromisoformat(value)
        setattr(survivor, name, value)
    tables = SQLModel.metadata.tables
    for place, keys in details["moved"].items():
        table_name, column = place.split(".")
        table = tables[table_name]
        pk = list(table.primary_key.columns)
        condition = pk[0].in_(keys) if len(pk) == 1 else tuple_(*pk).in_([tuple(k) for k in keys])
        session.execute(
            update(table)
            .where(and_(condition, table.c[column] == survivor.id))
            .values({column: merged.id})
        )
    if details["tombstones"]:
        session.execute(
            update(Contact)
            .where(col(Contact.id).in_(details["tombstones"]))
            .values(merged_into_id=merged.id)
        )
    if details["tags_added"]:
        session.execute(
            delete(ContactTag).where(
                col(ContactTag.contact_id) == survivor.id,
                col(ContactTag.tag).in_(details["tags_added"]),
            )
        )
    for tag in details["merged_tags"]:
        session.add(ContactTag(contact_id=merged.id or 0, tag=tag))
    merged.merged_into_id = None
    now = utcnow()
    for contact in (survivor, merged):
        contact.version += 1
        contact.updated_at = now
        contact.updated_by_id = actor.id
        session.add(contact)
    session.flush()
    for participant in MERGE_PARTICIPANTS:
        part = details.get("participants", {}).get(participant.name)
        if part is not None:
            participant.undo(session, survivor.id or 0, merged.id or 0, part, actor)
    record(
        session=session,
        actor=actor,
        action="contact.merge_undo",
        entity="audit_event",
        entity_id=event_id,
        details={"survivor_id": survivor.id, "merged_id": merged.id},
    )
    session.commit()
    return survivor


@dataclass(frozen=True)
class MergeEntry:
    """A merge in the audit log, for the list of merges that can be undone."""

    event_seq: int
    occurred_at: Any
    actor_name: str
    survivor_id: int
    merged_id: int
    undone: bool


def recent_merges(*, session: Session, actor: Actor, limit: int = 20) -> list[MergeEntry]:
    """The latest merges, newest first, and whether each was undone."""
    require_role(actor, Role.admin, Role.manager, doing="see merges")
    events = session.exec(
        sm_select(AuditEvent)
        .where(AuditEvent.action == "contact.merge")
        .order_by(col(AuditEvent.seq).desc())
        .limit(min(limit, 200))
    ).all()
    undone = set(
        session.exec(
            sm_select(AuditEvent.entity_id).where(
                AuditEvent.action == "contact.merge_undo",
                col(AuditEvent.entity_id).in_([str(e.seq) for e in events]),
            )
        ).all()
    )
    entries = []
    for event in events:
        details = json.loads(event.details)
        entries.append(
            MergeEntry(
                event.seq,
                event.occurred_at,
                event.actor_name,
                details["survivor_id"],
                details["merged_id"],
                str(event.seq) in undone,
            )
        )
    return entries
