"""Moments that matter: negative interactions, service concerns, unhappy survey answers.

Each source is a function `(session, since, until) -> SELECT | None` whose SELECT has
three labelled columns: `contact_id` (int), `occurred_at` (UTC timestamp) and `kind`
(a short label such as "negative interaction"), limited to `since <= occurred_at < until`.
The reports take the UNION ALL of every source, so another area adds its moments by
listing a function in `db.wiring.MOMENT_SOURCES` (customer surveys do, for detractor answers).
Case sources give the fact and the date of a concern only, never its content.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.core.types import utcnow
from db.experience.scope import (
    aware,
    contact_scope,
    live_contact,
    month_of,
    page_and_total,
    team_key,
)
from db.models.auth import User
from db.models.cases import Case
from db.models.people import Contact, Interaction, Sentiment
from db.people.contacts import get_contact

MomentSource = Callable[[Session, datetime, datetime], Any]
MOMENT_SOURCES: list[MomentSource] = []  # filled by db.wiring
SERVICE_CATEGORY = "service_quality"
FLAG_WINDOW = timedelta(days=90)
FLAG_AT = 2  # negative moments within the window that flag a contact


def negative_interactions(session: Session, since: datetime, until: datetime) -> Any:
    """Interactions the person logging them marked negative."""
    return sa_select(
        col(Interaction.contact_id).label("contact_id"),
        col(Interaction.occurred_at).label("occurred_at"),
        literal("negative interaction").label("kind"),
    ).where(
        col(Interaction.sentiment) == Sentiment.negative.value,
        col(Interaction.occurred_at) >= since,
        col(Interaction.occurred_at) < until,
    )


def service_concerns(session: Session, since: datetime, until: datetime) -> Any:
    """Named concerns about service quality linked to a contact (the fact, no content)."""
    return sa_select(
        col(Case.contact_id).label("contact_id"),
        col(Case.received_at).label("occurred_at"),
        literal("service concern").label("kind"),
    ).where(
        col(Case.contact_id).is_not(None),
        col(Case.anonymous).is_(False),
        col(Case.category) == SERVICE_CATEGORY,
        col(Case.purged_at).is_(None),
        col(Case.received_at) >= since,
        col(Case.received_at) < until,
    )


def _moments(session: Session, since: datetime, until: datetime) -> Any:
    parts = [p for source in MOMENT_SOURCES if (p := source(session, since, until)) is not None]
    return union_all(*parts).subquery("moments")


def _scoped(actor: Actor, moments: Any) -> list[Any]:
    conditions: list[Any] = [*live_contact()]
    scope = contact_scope(actor)
    if scope is not None:
        conditions.append(scope)
    return conditions


@dataclass(frozen=True)
class MomentMonth:
    """Moments of one kind in one month for one team, and how many people they touched."""

    month: str
    team: str
    kind: str
    moments: int
    contacts: int


def moments_by_month(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[MomentMonth]:
    """Negative moments per month, team and kind, with the number of contacts affected."""
    moments = _moments(session, since, until)
    month = month_of(session, moments.c.occurred_at)
    rows = session.execute(
        sa_select(
            month,
            col(User.team),
            moments.c.kind,
            func.count(),
            func.count(func.distinct(moments.c.contact_id)),
        )
        .select_from(moments)
        .join(Contact, col(Contact.id) == moments.c.contact_id)
        .outerjoin(User, col(User.id) == col(Contact.owner_id))
        .where(*_scoped(actor, moments))
        .group_by(month, col(User.team), moments.c.kind)
        .order_by(month, col(User.team), moments.c.kind)
    ).all()
    return [
        MomentMonth(str(m), team or "(no team)", str(kind), int(n), int(c))
        for m, team, kind, n, c in rows
    ]


@dataclass(frozen=True)
class AffectedContact:
    """A person with negative moments in the period."""

    contact_id: int
    name: str
    owner: str
    team: str
    moments: int
    last_at: datetime


def affected_contacts(
    *,
    session: Session,
    actor: Actor,
    since: datetime,
    until: datetime,
    at_least: int = 1,
    mine_only: bool = False,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[AffectedContact], int]:
    """People with at least `at_least` negative moments in the period, most first."""
    moments = _moments(session, since, until)
    conditions = _scoped(actor, moments)
    if mine_only:
        conditions.append(col(Contact.owner_id) == actor.id)
    grouped = (
        sa_select(
            moments.c.contact_id.label("contact_id"),
            func.count().label("n"),
            func.max(moments.c.occurred_at).label("last_at"),
        )
        .select_from(moments)
        .join(Contact, col(Contact.id) == moments.c.contact_id)
        .where(*conditions)
        .group_by(moments.c.contact_id)
        .having(func.count() >= at_least)
        .subquery()
    )
    rows, total = page_and_total(
        session,
        sa_select(
            grouped.c.contact_id,
            col(Contact.given_name),
            col(Contact.family_name),
            col(User.display_name),
            col(User.team),
            grouped.c.n,
            grouped.c.last_at,
        )
        .join(Contact, col(Contact.id) == grouped.c.contact_id)
        .outerjoin(User, col(User.id) == col(Contact.owner_id))
        .order_by(grouped.c.n.desc(), grouped.c.last_at.desc(), grouped.c.contact_id),
        offset,
        limit,
    )
    return [
        AffectedContact(
            contact_id=int(cid),
            name=" ".join(p for p in (given, family) if p) or "(no name)",
            owner=owner or "(no owner)",
            team=team or "(no team)",
            moments=int(n),
            last_at=aware(last),
        )
        for cid, given, family, owner, team, n, last in rows
    ], total


def flagged_contacts(
    *,
    session: Session,
    actor: Actor,
    now: datetime | None = None,
    mine_only: bool = False,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[AffectedContact], int]:
    """People with two or more negative moments in the last 90 days."""
    now = now or utcnow()
    return affected_contacts(
        session=session,
        actor=actor,
        since=now - FLAG_WINDOW,
        until=now + timedelta(seconds=1),
        at_least=FLAG_AT,
        mine_only=mine_only,
        offset=offset,
        limit=limit,
    )


def contact_moments(
    *, session: Session, contact_id: int, actor: Actor, now: datetime | None = None
) -> dict[str, int]:
    """Negative moments of one contact in the last 90 days, by kind (for their timeline)."""
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    now = now or utcnow()
    moments = _moments(session, now - FLAG_WINDOW, now + timedelta(seconds=1))
    rows = session.execute(
        sa_select(moments.c.kind, func.count())
        .where(moments.c.contact_id == contact.id)
        .group_by(moments.c.kind)
    ).all()
    return {str(kind): int(n) for kind, n in rows}


def is_flagged(counts: dict[str, int]) -> bool:
    """True when the moments add up to the flag threshold."""
    return sum(counts.values()) >= FLAG_AT


def teams_moment_counts(
    *,
    session: Session,
    teams: Sequence[str],
    start: datetime,
    end: datetime,
    together: bool = False,
) -> dict[str, dict[str, int]]:
    """Negative moments of these teams' customers in [start, end), by team and kind (or,
    `together`, of all of them under COMPANY)."""
    if not teams:
        return {}
    moments = _moments(session, start, end)
    # Driven from the period's moments (few) to their contacts by primary key; filtering
    # by `owner_id IN (team members)` instead makes SQLite walk every member's contacts
    # and rescan the moments for each.
    team = team_key(together)
    rows = session.execute(
        sa_select(team, moments.c.kind, func.count())
        .select_from(moments)
        .join(Contact, col(Contact.id) == moments.c.contact_id)
        .join(User, col(User.id) == col(Contact.owner_id))
        .where(col(User.team).in_(list(teams)), *live_contact())
        .group_by(team, moments.c.kind)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for team, kind, n in rows:
        counts.setdefault(str(team), {})[str(kind)] = int(n)
    return counts
