"""Responsiveness: how long people wait for an answer after they contact us.

For every inbound interaction the database finds the next outbound interaction with
the same person on any channel (a correlated subquery, one seek on
ix_interaction_contact_direction_time); hours are then counted two ways, elapsed and
business hours (weekends excluded).
"""

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import BigInteger, cast, exists, func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.core.errors import ValidationError
from db.core.report_cache import cached, register
from db.core.types import utcnow
from db.duplicates.report import contacts_data_version
from db.experience.scope import (
    COMPANY,
    aware,
    contact_scope,
    live_contact,
    page_and_total,
    scope_key,
    team_key,
)
from db.models.auth import User
from db.models.people import Channel, Contact, Direction, Interaction, Task

# The channels on which a person reaches us and expects an answer.
INBOUND_CHANNELS: tuple[Channel, ...] = (
    Channel.phone,
    Channel.email,
    Channel.chat,
    Channel.sms,
    Channel.social,
    Channel.letter,
)
CHANNEL_LABELS: dict[str, str] = {
    Channel.phone.value: "call",
    Channel.email.value: "email",
    Channel.chat.value: "chat",
    Channel.sms.value: "message (SMS)",
    Channel.social.value: "message (social)",
    Channel.letter.value: "letter",
}
GROUPINGS = ("channel", "owner", "team")
_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday, the origin for counting weekdays
_DAY = 86400.0
_WEEK = 7 * _DAY


def _weekday_seconds_since_origin(moment: datetime) -> float:
    weeks, rest = divmod((moment - _MONDAY).total_seconds(), _WEEK)
    return weeks * 5 * _DAY + min(rest, 5 * _DAY)


def business_hours(start: datetime, end: datetime) -> float:
    """Hours from `start` to `end` not counting Saturdays and Sundays (UTC)."""
    if end <= start:
        return 0.0
    seconds = _weekday_seconds_since_origin(end) - _weekday_seconds_since_origin(start)
    return seconds / 3600.0


def elapsed_hours(start: datetime, end: datetime) -> float:
    """Hours from `start` to `end` on the clock."""
    return max((end - start).total_seconds(), 0.0) / 3600.0


def _period(since: date, until: date) -> tuple[datetime, datetime]:
    if since > until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return start, end


def next_outbound(contact_id: Any, occurred_at: Any) -> Any:
    """The time of the first outbound interaction with that person after `occurred_at`."""
    reply = aliased(Interaction)
    return (
        sa_select(func.min(col(reply.occurred_at)))
        .where(
            col(reply.contact_id) == contact_id,
            col(reply.direction) == Direction.outbound.value,
            col(reply.occurred_at) > occurred_at,
        )
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Exchange:
    """One inbound interaction and when (if ever) the person got an answer."""

    interaction_id: int
    contact_id: int
    channel: str
    received_at: datetime
    answered_at: datetime | None
    owner: str
    team: str


def exchanges(
    *,
    session: Session,
    actor: Actor,
    since: date,
    until: date,
    limit: int = 200_000,
) -> list[Exchange]:
    """Inbound interactions of the period on the actor's customers, each with its answer."""
    start, end = _period(since, until)
    scope = contact_scope(actor)
    return _exchanges(session, start, end, [] if scope is None else [scope], limit)


def teams_exchanges(
    *, session: Session, teams: Sequence[str], start: datetime, end: datetime, limit: int = 500_000
) -> list[Exchange]:
    """Inbound interactions of these teams' customers in [start, end), for team figures.

    One query for every team: each exchange carries its owner's team."""
    if not teams:
        return []
    return _exchanges(session, start, end, [col(User.team).in_(list(teams))], limit)


def _exchanges(
    session: Session, start: datetime, end: datetime, extra: list[Any], limit: int
) -> list[Exchange]:
    conditions: list[Any] = [
        col(Interaction.direction) == Direction.inbound.value,
        col(Interaction.channel).in_([c.value for c in INBOUND_CHANNELS]),
        col(Interaction.occurred_at) >= start,
        col(Interaction.occurred_at) < end,
        *live_contact(),
        *extra,
    ]
    rows = session.execute(
        sa_select(
            col(Interaction.id),
            col(Interaction.contact_id),
            col(Interaction.channel),
            col(Interaction.occurred_at),
            next_outbound(col(Interaction.contact_id), col(Interaction.occurred_at)).label(
                "answered_at"
            ),
            col(User.display_name),
            col(User.team),
        )
        .join(Contact, col(Contact.id) == col(Interaction.contact_id))
        .outerjoin(User, col(User.id) == col(Contact.owner_id))
        .where(*conditions)
        .order_by(col(Interaction.occurred_at))
        .limit(limit)
    ).all()
    return [
        Exchange(
            interaction_id=int(i),
            contact_id=int(c),
            channel=str(ch),
            received_at=aware(at),
            answered_at=aware(answered) if answered is not None else None,
            owner=owner or "(no owner)",
            team=t or "(no team)",
        )
        for i, c, ch, at, answered, owner, t in rows
    ]


def _microseconds(session: Session, later: Any, earlier: Any) -> Any:
    """Whole microseconds from `earlier` to `later`, exactly, as an integer in SQL.

    SQLite stores these timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text (julianday()
    keeps only milliseconds, too coarse to order waits exactly); PostgreSQL's epoch of
    an interval is an exact numeric."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier) * 1_000_000, BigInteger)

    def stamp(at: Any) -> Any:
        seconds = cast(func.strftime("%s", at), BigInteger) * 1_000_000
        return seconds + cast(func.substr(at, 21, 6), BigInteger)

    return stamp(later) - stamp(earlier)


def teams_median_response_hours(
    *,
    session: Session,
    teams: Sequence[str],
    start: datetime,
    end: datetime,
    together: bool = False,
) -> dict[str, float | None]:
    """Median elapsed hours to an answer of these teams' customers' inbound contacts in
    [start, end), per team (or, `together`, of all of them under COMPANY).

    The same figure as `median_response_hours` over `teams_exchanges`, found in SQL: the
    waits are ranked per team by a window and only the middle one or two come back."""
    if not teams:
        return {}
    answered = next_outbound(col(Interaction.contact_id), col(Interaction.occurred_at))
    team = team_key(together).label("team")
    waits = (
        sa_select(team, answered.label("answered_at"), col(Interaction.occurred_at))
        .select_from(Interaction)
        .join(Contact, col(Contact.id) == col(Interaction.contact_id))
        .join(User, col(User.id) == col(Contact.owner_id))
        .where(
            col(Interaction.direction) == Direction.inbound.value,
            col(Interaction.channel).in_([c.value for c in INBOUND_CHANNELS]),
            col(Interaction.occurred_at) >= start,
            col(Interaction.occurred_at) < end,
            col(User.team).in_(list(teams)),
            *live_contact(),
        )
        # Materialised: each inbound contact's answer is looked up once; a flattened
        # subquery would repeat the lookup for every use of its time below.
        .cte("waits")
        .prefix_with("MATERIALIZED")
    )
    # Each wait reckoned once, then ranked (the window orders by the stored figure).
    timed = (
        sa_select(
            waits.c.team,
            _microseconds(session, waits.c.answered_at, waits.c.occurred_at).label("wait"),
        )
        .where(waits.c.answered_at.is_not(None))
        .cte("timed")
        .prefix_with("MATERIALIZED")
    )
    ranked = sa_select(
        timed.c.team,
        timed.c.wait,
        func.row_number().over(partition_by=timed.c.team, order_by=timed.c.wait).label("rank"),
        func.count().over(partition_by=timed.c.team).label("n"),
    ).subquery()
    middle: dict[str, list[float]] = defaultdict(list)
    for name, microseconds in session.execute(
        sa_select(ranked.c.team, ranked.c.wait).where(
            # The middle one of an odd count, the middle two of an even one.
            ranked.c.rank * 2 >= ranked.c.n,
            ranked.c.rank * 2 <= ranked.c.n + 2,
        )
    ).all():
        # As elapsed_hours counts it: seconds (an exact division) over 3600.
        middle[str(name)].append(max(int(microseconds) / 10**6, 0.0) / 3600.0)
    names = [COMPANY] if together else list(teams)
    return {name: _median(middle[name]) if name in middle else None for name in names}


@register
@dataclass(frozen=True)
class ResponseRow:
    """Response times of one channel, owner or team."""

    group: str
    inbound: int
    answered: int
    unanswered: int
    median_hours: float | None
    median_business_hours: float | None


def summarise(rows: list[Exchange], by: str) -> list[ResponseRow]:
    """Medians of elapsed and business hours to the next outbound, per group."""
    if by not in GROUPINGS:
        raise ValidationError(f"Group by: choose one of {', '.join(GROUPINGS)}.", field="by")
    grouped: dict[str, list[Exchange]] = defaultdict(list)
    for row in rows:
        key = CHANNEL_LABELS.get(row.channel, row.channel) if by == "channel" else getattr(row, by)
        grouped[key].append(row)
    result = []
    for key in sorted(grouped):
        items = grouped[key]
        done = [r for r in items if r.answered_at is not None]
        result.append(
            ResponseRow(
                group=key,
                inbound=len(items),
                answered=len(done),
                unanswered=len(items) - len(done),
                median_hours=_median(
                    [elapsed_hours(r.received_at, r.answered_at) for r in done if r.answered_at]
                ),
                median_business_hours=_median(
                    [business_hours(r.received_at, r.answered_at) for r in done if r.answered_at]
                ),
            )
        )
    return result


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def interactions_data_version(*, session: Session) -> str:
    """A fingerprint of what response times read: interactions (appended, never edited),
    contacts (owners, merges, erasure) and who is in which team."""
    interaction, users = Interaction.__table__, User.__table__  # type: ignore[attr-defined]
    figures = [
        session.execute(sa_select(func.max(interaction.c.id))).scalar_one(),
        contacts_data_version(session=session),
        *session.execute(sa_select(func.count(), func.sum(users.c.version))).one(),
    ]
    return ":".join(str(f or 0) for f in figures)


def response_times(
    *, session: Session, actor: Actor, since: date, until: date, by: str = "channel"
) -> list[ResponseRow]:
    """Median time to answer inbound contacts by channel, owner or team; stored until an
    interaction is logged or a contact or team changes (everyone's last 90 days is tens of
    thousands of exchanges at a large organisation)."""
    if by not in GROUPINGS:
        raise ValidationError(f"Group by: choose one of {', '.join(GROUPINGS)}.", field="by")
    return cached(
        session=session,
        key=f"response-times:{scope_key(actor)}:{since}:{until}:{by}",
        version=interactions_data_version(session=session),
        compute=lambda: summarise(
            exchanges(session=session, actor=actor, since=since, until=until), by
        ),
    )


def median_response_hours(rows: list[Exchange], *, business: bool = False) -> float | None:
    """The median hours to an answer over answered exchanges (None when none were)."""
    measure = business_hours if business else elapsed_hours
    return _median([measure(r.received_at, r.answered_at) for r in rows if r.answered_at])


@dataclass(frozen=True)
class Waiting:
    """A person whose latest contact with us has had no answer yet."""

    contact_id: int
    name: str
    owner: str
    waiting: int
    since: datetime
    last_at: datetime


# The one definition of "waiting for an answer", used by Home and Customer experience alike.
WAITING_DAYS = 30
WAITING_RULE = (
    f"Waiting for an answer: someone who called, emailed, chatted, messaged or wrote to us "
    f"in the last {WAITING_DAYS} days and has had no answer from us since, on any channel. "
    "The wait counts from their first contact still unanswered."
)


def waiting_since(today: date) -> datetime:
    """The start of the window in which an unanswered contact counts as waiting."""
    return datetime.combine(today - timedelta(days=WAITING_DAYS), time.min, tzinfo=UTC)


def _unanswered_conditions(actor: Actor, channel: Channel | None, since: datetime | None) -> Any:
    reply = aliased(Interaction)
    answered = exists().where(
        col(reply.contact_id) == col(Interaction.contact_id),
        col(reply.direction) == Direction.outbound.value,
        col(reply.occurred_at) > col(Interaction.occurred_at),
    )
    conditions: list[Any] = [
        col(Interaction.direction) == Direction.inbound.value,
        col(Interaction.channel).in_([channel.value] if channel else list(INBOUND_CHANNELS)),
        ~answered,
        *live_contact(),
    ]
    if since is not None:
        conditions.append(col(Interaction.occurred_at) >= since)
    scope = contact_scope(actor)
    if scope is not None:
        conditions.append(scope)
    return conditions


def unanswered_contacts(
    *,
    session: Session,
    actor: Actor,
    channel: Channel | None = None,
    since: datetime | None = None,
    mine_only: bool = False,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[Waiting], int]:
    """People with inbound contacts never answered on any channel, longest waiting first."""
    conditions = _unanswered_conditions(actor, channel, since)
    if mine_only:
        conditions.append(col(Contact.owner_id) == actor.id)
    grouped = (
        sa_select(
            col(Interaction.contact_id).label("contact_id"),
            func.count().label("waiting"),
            func.min(col(Interaction.occurred_at)).label("since"),
            func.max(col(Interaction.occurred_at)).label("last_at"),
        )
        .join(Contact, col(Contact.id) == col(Interaction.contact_id))
        .where(*conditions)
        .group_by(col(Interaction.contact_id))
        .subquery()
    )
    rows, total = page_and_total(
        session,
        sa_select(
            grouped.c.contact_id,
            col(Contact.given_name),
            col(Contact.family_name),
            col(User.display_name),
            grouped.c.waiting,
            grouped.c.since,
            grouped.c.last_at,
        )
        .join(Contact, col(Contact.id) == grouped.c.contact_id)
        .outerjoin(User, col(User.id) == col(Contact.owner_id))
        .order_by(grouped.c.since, grouped.c.contact_id),
        offset,
        limit,
    )
    return [
        Waiting(
            contact_id=int(cid),
            name=" ".join(p for p in (given, family) if p) or "(no name)",
            owner=owner or "(no owner)",
            waiting=int(n),
            since=aware(first),
            last_at=aware(last),
        )
        for cid, given, family, owner, n, first, last in rows
    ], total


@dataclass(frozen=True)
class OverdueFollowUp:
    """A promised follow-up (a task on a contact) past its due date."""

    task_id: int
    title: str
    due_on: date
    days_overdue: int
    contact_id: int
    contact: str
    owner: str


def overdue_follow_ups(
    *,
    session: Session,
    actor: Actor,
    today: date | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[OverdueFollowUp], int]:
    """Open tasks on the actor's customers past their due date, oldest first."""
    today = today or utcnow().date()
    conditions: list[Any] = [
        col(Task.done_at).is_(None),
        col(Task.due_on) < today,
        col(Task.contact_id).is_not(None),
        *live_contact(),
    ]
    scope = contact_scope(actor)
    if scope is not None:
        conditions.append(scope)
    base = sa_select(col(Task.id)).join(Contact, col(Contact.id) == col(Task.contact_id))
    total = int(
        session.execute(
            sa_select(func.count()).select_from(base.where(*conditions).subquery())
        ).scalar_one()
    )
    rows = session.execute(
        sa_select(
            col(Task.id),
            col(Task.title),
            col(Task.due_on),
            col(Task.contact_id),
            col(Contact.given_name),
            col(Contact.family_name),
            col(User.display_name),
        )
        .join(Contact, col(Contact.id) == col(Task.contact_id))
        .outerjoin(User, col(User.id) == col(Task.owner_id))
        .where(*conditions)
        .order_by(col(Task.due_on), col(Task.id))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 200))
    ).all()
    return [
        OverdueFollowUp(
            task_id=int(tid),
            title=title,
            due_on=due,
            days_overdue=(today - due).days,
            contact_id=int(cid),
            contact=" ".join(p for p in (given, family) if p) or "(no name)",
            owner=owner or "(no owner)",
        )
        for tid, title, due, cid, given, family, owner in rows
    ], total
