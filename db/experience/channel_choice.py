"""Channel of choice: do we reach people the way they asked to be reached?"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.experience.scope import contact_scope, live_contact
from db.models.auth import User
from db.models.people import Contact, Direction, Interaction


@dataclass(frozen=True)
class ChoiceShare:
    """Contacts with a preferred channel reached in the period, and how."""

    reached: int
    on_preferred: int

    @property
    def share(self) -> float | None:
        """Percentage reached at least once on their preferred channel."""
        return round(100.0 * self.on_preferred / self.reached, 1) if self.reached else None


@dataclass(frozen=True)
class OffChannel:
    """A person contacted on channels they did not choose."""

    contact_id: int
    name: str
    owner: str
    preferred: str
    off_channel: int
    on_preferred: int


def _per_contact(actor: Actor, since: datetime, until: datetime) -> Any:
    conditions: list[Any] = [
        col(Interaction.direction) == Direction.outbound.value,
        col(Interaction.occurred_at) >= since,
        col(Interaction.occurred_at) < until,
        col(Contact.preferred_channel).is_not(None),
        *live_contact(),
    ]
    scope = contact_scope(actor)
    if scope is not None:
        conditions.append(scope)
    on_choice = col(Interaction.channel) == col(Contact.preferred_channel)
    return (
        sa_select(
            col(Interaction.contact_id).label("contact_id"),
            func.sum(case((on_choice, 1), else_=0)).label("on_preferred"),
            func.sum(case((on_choice, 0), else_=1)).label("off_channel"),
        )
        .join(Contact, col(Contact.id) == col(Interaction.contact_id))
        .where(*conditions)
        .group_by(col(Interaction.contact_id))
        .subquery()
    )


def channel_share(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> ChoiceShare:
    """How many people with a preferred channel we reached, and how many on that channel."""
    per = _per_contact(actor, since, until)
    reached, hit = session.execute(
        sa_select(func.count(), func.sum(case((per.c.on_preferred > 0, 1), else_=0)))
    ).one()
    return ChoiceShare(int(reached or 0), int(hit or 0))


def off_channel_contacts(
    *,
    session: Session,
    actor: Actor,
    since: datetime,
    until: datetime,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[OffChannel], int]:
    """People contacted on a channel they did not choose, most often first."""
    per = _per_contact(actor, since, until)
    total = int(
        session.execute(
            sa_select(func.count()).select_from(per).where(per.c.off_channel > 0)
        ).scalar_one()
    )
    rows = session.execute(
        sa_select(
            per.c.contact_id,
            col(Contact.given_name),
            col(Contact.family_name),
            col(User.display_name),
            col(Contact.preferred_channel),
            per.c.off_channel,
            per.c.on_preferred,
        )
        .join(Contact, col(Contact.id) == per.c.contact_id)
        .outerjoin(User, col(User.id) == col(Contact.owner_id))
        .where(per.c.off_channel > 0)
        .order_by(per.c.off_channel.desc(), per.c.contact_id)
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 200))
    ).all()
    return [
        OffChannel(
            contact_id=int(cid),
            name=" ".join(p for p in (given, family) if p) or "(no name)",
            owner=owner or "(no owner)",
            preferred=str(pref),
            off_channel=int(off),
            on_preferred=int(on),
        )
        for cid, given, family, owner, pref, off, on in rows
    ], total
