"""The consent area's part of the Contact 360 timeline."""

from typing import Any

from sqlalchemy import String, cast, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.models.consent import ConsentEvent, ConsentPurpose
from db.models.people import Contact


def consent_source(session: Session, contact: Contact, actor: Actor) -> Any:
    """Every consent event of the person: grants, withdrawals and objections."""
    return (
        sa_select(
            col(ConsentEvent.occurred_at).label("at"),
            literal("consent").label("source"),
            cast(col(ConsentEvent.action), String).label("kind"),
            cast(col(ConsentEvent.channel), String).label("channel"),
            col(ConsentPurpose.name).label("title"),
            cast(col(ConsentEvent.source), String).label("detail"),
            col(ConsentEvent.id).label("ref_id"),
        )
        .join(ConsentPurpose, col(ConsentPurpose.id) == col(ConsentEvent.purpose_id))
        .where(col(ConsentEvent.contact_id) == contact.id)
    )
