"""Erasure (GDPR Art. 17): anonymise a person everywhere, keep a tombstone and the
ledger's proof, and remember hashed identifiers so an import cannot bring them back."""

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Enum, String, delete, func, update
from sqlmodel import Session, SQLModel, col, select

from db.auth.actor import Actor, require_role
from db.consent.records import append_system_events
from db.core.events import record_event
from db.core.normalise import normalise_email, normalise_phone
from db.core.types import utcnow
from db.models.auth import Role
from db.models.consent import ConsentAction, ConsentEvent, PrivacyRequest, Suppression
from db.models.people import Contact, ContactTag, Interaction, Task
from db.models.self_service import EmailedCode, PreferenceLink
from db.models.surveys import SurveyResponse

ERASED = "[erased]"
# Lower-case ASCII addresses without an IDNA label ("xn--"), which validation leaves as is.
_PLAIN_EMAIL = re.compile(r"[a-z0-9._+\-]+@[a-z0-9.\-]+")
# Bound parameters per look-up, well under what SQLite and PostgreSQL accept in one query.
_DIGESTS_PER_QUERY = 2000
# Tables whose text is never rewritten: hash-chained logs (which by design hold no
# personal text), the suppression list itself, staff accounts, and case records, which
# are kept under the exemptions for legal claims and whistleblowing record-keeping (GDPR
# Art. 17(3)(e); Directive (EU) 2019/1937 Art. 18): otherwise a person named in a concern
# could erase the evidence against them. Aggregates keyed by codes (the forecast's
# summary: pipeline, owner, status, currency, month) hold no personal text either, and a
# name that happened to equal a code ("Open", "GBP") must not rewrite their keys.
UNTOUCHED = {
    "forecast_month",
    "case_category",
    "case_record",
    "case_event",
    "case_exclusion",
    "case_release",
    "case_check_in",
    "audit_event",
    "audit_head",
    "consent_head",
    "suppression",
    "app_user",
    "user_role",
    "auth_session",
    "app_meta",
    "alembic_version",
}


def identifier_digest(kind: str, value: str) -> str:
    """SHA-256 of a normalised identifier, as stored in the suppression list."""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _normalised(kind: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if kind == "email" and _PLAIN_EMAIL.fullmatch(value) and "xn--" not in value:
        # Already its own normal form: the validator would either return it unchanged or
        # refuse it, and a refused value is kept stripped and lower-cased, i.e. as it is.
        # Imported rows arrive normalised, so this skips a second full validation.
        return value
    try:
        if kind == "email":
            return normalise_email(value)
        if kind == "phone":
            return normalise_phone(value)
    except Exception:  # an unparseable value cannot match a stored one either
        return value.strip().lower()
    return value.strip().lower()


def suppression_digests(
    *, email: str | None = None, phone: str | None = None, external_ref: str | None = None
) -> list[tuple[str, str]]:
    """The (kind, digest) pairs for whichever identifiers are given."""
    pairs = []
    for kind, value in (("email", email), ("phone", phone), ("external_ref", external_ref)):
        normal = _normalised(kind, value)
        if normal:
            pairs.append((kind, identifier_digest(kind, normal)))
    return pairs


def is_suppressed(
    *,
    session: Session,
    email: str | None = None,
    phone: str | None = None,
    external_ref: str | None = None,
) -> bool:
    """True when any identifier belongs to an erased person (imports must skip them)."""
    for kind, digest in suppression_digests(email=email, phone=phone, external_ref=external_ref):
        found = session.exec(
            select(Suppression.id).where(Suppression.kind == kind, Suppression.digest == digest)
        ).first()
        if found is not None:
            return True
    return False


def suppressed_digests(
    *, session: Session, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (kind, digest) pairs are on the suppression list, in one query."""
    found: set[tuple[str, str]] = set()
    digests = sorted({digest for _kind, digest in pairs})
    for start in range(0, len(digests), _DIGESTS_PER_QUERY):
        rows = session.exec(
            select(Suppression.kind, Suppression.digest).where(
                col(Suppression.digest).in_(digests[start : start + _DIGESTS_PER_QUERY])
            )
        )
        found.update((kind, digest) for kind, digest in rows)
    return found & set(pairs)


def _identifiers(contact: Contact) -> list[str]:
    # A lone given or family name is too common a word to scrub from other people's text.
    both = bool(contact.given_name and contact.family_name)
    values = [
        contact.full_name if both else "",
        f"{contact.family_name}, {contact.given_name}" if both else "",
        contact.email,
        contact.email2,
        contact.phone,
        contact.mobile,
        contact.external_ref,
        contact.identifier,
        contact.street,
        contact.street2,
    ]
    texts: list[str] = []
    for value in values:
        if value and len(value.strip()) >= 3:
            for form in (value.strip(), value.strip().lower()):
                if form not in texts:
                    texts.append(form)
    # Longest first, so a full name is replaced before a part of it could be.
    return sorted(texts, key=len, reverse=True)


def _is_text(kind: Any) -> bool:
    if isinstance(kind, Enum):
        return False
    return isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)


def _scrub_everywhere(session: Session, texts: list[str]) -> int:
    """Replace each identifier in every text column of every table; returns rows changed."""
    changed = 0
    for table in SQLModel.metadata.sorted_tables:
        if table.name in UNTOUCHED:
            continue
        columns = [c for c in table.columns if _is_text(c.type) and not c.primary_key]
        for column in columns:
            for text in texts:
                result = session.execute(
                    update(table)
                    .where(column.contains(text, autoescape=True))
                    .values({column.name: func.replace(column, text, ERASED)})
                )
                changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return changed


# Other areas' part in an erasure, in its transaction: each gets the contact's and the
# request's ids and returns counts for the privacy officer (filled by db.wiring).
ErasureHook = Callable[[Session, int, int], dict[str, int]]
ERASURE_HOOKS: list[ErasureHook] = []


def erase_contact(
    *, session: Session, contact: Contact, request: PrivacyRequest, actor: Actor
) -> dict[str, Any]:
    """Anonymise `contact` in the caller's transaction; returns what was done."""
    require_role(actor, Role.privacy, doing="erase a person")
    texts = _identifiers(contact)
    digests = suppression_digests(
        email=contact.email, phone=contact.phone, external_ref=contact.external_ref
    )
    digests += suppression_digests(email=contact.email2, phone=contact.mobile)
    for kind, digest in dict.fromkeys(digests):
        exists = session.exec(
            select(Suppression.id).where(Suppression.kind == kind, Suppression.digest == digest)
        ).first()
        if exists is None:
            session.add(Suppression(kind=kind, digest=digest, request_id=request.id))
    cid = contact.id
    own = session.execute(
        update(Interaction)
        .where(col(Interaction.contact_id) == cid)
        .values(subject=ERASED, body="")
    )
    session.execute(update(Task).where(col(Task.contact_id) == cid).values(title=ERASED))
    session.execute(delete(ContactTag).where(col(ContactTag.contact_id) == cid))
    # Named survey answers stay in the totals but are no longer tied to the person.
    session.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.contact_id) == cid)
        .values(contact_id=None, submitted_at=None)
    )
    session.execute(
        update(ConsentEvent).where(col(ConsentEvent.contact_id) == cid).values(evidence=None)
    )
    session.execute(
        update(PrivacyRequest)
        .where(col(PrivacyRequest.contact_id) == cid)
        .values(notes=None, refusal_reason=None, requester_email=None)
    )
    # Self-service traces: their personal links stop existing, and codes emailed to their
    # addresses (pending requests, downloads) are forgotten with the addresses.
    session.execute(delete(PreferenceLink).where(col(PreferenceLink.contact_id) == cid))
    addresses = [a.lower() for a in (contact.email, contact.email2) if a]
    if addresses:
        session.execute(delete(EmailedCode).where(func.lower(EmailedCode.email).in_(addresses)))
    for field in (
        "job_title",
        "email",
        "email2",
        "phone",
        "mobile",
        "street",
        "street2",
        "locality",
        "postcode",
        "region",
        "date_of_birth",
        "identifier",
        "external_ref",
        "notes",
        "preferred_channel",
    ):
        setattr(contact, field, None)
    contact.given_name = "Erased"
    contact.family_name = f"person #{cid}"
    contact.erased_at = utcnow()
    contact.version += 1
    contact.updated_at = utcnow()
    contact.updated_by_id = actor.id
    session.add(contact)
    session.flush()
    scrubbed = _scrub_everywhere(session, texts)
    proof = append_system_events(
        session=session,
        contact_id=cid or 0,
        action=ConsentAction.withdraw,
        evidence=f"Erasure request #{request.id}",
        actor=actor,
        request_id=request.id,
    )
    done: dict[str, Any] = {
        "interactions_blanked": int(own.rowcount or 0),  # type: ignore[attr-defined]
        "other_rows_scrubbed": scrubbed,
        "suppressed_identifiers": len(set(digests)),
        "ledger_events": proof,
    }
    for hook in ERASURE_HOOKS:
        done.update(hook(session, cid or 0, request.id or 0))
    record_event(
        session=session,
        kind="contact.erased",
        entity="contact",
        entity_id=cid,
        data={"contact_id": cid},
    )
    return done


# The import area's suppression check: erased people are not brought back.
ERASED_REASON = "this person asked to be erased; they are not re-created"


def erased_identifiers(session: Session, values: dict[str, Any]) -> str | None:
    """Refuse an imported row whose email, phone or external id belongs to an erased person."""
    if is_suppressed(session=session, **identifiers_of(values)):
        return ERASED_REASON
    return None


def erased_identifiers_of_rows(
    session: Session, rows: Sequence[dict[str, Any]]
) -> list[str | None]:
    """The same check for many rows, with one query for all their identifiers."""
    digests = [suppression_digests(**identifiers_of(values)) for values in rows]
    found = suppressed_digests(session=session, pairs=[p for pairs in digests for p in pairs])
    return [ERASED_REASON if found.intersection(pairs) else None for pairs in digests]


def identifiers_of(values: dict[str, Any]) -> dict[str, str | None]:
    """The identifiers of a row that the suppression list is checked against."""
    return {
        "email": values.get("email") or values.get("email2"),
        "phone": values.get("phone") or values.get("mobile"),
        "external_ref": values.get("external_ref"),
    }
