"""Interactions (every touch point with a person) and tasks (next steps)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.audit import record
from db.auth.visibility import owner_filter, require_change, require_reader, require_writer
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.normalise import clean_text
from db.core.types import utcnow
from db.models.people import (
    Channel,
    Contact,
    Interaction,
    InteractionCreate,
    Task,
    TaskCreate,
)
from db.people.contacts import get_contact

# Checks that run before an interaction is saved, in the same transaction. Another
# area registers its own (the consent area checks marketing messages); a check raises
# a domain error to refuse the interaction.
SUBJECT_MAX = 200
BODY_MAX = 20_000
OVERRIDE_REASON_MAX = 1000
TASK_TITLE_MAX = 200

InteractionCheck = Callable[[Session, Contact, InteractionCreate, Actor], None]
INTERACTION_CHECKS: list[InteractionCheck] = []  # filled by db.wiring
# A record linked to a deal: checks that may refuse the link (session, actor, deal id,
# contact id), and what notes the deal's activity (session, deal id, when). The
# pipeline area fills both, through db.wiring: people sits below pipeline.
DealLinkCheck = Callable[[Session, Actor, int, int | None], None]
DEAL_LINK_CHECKS: list[DealLinkCheck] = []
DealActivity = Callable[[Session, int, datetime], None]
DEAL_ACTIVITY: list[DealActivity] = []


def _linked_deal(
    *, session: Session, actor: Actor, deal_id: int | None, contact_id: int | None
) -> None:
    """Refuse a link to a deal the actor may not change (the pipeline area's rule)."""
    if deal_id is not None:
        for check in DEAL_LINK_CHECKS:
            check(session, actor, deal_id, contact_id)


def _deal_activity(session: Session, deal_id: int | None, at: datetime) -> None:
    """Tell the pipeline area that a deal saw activity, in the caller's transaction."""
    if deal_id is not None:
        for note in DEAL_ACTIVITY:
            note(session, deal_id, at)


def log_interaction(
    *, session: Session, interaction_in: InteractionCreate, actor: Actor
) -> Interaction:
    """Record a touch point with a contact (the contact's owner or their team)."""
    require_writer(actor, what="timelines")
    contact = get_contact(session=session, contact_id=interaction_in.contact_id, actor=actor)
    require_change(
        session=session, actor=actor, owner_id=contact.owner_id, what="this contact's timeline"
    )
    _linked_deal(
        session=session, actor=actor, deal_id=interaction_in.deal_id, contact_id=contact.id
    )
    values = interaction_in.model_dump()
    values["contact_id"] = contact.id
    values["subject"] = (
        clean_text(values["subject"], field="subject", label="Subject", max_length=SUBJECT_MAX)
        or ""
    )
    body = values["body"] or ""
    if len(body) > BODY_MAX:
        raise ValidationError(f"Notes: use at most {BODY_MAX:,} characters.", field="body")
    occurred_at: datetime = values["occurred_at"]
    if occurred_at.tzinfo is None:
        raise ValidationError("When: give a time with its time zone.", field="occurred_at")
    if occurred_at > utcnow():
        raise ValidationError(
            "When: an interaction that has happened cannot be in the future; use a task for "
            "a next step.",
            field="occurred_at",
        )
    reason = clean_text(
        values.get("override_reason"),
        field="override_reason",
        label="Override reason",
        max_length=OVERRIDE_REASON_MAX,
    )
    values["override_reason"] = reason
    checked = InteractionCreate.model_validate(values)
    for check in INTERACTION_CHECKS:
        check(session, contact, checked, actor)
    interaction = Interaction.model_validate(values)
    interaction.user_id = actor.id
    session.add(interaction)
    if contact.last_activity_at is None or occurred_at > contact.last_activity_at:
        contact.last_activity_at = occurred_at
        session.add(contact)
    _deal_activity(session, interaction.deal_id, occurred_at)
    session.flush()
    record(
        session,
        actor,
        "interaction.log",
        "interaction",
        entity_id=interaction.id,
        details={
            "contact_id": contact.id,
            "channel": interaction.channel,
            "purpose": interaction.purpose,
            "override": bool(reason),
        },
    )
    session.commit()
    return interaction


@dataclass(frozen=True)
class InteractionFilter:
    """Filters of a contact's interactions."""

    channels: tuple[Channel, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def list_interactions(
    *,
    session: Session,
    contact_id: int,
    actor: Actor,
    flt: InteractionFilter = InteractionFilter(),
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Interaction], int]:
    """A page of a contact's interactions, newest first, and the total."""
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    conditions: list[Any] = [col(Interaction.contact_id) == contact.id]
    if flt.channels:
        conditions.append(col(Interaction.channel).in_([c.value for c in flt.channels]))
    if flt.since:
        conditions.append(col(Interaction.occurred_at) >= flt.since)
    if flt.until:
        conditions.append(col(Interaction.occurred_at) < flt.until)
    total = session.exec(select(func.count()).select_from(Interaction).where(*conditions)).one()
    rows = session.exec(
        select(Interaction)
        .where(*conditions)
        .order_by(col(Interaction.occurred_at).desc(), col(Interaction.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return list(rows), int(total)


# --- tasks ------------------------------------------------------------------------


def create_task(*, session: Session, task_in: TaskCreate, actor: Actor) -> Task:
    """Create a next step, owned by the actor unless another owner is given."""
    require_writer(actor, what="tasks")
    title = clean_text(task_in.title, field="title", label="Task", max_length=TASK_TITLE_MAX)
    if not title:
        raise ValidationError("Task: say what needs doing.", field="title")
    owner_id = task_in.owner_id or actor.id
    if owner_id is None:
        raise ValidationError("Owner: choose who will do it.", field="owner_id")
    require_change(session=session, actor=actor, owner_id=owner_id, what="tasks for that owner")
    if task_in.contact_id is not None:
        get_contact(session=session, contact_id=task_in.contact_id, actor=actor)
    _linked_deal(
        session=session, actor=actor, deal_id=task_in.deal_id, contact_id=task_in.contact_id
    )
    task = Task(
        title=title,
        due_on=task_in.due_on,
        contact_id=task_in.contact_id,
        deal_id=task_in.deal_id,
        owner_id=owner_id,
    )
    session.add(task)
    session.flush()
    record(
        session,
        actor,
        "task.create",
        "task",
        entity_id=task.id,
        details={"due_on": task.due_on.isoformat(), "contact_id": task.contact_id},
    )
    session.commit()
    return task


def complete_task(*, session: Session, task_id: int, version: int, actor: Actor) -> Task:
    """Mark a task done (its owner, or the owner's manager)."""
    require_writer(actor, what="tasks")
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"There is no task {task_id}.")
    require_change(session=session, actor=actor, owner_id=task.owner_id, what="this task")
    if task.done_at is not None:
        raise Conflict("This task is already done.")
    result = session.execute(
        update(Task)
        .where(col(Task.id) == task_id, col(Task.version) == version)
        .values(done_at=utcnow(), version=Task.version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This task was changed by someone else; reload and try again.")
    if task.contact_id is not None:
        session.execute(
            update(Contact)
            .where(col(Contact.id) == task.contact_id)
            .values(last_activity_at=utcnow())
        )
    _deal_activity(session, task.deal_id, utcnow())
    record(session, actor, "task.done", "task", entity_id=task_id)
    session.commit()
    session.refresh(task)
    return task


def _overdue_conditions(actor: Actor, today: date | None, mine_only: bool) -> list[Any]:
    today = today or utcnow().date()
    conditions: list[Any] = [col(Task.done_at).is_(None), col(Task.due_on) < today]
    scope = owner_filter(actor, Task.owner_id)
    if scope is not None:
        conditions.append(scope)
    if mine_only:
        conditions.append(col(Task.owner_id) == actor.id)
    return conditions


def overdue_tasks(
    *,
    session: Session,
    actor: Actor,
    today: date | None = None,
    mine_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> list[Task]:
    """Open tasks past their due date that the actor may see (or owns), oldest first."""
    conditions = _overdue_conditions(actor, today, mine_only)
    return list(
        session.exec(
            select(Task)
            .where(*conditions)
            .order_by(col(Task.due_on), col(Task.id))
            .offset(max(offset, 0))
            .limit(limit)
        ).all()
    )


def count_overdue_tasks(
    *, session: Session, actor: Actor, today: date | None = None, mine_only: bool = False
) -> int:
    """How many open tasks are past their due date, of those `overdue_tasks` would list."""
    conditions = _overdue_conditions(actor, today, mine_only)
    return int(session.exec(select(func.count()).select_from(Task).where(*conditions)).one())


def my_open_tasks(*, session: Session, actor: Actor, limit: int = 50) -> list[Task]:
    """The actor's own open tasks, soonest first."""
    require_reader(actor, what="tasks")
    return list(
        session.exec(
            select(Task)
            .where(col(Task.owner_id) == actor.id, col(Task.done_at).is_(None))
            .order_by(col(Task.due_on))
            .limit(limit)
        ).all()
    )


def interactions_before(
    *,
    session: Session,
    contact_id: int,
    actor: Actor,
    before: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[Interaction]:
    """A contact's interactions newest first, from just before `before` (the time and id
    of the last one already seen): a page a cursor can continue while new ones arrive."""
    if not 1 <= limit <= 500:
        raise ValidationError("Page size must be between 1 and 500.", field="limit")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    conditions: list[Any] = [col(Interaction.contact_id) == contact.id]
    if before is not None:
        at, last_id = before
        conditions.append(
            (col(Interaction.occurred_at) < at)
            | ((col(Interaction.occurred_at) == at) & (col(Interaction.id) < last_id))
        )
    rows = session.exec(
        select(Interaction)
        .where(*conditions)
        .order_by(col(Interaction.occurred_at).desc(), col(Interaction.id).desc())
        .limit(limit)
    ).all()
    return list(rows)
