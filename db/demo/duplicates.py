"""Demo duplicates: a few people entered twice, as staff do, for the Duplicates page."""

import random

from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR
from db.duplicates.nicknames import GROUPS
from db.models.people import Contact, ContactCreate
from db.people.contacts import create_contact

_NICKNAME = {group.split()[0]: group.split()[1] for group in GROUPS}


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randint(1, len(text) - 3)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def seed_duplicates(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Re-enter some demo contacts with a typo, a nickname or another phone format."""
    originals = list(
        session.exec(
            select(Contact)
            .where(col(Contact.merged_into_id).is_(None), col(Contact.email).is_not(None))
            .order_by(col(Contact.id))
        ).all()
    )
    if not originals:
        return {}
    made = 0
    for original in rng.sample(originals, k=min(len(originals), max(3, int(8 * scale)))):
        given = original.given_name
        nickname = _NICKNAME.get(given.lower())
        copy = ContactCreate(
            kind=original.kind,
            given_name=nickname.capitalize() if nickname and rng.random() < 0.5 else given,
            family_name=_typo(rng, original.family_name),
            email=(original.email or "").upper() if rng.random() < 0.7 else None,
            phone=original.phone,
            locality=original.locality,
            postcode=(original.postcode or "").replace(" ", "") or None,
            country=original.country,
            date_of_birth=original.date_of_birth,
            owner_id=original.owner_id,
            external_ref=f"WEB-{original.id}",
        )
        create_contact(session=session, contact_in=copy, actor=OPERATOR)
        made += 1
    return {"duplicate contacts": made}
