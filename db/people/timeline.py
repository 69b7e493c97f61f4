"""The Contact 360 timeline: every source about a person, merged and paginated in SQL.

Each source is a function returning a SELECT with the same labelled columns (see
`COLUMNS`); the timeline is their UNION ALL, ordered and paginated by the database.
`db.wiring` lists every source, this area's and the others', in `TIMELINE_SOURCES`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.auth.visibility import owner_filter
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import Channel, Contact, Interaction, Task
from db.models.pipeline import Deal, Stage, StageChange
from db.people.contacts import get_contact
from db.people.interactions import InteractionFilter

COLUMNS = ("at", "source", "kind", "channel", "title", "detail", "ref_id")
NO_FILTER = InteractionFilter()
TimelineSource = Callable[[Session, Contact, Actor], Any]


def _no_channel() -> Any:
    return cast(literal(None), String)


def interactions_source(session: Session, contact: Contact, actor: Actor) -> Any:
    """Every interaction with the person, on any channel."""
    return sa_select(
        col(Interaction.occurred_at).label("at"),
        literal("interaction").label("source"),
        cast(col(Interaction.direction), String).label("kind"),
        cast(col(Interaction.channel), String).label("channel"),
        col(Interaction.subject).label("title"),
        func.substr(col(Interaction.body), 1, 300).label("detail"),
        col(Interaction.deal_id).label("ref_id"),
    ).where(col(Interaction.contact_id) == contact.id)


def deal_changes_source(session: Session, contact: Contact, actor: Actor) -> Any:
    """Stage changes of deals whose primary contact is the person (deals the actor may read)."""
    conditions: list[Any] = [col(Deal.contact_id) == contact.id]
    scope = owner_filter(actor, Deal.owner_id)
    if scope is not None:
        conditions.append(scope)
    return (
        sa_select(
            col(StageChange.changed_at).label("at"),
            literal("deal").label("source"),
            col(StageChange.event).label("kind"),
            _no_channel().label("channel"),
            col(Deal.title).label("title"),
            col(Stage.name).label("detail"),
            col(Deal.id).label("ref_id"),
        )
        .join(Deal, col(Deal.id) == col(StageChange.deal_id))
        .join(Stage, col(Stage.id) == col(StageChange.to_stage_id))
        .where(*conditions)
    )


def tasks_source(session: Session, contact: Contact, actor: Actor) -> Any:
    """Tasks about the person, at the time they were set (or done)."""
    return sa_select(
        func.coalesce(col(Task.done_at), col(Task.created_at)).label("at"),
        literal("task").label("source"),
        case((col(Task.done_at).is_(None), "open"), else_="done").label("kind"),
        _no_channel().label("channel"),
        col(Task.title).label("title"),
        cast(col(Task.due_on), String).label("detail"),
        col(Task.deal_id).label("ref_id"),
    ).where(col(Task.contact_id) == contact.id)


# Filled by db.wiring: these three, then the other areas' sources.
TIMELINE_SOURCES: list[TimelineSource] = []


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline, whatever its source."""

    at: datetime
    source: str
    kind: str
    channel: str | None
    title: str
    detail: str
    ref_id: int | None


def timeline(
    *,
    session: Session,
    contact_id: int,
    actor: Actor,
    flt: InteractionFilter = NO_FILTER,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[TimelineItem], int]:
    """A page of everything about a contact, newest first, and the total."""
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    parts = [
        part for source in TIMELINE_SOURCES if (part := source(session, contact, actor)) is not None
    ]
    merged = union_all(*parts).subquery("timeline")
    conditions: list[Any] = []
    if flt.channels:
        conditions.append(merged.c.channel.in_([c.value for c in flt.channels]))
    if flt.since:
        conditions.append(merged.c.at >= flt.since)
    if flt.until:
        conditions.append(merged.c.at < flt.until)
    total = session.execute(
        sa_select(func.count()).select_from(merged).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        sa_select(*[merged.c[name] for name in COLUMNS])
        .where(*conditions)
        .order_by(merged.c.at.desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 200))
    ).all()
    return [
        TimelineItem(
            at=row.at,
            source=row.source,
            kind=row.kind or "",
            channel=row.channel,
            title=row.title or "",
            detail=row.detail or "",
            ref_id=row.ref_id,
        )
        for row in rows
    ], int(total)


@dataclass(frozen=True)
class RecentChannel:
    """Interactions on one channel within the recent window."""

    channel: str
    count: int
    last_at: datetime


def recent_on_other_channels(
    *,
    session: Session,
    contact_id: int,
    actor: Actor,
    channel: Channel | None = None,
    hours: int = 48,
) -> list[RecentChannel]:
    """What happened with the person in the last `hours` on channels other than `channel`."""
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    conditions: list[Any] = [
        col(Interaction.contact_id) == contact.id,
        col(Interaction.occurred_at) >= utcnow() - timedelta(hours=hours),
    ]
    if channel is not None:
        conditions.append(col(Interaction.channel) != channel)
    rows = session.execute(
        sa_select(col(Interaction.channel), func.count(), func.max(col(Interaction.occurred_at)))
        .where(*conditions)
        .group_by(col(Interaction.channel))
        .order_by(func.max(col(Interaction.occurred_at)).desc())
    ).all()
    return [RecentChannel(str(ch), int(n), last) for ch, n, last in rows]


@dataclass(frozen=True)
class RecentTouch:
    """One thing that happened with the person lately: on which channel, what, who, when."""

    interaction_id: int
    channel: str
    direction: str
    subject: str
    by: str | None
    occurred_at: datetime
    deal_id: int | None


RECENT_TOUCHES_MAX = 10


def recent_touches(
    *,
    session: Session,
    contact_id: int,
    actor: Actor,
    channel: Channel | None = None,
    hours: int = 48,
    limit: int = RECENT_TOUCHES_MAX,
) -> list[RecentTouch]:
    """The latest interactions with the person in the last `hours` on channels other than
    `channel`, newest first, each with its subject and who logged it."""
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    conditions: list[Any] = [
        col(Interaction.contact_id) == contact.id,
        col(Interaction.occurred_at) >= utcnow() - timedelta(hours=hours),
    ]
    if channel is not None:
        conditions.append(col(Interaction.channel) != channel)
    rows = session.execute(
        sa_select(
            col(Interaction.id),
            col(Interaction.channel),
            col(Interaction.direction),
            col(Interaction.subject),
            col(User.display_name),
            col(Interaction.occurred_at),
            col(Interaction.deal_id),
        )
        .outerjoin(User, col(User.id) == col(Interaction.user_id))
        .where(*conditions)
        .order_by(col(Interaction.occurred_at).desc(), col(Interaction.id).desc())
        .limit(max(1, min(limit, 50)))
    ).all()
    return [
        RecentTouch(
            interaction_id=int(i),
            channel=str(ch),
            direction=str(direction),
            subject=subject or "",
            by=by,
            occurred_at=at,
            deal_id=deal_id,
        )
        for i, ch, direction, subject, by, at, deal_id in rows
    ]
