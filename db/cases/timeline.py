"""The cases area's part of the Contact 360 timeline: named cases, for reviewers only."""

from typing import Any

from sqlalchemy import String, cast, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.cases.review import not_excluded
from db.models.auth import Role
from db.models.cases import Case
from db.models.people import Contact


def cases_source(session: Session, contact: Contact, actor: Actor) -> Any | None:
    """Named (never anonymous) cases about the person, for case reviewers only.

    A reviewer excluded from a case never sees it here either, whatever other roles
    they hold: an exclusion holds on every path to a case.
    """
    if not actor.has_any({Role.reviewer}):
        return None
    return sa_select(
        col(Case.received_at).label("at"),
        literal("case").label("source"),
        col(Case.status).label("kind"),
        cast(literal(None), String).label("channel"),
        col(Case.reference).label("title"),
        col(Case.category).label("detail"),
        col(Case.id).label("ref_id"),
    ).where(
        col(Case.contact_id) == contact.id,
        col(Case.anonymous).is_(False),
        col(Case.purged_at).is_(None),
        not_excluded(actor),
    )
