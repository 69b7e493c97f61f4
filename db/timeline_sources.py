"""Timeline sources from the consent and cases areas, and the import suppression check.

The people area's timeline and importer expose hooks; this module plugs the other areas
into them, so each area stays unaware of the others.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, cast, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.audit import Actor
from db.case_review import not_excluded
from db.erasure import is_suppressed, suppressed_digests, suppression_digests
from db.import_kinds import CHUNK_SUPPRESSION_CHECKS, SUPPRESSION_CHECKS
from db.models.auth import Role
from db.models.cases import Case
from db.models.consent import ConsentEvent, ConsentPurpose
from db.models.people import Contact
from db.timeline import TIMELINE_SOURCES


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


ERASED_REASON = "this person asked to be erased; they are not re-created"


def erased_identifiers(session: Session, values: dict[str, Any]) -> str | None:
    """Refuse an imported row whose email, phone or external id belongs to an erased person."""
    if is_suppressed(session=session, **_identifiers_of(values)):
        return ERASED_REASON
    return None


def erased_identifiers_of_rows(
    session: Session, rows: Sequence[dict[str, Any]]
) -> list[str | None]:
    """The same check for many rows, with one query for all their identifiers."""
    digests = [suppression_digests(**_identifiers_of(values)) for values in rows]
    found = suppressed_digests(session=session, pairs=[p for pairs in digests for p in pairs])
    return [ERASED_REASON if found.intersection(pairs) else None for pairs in digests]


def _identifiers_of(values: dict[str, Any]) -> dict[str, str | None]:
    return {
        "email": values.get("email") or values.get("email2"),
        "phone": values.get("phone") or values.get("mobile"),
        "external_ref": values.get("external_ref"),
    }


def register() -> None:
    """Plug the sources and the check in (idempotent)."""
    for source in (consent_source, cases_source):
        if source not in TIMELINE_SOURCES:
            TIMELINE_SOURCES.append(source)
    if erased_identifiers not in SUPPRESSION_CHECKS:
        SUPPRESSION_CHECKS.append(erased_identifiers)
    CHUNK_SUPPRESSION_CHECKS[erased_identifiers] = erased_identifiers_of_rows


register()
