"""Merging two organisations into one, keeping every contact and deal, and undoing it.

Like a contact merge: every row that points at the merged organisation (found from the
schema's foreign keys, so contacts, deals and whatever other areas add) moves to the
survivor in one transaction; the merged row stays as a tombstone pointing at the survivor;
the audit entry holds what moved, so the merge can be undone while neither has changed.
"""

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, tuple_, update
from sqlmodel import Session, SQLModel, col
from sqlmodel import select as sm_select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.auth.visibility import require_change
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.types import utcnow
from db.duplicates.merge import move_references, pick_fields, reference_columns
from db.models.audit import AuditEvent
from db.models.auth import Role
from db.models.people import Organisation

ORG_MERGE_FIELDS = (
    "name",
    "domain",
    "industry",
    "size",
    "street",
    "locality",
    "postcode",
    "region",
    "country",
    "owner_id",
)
MERGE_ACTION = "organisation.merge"
UNDO_ACTION = "organisation.merge_undo"


def _live(session: Session, org_id: int, actor: Actor) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound(f"There is no organisation {org_id} to merge.")
    if org.merged_into_id is not None:
        raise Conflict(f"Organisation {org_id} was already merged into {org.merged_into_id}.")
    require_change(session=session, actor=actor, owner_id=org.owner_id, what="this organisation")
    return org


def default_org_choices(survivor: Organisation, merged: Organisation) -> dict[str, str]:
    """For each field, 'survivor' unless only the merged record has a value."""
    return pick_fields(survivor, merged, ORG_MERGE_FIELDS)


def merge_organisations(
    *,
    session: Session,
    survivor_id: int,
    merged_id: int,
    actor: Actor,
    choices: dict[str, str] | None = None,
    versions: tuple[int, int] | None = None,
) -> AuditEvent:
    """Merge organisation `merged_id` into `survivor_id` in one transaction."""
    require_role(actor, Role.admin, Role.manager, doing="merge organisations")
    if survivor_id == merged_id:
        raise ValidationError("Merge: choose two different organisations.", field="merged_id")
    survivor = _live(session, survivor_id, actor)
    merged = _live(session, merged_id, actor)
    if versions is not None and versions != (survivor.version, merged.version):
        raise Conflict("One of these organisations changed since you opened the pair; reload.")
    picks = pick_fields(survivor, merged, ORG_MERGE_FIELDS, choices)
    before = {f: getattr(survivor, f) for f in ORG_MERGE_FIELDS}
    for name, side in picks.items():
        if side == "merged":
            setattr(survivor, name, getattr(merged, name))
    moved: dict[str, list[Any]] = {}
    for table, column in reference_columns("organisation"):
        if (table.name, column) == ("organisation", "merged_into_id"):
            continue
        moved[f"{table.name}.{column}"] = move_references(
            session, table, column, merged_id, survivor_id
        )
    # Earlier tombstones of the merged organisation now point straight at the survivor.
    tombstones = list(
        session.exec(
            sm_select(Organisation.id).where(Organisation.merged_into_id == merged_id)
        ).all()
    )
    session.execute(
        update(Organisation)
        .where(col(Organisation.merged_into_id) == merged_id)
        .values(merged_into_id=survivor_id)
    )
    now = utcnow()
    for org in (survivor, merged):
        org.version += 1
        org.updated_at = now
        org.updated_by_id = actor.id
    merged.merged_into_id = survivor_id
    session.add(survivor)
    session.add(merged)
    session.flush()
    event = record(
        session=session,
        actor=actor,
        action=MERGE_ACTION,
        entity="organisation",
        entity_id=survivor_id,
        details={
            "survivor_id": survivor_id,
            "merged_id": merged_id,
            "merged_name": merged.name,
            "survivor_before": before,
            "choices": {k: v for k, v in picks.items() if v == "merged"},
            "moved": {k: v for k, v in moved.items() if v},
            "tombstones": tombstones,
            "versions_after": [survivor.version, merged.version],
        },
    )
    session.commit()
    return event


def undo_organisation_merge(*, session: Session, event_id: int, actor: Actor) -> Organisation:
    """Reverse an organisation merge from its audit entry, if neither has changed since."""
    require_role(actor, Role.admin, Role.manager, doing="undo a merge")
    event = session.exec(sm_select(AuditEvent).where(AuditEvent.seq == event_id)).first()
    if event is None or event.action != MERGE_ACTION:
        raise NotFound(f"Audit event {event_id} is not an organisation merge.")
    if _undone(session, [event_id]):
        raise Conflict("This merge was already undone.")
    details = json.loads(event.details)
    survivor = session.get(Organisation, details["survivor_id"])
    merged = session.get(Organisation, details["merged_id"])
    if survivor is None or merged is None:
        raise NotFound("One of the merged organisations no longer exists; it cannot be undone.")
    if [survivor.version, merged.version] != details["versions_after"]:
        raise Conflict(
            "One of these organisations was changed after the merge, so undoing it could lose "
            "that change. Nothing was undone."
        )
    require_change(
        session=session, actor=actor, owner_id=survivor.owner_id, what="this organisation"
    )
    for name, value in details["survivor_before"].items():
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
            update(Organisation)
            .where(col(Organisation.id).in_(details["tombstones"]))
            .values(merged_into_id=merged.id)
        )
    merged.merged_into_id = None
    now = utcnow()
    for org in (survivor, merged):
        org.version += 1
        org.updated_at = now
        org.updated_by_id = actor.id
        session.add(org)
    record(
        session=session,
        actor=actor,
        action=UNDO_ACTION,
        entity="audit_event",
        entity_id=event_id,
        details={"survivor_id": survivor.id, "merged_id": merged.id},
    )
    session.commit()
    return survivor


def _undone(session: Session, seqs: list[int]) -> set[str | None]:
    return set(
        session.exec(
            sm_select(AuditEvent.entity_id).where(
                AuditEvent.action == UNDO_ACTION,
                col(AuditEvent.entity_id).in_([str(s) for s in seqs]),
            )
        ).all()
    )


@dataclass(frozen=True)
class OrgMergeEntry:
    """An organisation merge in the audit log, for the list of merges that can be undone."""

    event_seq: int
    occurred_at: Any
    actor_name: str
    survivor_id: int
    merged_id: int
    merged_name: str
    undone: bool


def recent_organisation_merges(
    *, session: Session, actor: Actor, limit: int = 20
) -> list[OrgMergeEntry]:
    """The latest organisation merges, newest first, and whether each was undone."""
    require_role(actor, Role.admin, Role.manager, doing="see merges")
    events = session.exec(
        sm_select(AuditEvent)
        .where(AuditEvent.action == MERGE_ACTION)
        .order_by(col(AuditEvent.seq).desc())
        .limit(min(limit, 200))
    ).all()
    undone = _undone(session, [e.seq for e in events if e.seq is not None])
    entries = []
    for event in events:
        details = json.loads(event.details)
        entries.append(
            OrgMergeEntry(
                event.seq or 0,
                event.occurred_at,
                event.actor_name,
                details["survivor_id"],
                details["merged_id"],
                details.get("merged_name", ""),
                str(event.seq) in undone,
            )
        )
    return entries
