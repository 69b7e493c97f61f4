"""Who sees which customers in the customer-experience reports, and shared SQL helpers.

Stricter than the people area's team reading: sales see their own contacts only,
managers their team's, administrators everyone's.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, literal_column
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor, Operator, require_role
from db.models.auth import Role, User
from db.models.people import Contact

EXPERIENCE_ROLES = (Role.admin, Role.manager, Role.sales)


def contact_scope(actor: Actor) -> Any | None:
    """A SQL condition on Contact limiting rows to the actor's customers (None: no limit)."""
    require_role(actor, *EXPERIENCE_ROLES, doing="see the customer experience reports")
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return None
    if Role.manager in actor.roles and actor.team:
        members = sa_select(col(User.id)).where(col(User.team) == actor.team)
        return col(Contact.owner_id).in_(members)
    return col(Contact.owner_id) == actor.id


def scope_key(actor: Actor) -> str:
    """Names the set of customers `contact_scope` gives the actor, for stored reports."""
    require_role(actor, *EXPERIENCE_ROLES, doing="see the customer experience reports")
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return "all"
    if Role.manager in actor.roles and actor.team:
        return f"team:{actor.team}"
    return f"owner:{actor.id}"


# The one name under which team figures group every team together.
COMPANY = "the company"


def team_key(together: bool = False) -> Any:
    """The grouping of team figures: each owner's team, or every team as one, COMPANY.

    A CASE and not a bare constant: PostgreSQL refuses to group by a string literal."""
    if not together:
        return col(User.team)
    return case((col(User.team).is_not(None), literal_column(f"'{COMPANY}'")))


def live_contact() -> list[Any]:
    """Conditions leaving out merged-away and erased contacts."""
    return [col(Contact.merged_into_id).is_(None), col(Contact.erased_at).is_(None)]


def month_of(session: Session, column: Any) -> Any:
    """'YYYY-MM' of a UTC timestamp column, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column.op("AT TIME ZONE")(literal_column("'UTC'")), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def aware(value: Any) -> datetime:
    """A UTC-aware datetime from what a driver returns for an aggregate or subquery."""
    # Aggregates and scalar subqueries lose the column type: SQLite hands back text.
    found: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def page_and_total(session: Session, query: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    """One page of an ordered query and the number of rows in all, in one pass: the total
    is a window count, taken before the page is cut. A page past the end counts alone."""
    rows = session.execute(
        query.add_columns(func.count().over().label("total"))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 200))
    ).all()
    if rows:
        return [tuple(r)[:-1] for r in rows], int(rows[0][-1])
    if offset <= 0:
        return [], 0
    counted = sa_select(func.count()).select_from(query.order_by(None).subquery())
    return [], int(session.execute(counted).scalar_one())
