"""Deals: create, change, move, win, lose, reopen and reassign, with optimistic locking."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.audit import record
from db.auth.visibility import can_read, require_change, require_reader, require_writer
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.events import record_event
from db.core.normalise import clean_text
from db.core.types import utcnow
from db.models.auth import User
from db.models.pipeline import (
    CURRENCIES,
    Deal,
    DealCreate,
    DealStatus,
    DealUpdate,
    LostReason,
    Pipeline,
    Stage,
    StageChange,
)
from db.people.contacts import get_contact, get_organisation
from db.pipeline.summary import apply_deal_delta, apply_deal_deltas, facts_after, facts_of

DEAL_TITLE_MAX = 200
SOURCE_MAX = 60
DEAL_NOTES_MAX = 5000
LOST_NOTE_MAX = 2000
# A probability typed as text: "0" to "100".
PROBABILITY_TEXT_MAX = 3


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as err:
        raise ValidationError("Amount: enter a number such as 12500.00.", field="amount") from err
    if not amount.is_finite():
        raise ValidationError("Amount: enter a number such as 12500.00.", field="amount")
    if amount < 0:
        raise ValidationError("Amount: must be zero or more.", field="amount")
    if amount >= Decimal("1e12"):
        raise ValidationError("Amount: must be less than 1,000,000,000,000.", field="amount")
    return amount.quantize(Decimal("0.01"))


def _clean(values: dict[str, Any], *, session: Session, actor: Actor) -> dict[str, Any]:
    cleaned = dict(values)
    if "title" in cleaned:
        cleaned["title"] = clean_text(
            cleaned["title"], field="title", label="Title", max_length=DEAL_TITLE_MAX
        )
        if not cleaned["title"]:
            raise ValidationError("Title: say what the deal is.", field="title")
    if "amount" in cleaned:
        if cleaned["amount"] is None:
            raise ValidationError("Amount: enter an amount (0 if not known yet).", field="amount")
        cleaned["amount"] = _amount(cleaned["amount"])
    if "currency" in cleaned:
        currency = (cleaned["currency"] or "").strip().upper()
        if currency not in CURRENCIES:
            raise ValidationError(
                f"Currency: use one of {', '.join(CURRENCIES)}.", field="currency"
            )
        cleaned["currency"] = currency
    override = cleaned.get("probability_override")
    if override is not None and not 0 <= int(override) <= 100:
        raise ValidationError(
            "Probability: use a whole percentage from 0 to 100, or leave it empty for the "
            "stage's default.",
            field="probability_override",
        )
    close = cleaned.get("expected_close")
    if close is not None and (not isinstance(close, date) or close.year < 2000):
        raise ValidationError(
            "Expected close: choose a real date (from 2000 onwards).", field="expected_close"
        )
    for field, label, limit in (
        ("source", "Source", SOURCE_MAX),
        ("notes", "Notes", DEAL_NOTES_MAX),
    ):
        if field in cleaned:
            cleaned[field] = clean_text(cleaned[field], field=field, label=label, max_length=limit)
    # `is not None`, not truthiness: an id of 0 must be looked up (and refused), not
    # slip through to the foreign key.
    if cleaned.get("organisation_id") is not None:
        get_organisation(session=session, org_id=cleaned["organisation_id"], actor=actor)
    if cleaned.get("contact_id") is not None:
        contact = get_contact(session=session, contact_id=cleaned["contact_id"], actor=actor)
        cleaned["contact_id"] = contact.id
    return cleaned


def _stage_of(session: Session, pipeline_id: int, stage_id: int | None) -> Stage:
    query = select(Stage).where(Stage.pipeline_id == pipeline_id, col(Stage.is_active))
    if stage_id is not None:
        query = query.where(Stage.id == stage_id)
    stage = session.exec(query.order_by(col(Stage.position), col(Stage.id))).first()
    if stage is None:
        raise ValidationError("Stage: choose a stage of this deal's pipeline.", field="stage_id")
    return stage


def create_deal(
    *, session: Session, deal_in: DealCreate, actor: Actor, at: datetime | None = None
) -> Deal:
    """Create an open deal in its pipeline's first stage (or the stage given).

    `at` back-dates the record for imports and the demo seed; pages never pass it.
    """
    require_writer(actor, what="deals")
    pipeline = session.get(Pipeline, deal_in.pipeline_id)
    if pipeline is None or not pipeline.is_active:
        raise ValidationError("Pipeline: choose one of the active pipelines.", field="pipeline_id")
    values = _clean(deal_in.model_dump(), session=session, actor=actor)
    stage = _stage_of(session, pipeline.id or 0, deal_in.stage_id)
    values["owner_id"] = values.get("owner_id") or actor.id
    require_change(
        session=session, actor=actor, owner_id=values["owner_id"], what="a deal for that owner"
    )
    now = _when(at)
    values.update(
        stage_id=stage.id,
        status=DealStatus.open,
        stage_entered_at=now,
        last_activity_at=now,
        created_at=now,
        updated_at=now,
        updated_by_id=actor.id,
    )
    deal = Deal.model_validate(values)
    session.add(deal)
    session.flush()
    apply_deal_delta(session, None, facts_of(deal))
    _history(
        session,
        deal,
        event="created",
        to_stage_id=stage.id or 0,
        at=now,
        actor=actor,
        ends_visit=False,
    )
    record(
        session=session,
        actor=actor,
        action="deal.create",
        entity="deal",
        entity_id=deal.id,
        details={"title": deal.title, "amount": str(deal.amount), "currency": deal.currency},
    )
    if actor.id is not None and deal.owner_id != actor.id:
        record_event(
            session=session,
            kind="deal.assigned",
            entity="deal",
            entity_id=deal.id,
            data={"owner_id": deal.owner_id},
        )
    session.commit()
    return deal


def get_deal(*, session: Session, deal_id: int, actor: Actor) -> Deal:
    """One deal the actor may read."""
    require_reader(actor, what="deals")
    deal = session.get(Deal, deal_id)
    if deal is None or not can_read(session=session, actor=actor, owner_id=deal.owner_id):
        raise NotFound(f"There is no deal {deal_id} that you can see.")
    return deal


def _editable(session: Session, deal_id: int, version: int, actor: Actor) -> Deal:
    deal = get_deal(session=session, deal_id=deal_id, actor=actor)
    require_change(session=session, actor=actor, owner_id=deal.owner_id, what="this deal")
    if deal.version != version:
        raise _stale(session, deal)
    return deal


def _stale(session: Session, deal: Deal) -> Conflict:
    session.refresh(deal)
    editor = session.get(User, deal.updated_by_id) if deal.updated_by_id else None
    who = editor.display_name if editor else "someone else"
    return Conflict(
        f"{deal.title} was changed by {who} at {deal.updated_at:%d %b %H:%M} UTC since you "
        "opened it — reload to see their change, then make yours again; nothing of theirs "
        "was lost."
    )


def _when(at: datetime | None) -> datetime:
    now = utcnow()
    if at is None:
        return now
    if at.tzinfo is None or at > now:
        raise ValidationError("When: give a past time with its time zone.", field="at")
    return at


def _save(
    session: Session,
    deal: Deal,
    expected: int,
    values: dict[str, Any],
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """Write the changes only if nobody saved in between (compare-and-set on version)."""
    now = now or utcnow()
    values = {**values, "updated_at": now, "updated_by_id": actor.id, "last_activity_at": now}
    # The version matched, so the deal as loaded is the row being changed.
    before = facts_of(deal)
    result = session.execute(
        update(Deal)
        .where(col(Deal.id) == deal.id, col(Deal.version) == expected)
        .values(version=expected + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise _stale(session, deal)
    apply_deal_delta(session, before, facts_after(before, values))


def update_deal(
    *, session: Session, deal_id: int, patch: DealUpdate, version: int, actor: Actor
) -> Deal:
    """Change a deal's fields, refusing a stale edit."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    changes = _clean(patch.model_dump(exclude_unset=True), session=session, actor=actor)
    _save(session, deal, version, changes, actor)
    record(
        session=session,
        actor=actor,
        action="deal.update",
        entity="deal",
        entity_id=deal_id,
        details={k: str(v) for k, v in changes.items() if k != "notes"},
    )
    session.commit()
    session.refresh(deal)
    return deal


def stage_change(
    *,
    event: str,
    from_stage_id: int | None,
    entered_at: datetime | None,
    to_stage_id: int,
    at: datetime,
    by_id: int | None,
) -> dict[str, Any]:
    """What a stage change writes to a deal's history: the one definition, used by the
    commands below and by the benchmark world's bulk seeder.

    `from_stage_id` and `entered_at` describe the visit the change ends (None for a
    deal's creation, or a reopening, which end no visit)."""
    seconds = int((at - entered_at).total_seconds()) if entered_at is not None else None
    return {
        "event": event,
        "from_stage_id": from_stage_id,
        "to_stage_id": to_stage_id,
        "seconds_in_from": max(seconds, 0) if seconds is not None else None,
        "changed_at": at,
        "changed_by_id": by_id,
    }


def _history(
    session: Session,
    deal: Deal,
    *,
    event: str,
    to_stage_id: int,
    at: datetime,
    actor: Actor,
    ends_visit: bool = True,
) -> None:
    change = stage_change(
        event=event,
        from_stage_id=deal.stage_id if ends_visit else None,
        entered_at=deal.stage_entered_at if ends_visit else None,
        to_stage_id=to_stage_id,
        at=at,
        by_id=actor.id,
    )
    session.add(StageChange(deal_id=deal.id or 0, **change))


def move_deal(
    *,
    session: Session,
    deal_id: int,
    stage_id: int,
    version: int,
    actor: Actor,
    at: datetime | None = None,
) -> Deal:
    """Move an open deal to another stage of its pipeline (backwards and skips allowed)."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    if deal.status != DealStatus.open:
        raise ValidationError(
            "Stage: this deal is closed; reopen it before moving it.", field="stage_id"
        )
    stage = _stage_of(session, deal.pipeline_id, stage_id)
    if stage.id == deal.stage_id:
        return deal
    now = _when(at)
    _history(session, deal, event="moved", to_stage_id=stage.id or 0, at=now, actor=actor)
    from_stage = deal.stage_id
    _save(session, deal, version, {"stage_id": stage.id, "stage_entered_at": now}, actor, now)
    record(
        session=session,
        actor=actor,
        action="deal.move",
        entity="deal",
        entity_id=deal_id,
        details={"from": from_stage, "to": stage.id},
    )
    record_event(
        session=session,
        kind="deal.moved",
        entity="deal",
        entity_id=deal_id,
        data={
            "deal_id": deal_id,
            "pipeline_id": deal.pipeline_id,
            "from_stage_id": from_stage,
            "to_stage_id": stage.id,
        },
    )
    session.commit()
    session.refresh(deal)
    return deal


def win_deal(
    *,
    session: Session,
    deal_id: int,
    version: int,
    amount: Decimal | None,
    actor: Actor,
    at: datetime | None = None,
) -> Deal:
    """Close a deal as won; its final amount is required."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    if deal.status != DealStatus.open:
        raise ValidationError("Status: this deal is already closed.", field="status")
    if amount is None:
        raise ValidationError("Amount: a won deal needs its final amount.", field="amount")
    final = _amount(amount)
    if final == 0:
        raise ValidationError("Amount: a won deal needs an amount above zero.", field="amount")
    now = _when(at)
    _history(session, deal, event="won", to_stage_id=deal.stage_id, at=now, actor=actor)
    _save(
        session,
        deal,
        version,
        {"status": DealStatus.won, "amount": final, "closed_at": now, "stage_entered_at": now},
        actor,
        now,
    )
    record(
        session=session,
        actor=actor,
        action="deal.won",
        entity="deal",
        entity_id=deal_id,
        details={"amount": str(final), "currency": deal.currency},
    )
    record_event(
        session=session,
        kind="deal.won",
        entity="deal",
        entity_id=deal_id,
        data={"deal_id": deal_id, "amount": str(final), "currency": deal.currency},
    )
    session.commit()
    session.refresh(deal)
    return deal


def lose_deal(
    *,
    session: Session,
    deal_id: int,
    version: int,
    reason_id: int | None,
    note: str | None,
    actor: Actor,
    at: datetime | None = None,
) -> Deal:
    """Close a deal as lost; a reason from the configured list is required."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    if deal.status != DealStatus.open:
        raise ValidationError("Status: this deal is already closed.", field="status")
    reason = session.get(LostReason, reason_id) if reason_id is not None else None
    if reason is None or not reason.is_active:
        raise ValidationError(
            "Lost reason: choose why the deal was lost from the list.", field="lost_reason_id"
        )
    cleaned = clean_text(note, field="lost_note", label="Note", max_length=LOST_NOTE_MAX)
    now = _when(at)
    _history(session, deal, event="lost", to_stage_id=deal.stage_id, at=now, actor=actor)
    _save(
        session,
        deal,
        version,
        {
            "status": DealStatus.lost,
            "lost_reason_id": reason.id,
            "lost_note": cleaned,
            "closed_at": now,
            "stage_entered_at": now,
        },
        actor,
        now,
    )
    record(
        session=session,
        actor=actor,
        action="deal.lost",
        entity="deal",
        entity_id=deal_id,
        details={"reason": reason.label},
    )
    record_event(
        session=session,
        kind="deal.lost",
        entity="deal",
        entity_id=deal_id,
        data={"deal_id": deal_id, "reason": reason.label},
    )
    session.commit()
    session.refresh(deal)
    return deal


def reopen_deal(*, session: Session, deal_id: int, version: int, actor: Actor) -> Deal:
    """Put a closed deal back in its last stage as open."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    if deal.status == DealStatus.open:
        raise ValidationError("Status: this deal is already open.", field="status")
    now = utcnow()
    _history(
        session,
        deal,
        event="reopened",
        to_stage_id=deal.stage_id,
        at=now,
        actor=actor,
        ends_visit=False,
    )
    _save(
        session,
        deal,
        version,
        {
            "status": DealStatus.open,
            "lost_reason_id": None,
            "lost_note": None,
            "closed_at": None,
            "stage_entered_at": now,
        },
        actor,
    )
    record(session=session, actor=actor, action="deal.reopen", entity="deal", entity_id=deal_id)
    session.commit()
    session.refresh(deal)
    return deal


def reassign_deals(*, session: Session, deal_ids: list[int], owner_id: int, actor: Actor) -> int:
    """Give several deals to another owner at once; all or nothing."""
    require_writer(actor, what="deals")
    if not deal_ids:
        raise ValidationError("Deals: choose at least one deal to reassign.", field="deal_ids")
    if len(deal_ids) > 500:
        raise ValidationError("Deals: reassign at most 500 at a time.", field="deal_ids")
    owner = session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationError("New owner: choose an active user.", field="owner_id")
    require_change(session=session, actor=actor, owner_id=owner_id, what="deals for that owner")
    deals = session.exec(select(Deal).where(col(Deal.id).in_(deal_ids))).all()
    if len(deals) != len(set(deal_ids)):
        raise NotFound("Some of those deals no longer exist; reload the list.")
    now = utcnow()
    moved = []
    for deal in deals:
        require_change(session=session, actor=actor, owner_id=deal.owner_id, what=f"deal {deal.id}")
        if actor.id is not None and deal.owner_id != owner_id != actor.id:
            record_event(
                session=session,
                kind="deal.assigned",
                entity="deal",
                entity_id=deal.id,
                data={"owner_id": owner_id},
            )
        before = facts_of(deal)
        moved.append((before, facts_after(before, {"owner_id": owner_id})))
        deal.owner_id = owner_id
        deal.version += 1
        deal.updated_at = now
        deal.updated_by_id = actor.id
        session.add(deal)
    apply_deal_deltas(session, moved)
    record(
        session=session,
        actor=actor,
        action="deal.reassign",
        entity="deal",
        entity_id=None,
        details={"deals": sorted(deal_ids), "owner_id": owner_id},
    )
    session.commit()
    return len(deals)


def change_owner(
    *, session: Session, deal_id: int, owner_id: int, version: int, actor: Actor
) -> Deal:
    """Give one deal to another owner, refusing a stale edit (the deal page's owner field)."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    owner = session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise ValidationError("Owner: choose an active user.", field="owner_id")
    require_change(session=session, actor=actor, owner_id=owner_id, what="deals for that owner")
    if owner_id == deal.owner_id:
        return deal
    before = deal.owner_id
    _save(session, deal, version, {"owner_id": owner_id}, actor)
    record(
        session=session,
        actor=actor,
        action="deal.reassign",
        entity="deal",
        entity_id=deal_id,
        details={"from": before, "to": owner_id},
    )
    session.commit()
    session.refresh(deal)
    return deal


def change_pipeline(
    *,
    session: Session,
    deal_id: int,
    pipeline_id: int,
    stage_id: int | None,
    version: int,
    actor: Actor,
) -> Deal:
    """Move an open deal to another pipeline, into the stage chosen (or its first stage);
    the history keeps the move like any other."""
    require_writer(actor, what="deals")
    deal = _editable(session, deal_id, version, actor)
    if deal.status != DealStatus.open:
        raise ValidationError(
            "Pipeline: this deal is closed; reopen it before moving it.", field="pipeline_id"
        )
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None or not pipeline.is_active:
        raise ValidationError("Pipeline: choose an active pipeline.", field="pipeline_id")
    if pipeline_id == deal.pipeline_id:
        return deal
    stage = _stage_of(session, pipeline_id, stage_id)
    now = utcnow()
    before = deal.pipeline_id
    _history(session, deal, event="moved", to_stage_id=stage.id or 0, at=now, actor=actor)
    _save(
        session,
        deal,
        version,
        {"pipeline_id": pipeline_id, "stage_id": stage.id, "stage_entered_at": now},
        actor,
        now,
    )
    record(
        session=session,
        actor=actor,
        action="deal.move",
        entity="deal",
        entity_id=deal_id,
        details={"from_pipeline": before, "to_pipeline": pipeline_id, "to": stage.id},
    )
    session.commit()
    session.refresh(deal)
    return deal


def check_deal_link(session: Session, actor: Actor, deal_id: int, contact_id: int | None) -> None:
    """Refuse linking a record to a deal the actor may not change, or another person's.

    A link puts the record on the deal's timeline and moves its activity clock, so it
    changes the deal; a deal the actor cannot see is "not found", as if it did not exist.
    """
    deal = get_deal(session=session, deal_id=deal_id, actor=actor)
    require_change(session=session, actor=actor, owner_id=deal.owner_id, what="this deal")
    if contact_id is not None and deal.contact_id is not None and deal.contact_id != contact_id:
        raise ValidationError(
            "Deal: that deal is with another person; choose one of this contact's deals.",
            field="deal_id",
        )


def note_deal_activity(session: Session, deal_id: int, at: datetime) -> None:
    """`touch_deal` in the shape of the people area's hook."""
    touch_deal(session=session, deal_id=deal_id, at=at)


def touch_deal(*, session: Session, deal_id: int | None, at: datetime) -> None:
    """Note activity on a deal (an interaction or a finished task) in the caller's transaction."""
    if deal_id is None:
        return
    session.execute(
        update(Deal)
        .where(col(Deal.id) == deal_id, col(Deal.last_activity_at) < at)
        .values(last_activity_at=at)
    )
