"""Row-level rules shared by the people and pipeline areas.

Records belong to an owner, and through the owner to a team. Administrators and privacy
officers read everything; managers read and change their team's; sales read their team's
and change their own.
"""

from typing import Any

from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator
from db.core.errors import Forbidden
from db.models.auth import Role, User

READ_ALL = frozenset({Role.admin, Role.privacy})
READ_TEAM = frozenset({Role.manager, Role.sales})
WRITE_ANY = frozenset({Role.admin, Role.manager, Role.sales})


def require_reader(actor: Actor, *, what: str) -> None:
    """Raise Forbidden unless the actor may read records of this kind at all."""
    if not actor.has_any(READ_ALL | READ_TEAM):
        raise Forbidden(f"Your roles do not include access to {what}.")


def require_writer(actor: Actor, *, what: str) -> None:
    """Raise Forbidden unless the actor's roles may change records of this kind at all."""
    if not (isinstance(actor, Operator) or actor.has_any(WRITE_ANY)):
        raise Forbidden(f"Your roles do not allow changing {what}.")


def owner_filter(actor: Actor, owner_column: Any) -> Any | None:
    """A SQL condition limiting rows to those the actor may read (None: no limit)."""
    require_reader(actor, what="these records")
    if isinstance(actor, Operator) or actor.has_any(READ_ALL):
        return None
    if actor.team:
        team_members = select(User.id).where(User.team == actor.team)
        return col(owner_column).in_(team_members)
    return col(owner_column) == actor.id


def can_read(*, session: Session, actor: Actor, owner_id: int | None) -> bool:
    """True when the actor may read a record with this owner."""
    if isinstance(actor, Operator) or actor.has_any(READ_ALL):
        return True
    if not actor.has_any(READ_TEAM):
        return False
    return owner_id == actor.id or _same_team(session=session, actor=actor, owner_id=owner_id)


def can_change(*, session: Session, actor: Actor, owner_id: int | None) -> bool:
    """True when the actor may change a record with this owner."""
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return True
    if Role.manager in actor.roles and (
        owner_id == actor.id or _same_team(session=session, actor=actor, owner_id=owner_id)
    ):
        return True
    return Role.sales in actor.roles and owner_id == actor.id


def require_change(*, session: Session, actor: Actor, owner_id: int | None, what: str) -> None:
    """Raise Forbidden unless the actor may change this record."""
    if not can_change(session=session, actor=actor, owner_id=owner_id):
        raise Forbidden(
            f"You can't change {what}: it belongs to someone outside what your role allows "
            "(sales change their own records, managers their team's)."
        )


def _same_team(*, session: Session, actor: Actor, owner_id: int | None) -> bool:
    if owner_id is None or not isinstance(actor, User) or not actor.team:
        return False
    owner = session.get(User, owner_id)
    return owner is not None and owner.team == actor.team
