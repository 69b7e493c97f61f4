"""Organisations and contacts: create, change, find, with row-level access."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.audit import record
from db.auth.visibility import (
    can_read,
    owner_filter,
    require_change,
    require_reader,
    require_writer,
)
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.events import record_event
from db.core.normalise import (
    clean_text,
    normalise_country,
    normalise_domain,
    normalise_email,
    normalise_phone,
    normalise_tags,
    search_text,
)
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import (
    Contact,
    ContactCreate,
    ContactKind,
    ContactTag,
    ContactUpdate,
    Organisation,
    OrganisationCreate,
    OrganisationUpdate,
)

PAGE_SIZE_MAX = 500
NAME_PART_MAX = 100
JOB_TITLE_MAX = 120
CONTACT_NOTES_MAX = 5000
ORGANISATION_NAME_MAX = 200
INDUSTRY_MAX = 100
LOCALITY_MAX = 100
_TEXT_LIMITS = {
    "given_name": ("Given name", NAME_PART_MAX),
    "family_name": ("Family name", NAME_PART_MAX),
    "job_title": ("Job title", JOB_TITLE_MAX),
    "street": ("Street", 200),
    "street2": ("Address line 2", 200),
    "locality": ("Town or city", LOCALITY_MAX),
    "postcode": ("Postcode", 20),
    "region": ("Region", 100),
    "identifier": ("Identifier", 64),
    "external_ref": ("External reference", 100),
    "notes": ("Notes", CONTACT_NOTES_MAX),
    "name": ("Name", ORGANISATION_NAME_MAX),
    "industry": ("Industry", INDUSTRY_MAX),
    "size": ("Size", 20),
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    for field, (label, limit) in _TEXT_LIMITS.items():
        if field in cleaned and isinstance(cleaned[field], str | type(None)):
            cleaned[field] = clean_text(cleaned[field], field=field, label=label, max_length=limit)
    if "country" in cleaned:
        cleaned["country"] = normalise_country(cleaned["country"])
    region = cleaned.get("country")
    for field, label in (("email", "Email"), ("email2", "Second email")):
        if field in cleaned:
            cleaned[field] = normalise_email(cleaned[field], field=field, label=label)
    for field, label in (("phone", "Phone"), ("mobile", "Mobile")):
        if field in cleaned:
            cleaned[field] = normalise_phone(
                cleaned[field], region=region, field=field, label=label
            )
    if "domain" in cleaned:
        cleaned["domain"] = normalise_domain(cleaned["domain"])
    return cleaned


# --- organisations ----------------------------------------------------------------


def _refuse_cleared(table: Any, changes: dict[str, Any]) -> None:
    """A patch may not empty a column that must always hold a value."""
    for key, value in changes.items():
        column = table.__table__.columns.get(key)
        if value is None and column is not None and not column.nullable:
            label = key.replace("_", " ").capitalize()
            raise ValidationError(f"{label}: choose a value; it cannot be empty.", field=key)


def _check_owner(session: Session, actor: Actor, owner_id: int | None, what: str) -> None:
    """The new owner exists (or the record is left unowned) and the actor may give
    records to them; who may keep unowned records is the visibility rules' call."""
    if owner_id is not None and session.get(User, owner_id) is None:
        raise ValidationError("Owner: choose an existing user.", field="owner_id")
    require_change(session=session, actor=actor, owner_id=owner_id, what=what)


def create_organisation(
    *, session: Session, org_in: OrganisationCreate, actor: Actor
) -> Organisation:
    """Create an organisation owned by the actor unless another owner is given."""
    require_writer(actor, what="organisations")
    values = _clean(org_in.model_dump())
    if not values.get("name"):
        raise ValidationError("Name: enter the organisation's name.", field="name")
    values["owner_id"] = values.get("owner_id") or actor.id
    _check_owner(session, actor, values["owner_id"], "an organisation for that owner")
    org = Organisation.model_validate(values)
    session.add(org)
    session.flush()
    record(
        session,
        actor,
        "organisation.create",
        "organisation",
        entity_id=org.id,
        details={"name": org.name},
    )
    session.commit()
    return org


def get_organisation(*, session: Session, org_id: int, actor: Actor) -> Organisation:
    """One organisation the actor may read."""
    require_reader(actor, what="organisations")
    org = session.get(Organisation, org_id)
    if org is None or not can_read(session=session, actor=actor, owner_id=org.owner_id):
        raise NotFound(f"There is no organisation {org_id} that you can see.")
    return org


def update_organisation(
    *, session: Session, org_id: int, patch: OrganisationUpdate, version: int, actor: Actor
) -> Organisation:
    """Change an organisation, refusing a stale edit."""
    require_writer(actor, what="organisations")
    org = get_organisation(session=session, org_id=org_id, actor=actor)
    require_change(session=session, actor=actor, owner_id=org.owner_id, what="this organisation")
    _check_version(session, org, version, what=org.name)
    changes = _clean(patch.model_dump(exclude_unset=True))
    if "name" in changes and not changes["name"]:
        raise ValidationError("Name: an organisation needs a name.", field="name")
    _refuse_cleared(Organisation, changes)
    if "owner_id" in changes and changes["owner_id"] != org.owner_id:
        _check_owner(session, actor, changes["owner_id"], "an organisation for that owner")
    org.sqlmodel_update(changes)
    org.version += 1
    org.updated_at = utcnow()
    org.updated_by_id = actor.id
    session.add(org)
    record(session, actor, "organisation.update", "organisation", entity_id=org.id, details=changes)
    session.commit()
    return org


def find_organisations(
    *, session: Session, actor: Actor, query: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[Organisation], int]:
    """A page of organisations matching a name or domain, and the total."""
    _check_limit(limit)
    # A merged-away organisation is a tombstone: it still resolves by id, but is not listed.
    conditions: list[Any] = [col(Organisation.merged_into_id).is_(None)]
    scope = owner_filter(actor, Organisation.owner_id)
    if scope is not None:
        conditions.append(scope)
    text = search_text(query)
    if text:
        like = f"%{text.lower()}%"
        conditions.append(
            or_(func.lower(Organisation.name).like(like), col(Organisation.domain).like(like))
        )
    total = session.exec(select(func.count()).select_from(Organisation).where(*conditions)).one()
    rows = session.exec(
        select(Organisation)
        .where(*conditions)
        .order_by(col(Organisation.name))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(rows), int(total)


# --- contacts ---------------------------------------------------------------------


# Identifiers a contact may not be given, checked on every create and edit. The consent
# area lists its check of erased people in db.wiring; each returns a reason or None.
IDENTIFIER_FIELDS = ("email", "email2", "phone", "mobile", "external_ref")
ContactCheck = Callable[[Session, dict[str, Any]], str | None]
CONTACT_CHECKS: list[ContactCheck] = []  # filled by db.wiring


def _refuse_identifiers(session: Session, values: dict[str, Any]) -> None:
    """Refuse identifiers a check forbids (an erased person's), naming only the field."""
    for field in IDENTIFIER_FIELDS:
        value = values.get(field)
        if not value:
            continue
        for check in CONTACT_CHECKS:
            reason = check(session, {field: value})
            if reason:
                label = field.replace("_", " ").replace("2", " 2").capitalize()
                raise ValidationError(f"{label}: {reason}.", field=field)


def create_contact(*, session: Session, contact_in: ContactCreate, actor: Actor) -> Contact:
    """Create a contact (owned by the actor unless another owner is given)."""
    require_writer(actor, what="contacts")
    values = _clean(contact_in.model_dump(exclude={"tags"}))
    if not values.get("given_name") and not values.get("family_name"):
        raise ValidationError(
            "Name: enter a given name or a family name (or both).", field="family_name"
        )
    for field in ("given_name", "family_name"):
        values[field] = values.get(field) or ""
    values["owner_id"] = values.get("owner_id") or actor.id
    _check_owner(session, actor, values["owner_id"], "a contact for that owner")
    _refuse_identifiers(session, values)
    if values.get("organisation_id") is not None:
        get_organisation(session=session, org_id=values["organisation_id"], actor=actor)
    tags = normalise_tags(contact_in.tags)
    contact = Contact.model_validate(values)
    session.add(contact)
    session.flush()
    for tag in tags:
        session.add(ContactTag(contact_id=contact.id or 0, tag=tag))
    record(
        session,
        actor,
        "contact.create",
        "contact",
        entity_id=contact.id,
        details={"kind": contact.kind, "tags": tags},
    )
    record_event(
        session=session,
        kind="contact.created",
        entity="contact",
        entity_id=contact.id,
        data={"contact_id": contact.id, "kind": contact.kind},
    )
    session.commit()
    return contact


def get_contact(*, session: Session, contact_id: int, actor: Actor) -> Contact:
    """One contact the actor may read; a merged contact resolves to its survivor."""
    require_reader(actor, what="contacts")
    contact = session.get(Contact, contact_id)
    seen = set()
    while contact is not None and contact.merged_into_id is not None and contact.id not in seen:
        seen.add(contact.id)
        contact = session.get(Contact, contact.merged_into_id)
    if contact is None or not can_read(session=session, actor=actor, owner_id=contact.owner_id):
        raise NotFound(f"There is no contact {contact_id} that you can see.")
    return contact


def update_contact(
    *, session: Session, contact_id: int, patch: ContactUpdate, version: int, actor: Actor
) -> Contact:
    """Change a contact's details, refusing a stale edit."""
    contact = _update(session, contact_id, patch, version, actor)
    session.commit()
    return contact


def save_contact(
    *,
    session: Session,
    contact_id: int,
    patch: ContactUpdate,
    version: int,
    tags: list[str],
    actor: Actor,
) -> Contact:
    """Change a contact's details and tags together: both are saved, or neither is."""
    contact = _update(session, contact_id, patch, version, actor)
    _replace_tags(session, contact, tags, actor)
    session.commit()
    return contact


def _update(
    session: Session, contact_id: int, patch: ContactUpdate, version: int, actor: Actor
) -> Contact:
    require_writer(actor, what="contacts")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    require_change(session=session, actor=actor, owner_id=contact.owner_id, what="this contact")
    _check_version(session, contact, version, what=contact.full_name)
    raw = patch.model_dump(exclude_unset=True)
    if "country" not in raw and ("phone" in raw or "mobile" in raw):
        raw["country"] = contact.country
    changes = _clean(raw)
    given = changes.get("given_name", contact.given_name)
    family = changes.get("family_name", contact.family_name)
    if not given and not family:
        raise ValidationError("Name: a contact needs a given or family name.", field="family_name")
    for field in ("given_name", "family_name"):
        if field in changes:
            changes[field] = changes[field] or ""
    _refuse_cleared(Contact, changes)
    _refuse_identifiers(
        session, {f: v for f, v in changes.items() if v and v != getattr(contact, f, None)}
    )
    if "owner_id" in changes and changes["owner_id"] != contact.owner_id:
        _check_owner(session, actor, changes["owner_id"], "a contact for that owner")
    if changes.get("organisation_id") is not None:
        get_organisation(session=session, org_id=changes["organisation_id"], actor=actor)
    contact.sqlmodel_update(changes)
    contact.version += 1
    contact.updated_at = utcnow()
    contact.updated_by_id = actor.id
    session.add(contact)
    record(
        session,
        actor,
        "contact.update",
        "contact",
        entity_id=contact.id,
        details={"fields": sorted(changes)},
    )
    return contact


def set_tags(*, session: Session, contact_id: int, tags: list[str], actor: Actor) -> list[str]:
    """Replace a contact's tags."""
    require_writer(actor, what="contacts")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    require_change(session=session, actor=actor, owner_id=contact.owner_id, what="this contact")
    cleaned = _replace_tags(session, contact, tags, actor)
    session.commit()
    return cleaned


def _replace_tags(session: Session, contact: Contact, tags: list[str], actor: Actor) -> list[str]:
    """Replace a contact's tags in the caller's transaction (the caller checked the actor)."""
    cleaned = normalise_tags(tags)
    session.execute(delete(ContactTag).where(col(ContactTag.contact_id) == contact.id))
    for tag in cleaned:
        session.add(ContactTag(contact_id=contact.id or 0, tag=tag))
    record(
        session, actor, "contact.tags", "contact", entity_id=contact.id, details={"tags": cleaned}
    )
    return cleaned


def tags_of(*, session: Session, contact_id: int) -> list[str]:
    """A contact's tags, sorted."""
    return list(
        session.exec(
            select(ContactTag.tag)
            .where(ContactTag.contact_id == contact_id)
            .order_by(col(ContactTag.tag))
        ).all()
    )


@dataclass(frozen=True)
class ContactFilter:
    """What a contact list filters by; empty means no filter."""

    query: str = ""
    kind: ContactKind | None = None
    owner_id: int | None = None
    organisation_id: int | None = None
    tag: str | None = None


def find_contacts(
    *,
    session: Session,
    actor: Actor,
    flt: ContactFilter = ContactFilter(),
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Contact], int]:
    """A page of live contacts the actor may read, by family name, and the total."""
    _check_limit(limit)
    conditions: list[Any] = [
        col(Contact.merged_into_id).is_(None),
        col(Contact.erased_at).is_(None),
    ]
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        conditions.append(scope)
    exact = search_text(flt.query)
    text = exact.lower()
    if text:
        like = f"{text}%"
        conditions.append(
            or_(
                func.lower(Contact.family_name).like(like),
                func.lower(Contact.given_name).like(like),
                col(Contact.email).like(like),
                col(Contact.external_ref) == exact,
            )
        )
    if flt.kind:
        conditions.append(col(Contact.kind) == flt.kind)
    if flt.owner_id:
        conditions.append(col(Contact.owner_id) == flt.owner_id)
    if flt.organisation_id:
        conditions.append(col(Contact.organisation_id) == flt.organisation_id)
    tag = search_text(flt.tag, label="Tag")
    if tag:
        tagged = select(ContactTag.contact_id).where(ContactTag.tag == tag.lower())
        conditions.append(col(Contact.id).in_(tagged))
    total = session.exec(select(func.count()).select_from(Contact).where(*conditions)).one()
    order = (col(Contact.family_name), col(Contact.given_name), col(Contact.id))
    # Pick the page's ids from the index alone (the sort reads names and ids, not rows),
    # then read those rows.
    page_ids = (
        sa_select(col(Contact.id))
        .where(*conditions)
        .order_by(*order)
        .offset(max(offset, 0))
        .limit(limit)
        .subquery()
    )
    rows = session.exec(
        select(Contact).join(page_ids, page_ids.c.id == col(Contact.id)).order_by(*order)
    ).all()
    return list(rows), int(total)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")


def _check_version(
    session: Session, row: Contact | Organisation, expected: int, *, what: str
) -> None:
    if row.version == expected:
        return
    editor = session.get(User, row.updated_by_id) if row.updated_by_id else None
    who = editor.display_name if editor else "someone else"
    raise Conflict(
        f"{what} was changed by {who} at {row.updated_at:%d %b %H:%M} UTC since you opened "
        "it. Reload to see their change, then make yours again; nothing of theirs was lost."
    )


def contacts_after(
    *,
    session: Session,
    actor: Actor,
    email: str | None = None,
    phone: str | None = None,
    ref: str | None = None,
    after_id: int = 0,
    limit: int = 50,
) -> list[Contact]:
    """Live contacts the actor may read with ids above `after_id`, in id order: a page
    that a cursor can continue however many are added meanwhile. Filters match exactly,
    after the same normalisation a saved value gets: `email` either address, `phone`
    the phone or the mobile (E.164), `ref` the external reference."""
    _check_limit(limit)
    conditions: list[Any] = [
        col(Contact.merged_into_id).is_(None),
        col(Contact.erased_at).is_(None),
        col(Contact.id) > after_id,
    ]
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        conditions.append(scope)
    address = normalise_email(email) if email else None
    if address:
        conditions.append(or_(col(Contact.email) == address, col(Contact.email2) == address))
    number = normalise_phone(phone) if phone else None
    if number:
        conditions.append(or_(col(Contact.phone) == number, col(Contact.mobile) == number))
    reference = search_text(ref, label="Reference") if ref else ""
    if reference:
        conditions.append(col(Contact.external_ref) == reference)
    query = select(Contact).where(*conditions).order_by(col(Contact.id)).limit(limit)
    return list(session.exec(query).all())
