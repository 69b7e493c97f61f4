"""Finding people and organisations from one box: by name, email, phone or reference.

What a person finds is what they may read (the visibility rules of db/auth/visibility.py
applied in SQL); merged-away and erased records are never found.
"""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.visibility import owner_filter
from db.core.errors import ValidationError
from db.core.normalise import normalise_phone, search_text
from db.models.people import Contact, Organisation

SEARCH_LIMIT_MAX = 50
# Enough of a number to look for: a phone is searched from 6 digits on.
PHONE_DIGITS_MIN = 6
_PHONE_LIKE = re.compile(r"^[+\d][\d\s().-]*$")


@dataclass(frozen=True)
class Hit:
    """One record found: its kind, id, what to call it and why it matched."""

    kind: str
    id: int
    label: str
    detail: str


def _limit(limit: int) -> int:
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise ValidationError(
            f"Results: ask for 1 to {SEARCH_LIMIT_MAX} of each kind.", field="limit"
        )
    return limit


def _like(text: str) -> str:
    """A LIKE pattern for text that may itself hold % or _ (matched as themselves)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def phone_forms(text: str) -> list[str]:
    """The stored (E.164) forms a typed phone number may have: none when it is not one."""
    if not _PHONE_LIKE.match(text) or sum(c.isdigit() for c in text) < PHONE_DIGITS_MIN:
        return []
    try:
        number = normalise_phone(text)
    except ValidationError:
        return []
    return [number] if number else []


def search_contacts(*, session: Session, actor: Actor, query: str, limit: int = 8) -> list[Hit]:
    """Live contacts the actor may read whose name, email, phone or reference matches."""
    text = search_text(query)
    if not text:
        return []
    lower = text.lower()
    matches: list[Any] = [
        func.lower(Contact.family_name).like(_like(lower), escape="\\"),
        func.lower(Contact.given_name).like(_like(lower), escape="\\"),
        func.lower(Contact.email).like(_like(lower), escape="\\"),
        col(Contact.external_ref) == text,
    ]
    words = lower.split()
    if len(words) >= 2:
        matches.append(
            and_(
                func.lower(Contact.given_name).like(_like(words[0]), escape="\\"),
                func.lower(Contact.family_name).like(_like(" ".join(words[1:])), escape="\\"),
            )
        )
    for number in phone_forms(text):
        matches.extend([col(Contact.phone) == number, col(Contact.mobile) == number])
    conditions: list[Any] = [
        col(Contact.merged_into_id).is_(None),
        col(Contact.erased_at).is_(None),
        or_(*matches),
    ]
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        conditions.append(scope)
    rows = session.exec(
        select(Contact)
        .where(*conditions)
        .order_by(col(Contact.family_name), col(Contact.given_name), col(Contact.id))
        .limit(_limit(limit))
    ).all()
    return [
        Hit(
            kind="contact",
            id=row.id or 0,
            label=row.full_name or "(no name)",
            detail=" · ".join(
                p for p in (row.email, row.phone or row.mobile, row.external_ref) if p
            ),
        )
        for row in rows
    ]


def search_organisations(
    *, session: Session, actor: Actor, query: str, limit: int = 8
) -> list[Hit]:
    """Organisations the actor may read whose name (any word of it) or domain matches."""
    text = search_text(query)
    if not text:
        return []
    lower = text.lower()
    conditions: list[Any] = [
        col(Organisation.merged_into_id).is_(None),
        or_(
            func.lower(Organisation.name).like(_like(lower), escape="\\"),
            func.lower(Organisation.name).like("% " + _like(lower), escape="\\"),
            func.lower(Organisation.domain).like(_like(lower), escape="\\"),
        ),
    ]
    scope = owner_filter(actor, Organisation.owner_id)
    if scope is not None:
        conditions.append(scope)
    rows = session.exec(
        select(Organisation)
        .where(*conditions)
        .order_by(col(Organisation.name), col(Organisation.id))
        .limit(_limit(limit))
    ).all()
    return [
        Hit(
            kind="organisation",
            id=row.id or 0,
            label=row.name,
            detail=" · ".join(p for p in (row.domain, row.locality) if p),
        )
        for row in rows
    ]
