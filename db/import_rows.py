"""Row handlers for importing organisations, contacts and interactions."""

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.errors import ValidationError
from db.import_kinds import SUPPRESSION_CHECKS, Kind, RowContext, RowError, Touched, register
from db.models.auth import Role, User
from db.models.people import (
    Channel,
    Contact,
    ContactKind,
    ContactTag,
    Organisation,
)
from db.normalise import (
    clean_text,
    normalise_country,
    normalise_domain,
    normalise_email,
    normalise_phone,
    normalise_tags,
)
from db.types import utcnow
from db.visibility import can_change

PEOPLE_ROLES = frozenset({Role.admin, Role.manager})
COUNTRY_NAMES = {
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "ireland": "IE",
    "france": "FR",
    "germany": "DE",
    "spain": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "belgium": "BE",
    "portugal": "PT",
    "united states": "US",
    "usa": "US",
    "canada": "CA",
    "australia": "AU",
    "poland": "PL",
    "sweden": "SE",
    "denmark": "DK",
    "norway": "NO",
}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d")
_SALESFORCE_ID = re.compile(r"^(?=.*\d)[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
TEXT_FIELDS = {
    "given_name": 100,
    "family_name": 100,
    "job_title": 120,
    "street": 200,
    "street2": 200,
    "locality": 100,
    "postcode": 20,
    "region": 100,
    "identifier": 64,
    "external_ref": 100,
    "notes": 5000,
}
CONTACT_FIELDS = frozenset(
    {
        *TEXT_FIELDS,
        "kind",
        "email",
        "email2",
        "phone",
        "mobile",
        "country",
        "date_of_birth",
        "preferred_channel",
        "organisation",
        "owner",
        "tags",
    }
)
ORG_FIELDS = frozenset(
    {
        "name",
        "domain",
        "industry",
        "size",
        "street",
        "locality",
        "postcode",
        "region",
        "country",
        "owner",
        "external_ref",
    }
)


def parse_date(text: str) -> date:
    """A date from the common written forms (ISO, day/month/year, a timestamp)."""
    value = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError as err:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD)") from err


def country_code(text: str | None) -> str | None:
    """An ISO-2 code from a code or a common country name."""
    if not text or not text.strip():
        return None
    named = COUNTRY_NAMES.get(text.strip().lower())
    return named or normalise_country(text)


def _owner(ctx: RowContext, value: str | None) -> int | None:
    if not value:
        return ctx.actor.id
    key = f"owner:{value.lower()}"
    if key not in ctx.cache:
        user = ctx.session.exec(
            select(User).where(
                (func.lower(User.email) == value.lower())
                | (func.lower(User.username) == value.lower())
            )
        ).first()
        ctx.cache[key] = user.id if user else None
    found: int | None = ctx.cache[key]
    if found is None:
        ctx.warn("owner", f"no user with email or username {value!r}; you are the owner")
        return ctx.actor.id
    return found


def _organisation(ctx: RowContext, value: str | None, owner_id: int | None) -> int | None:
    if not value:
        return None
    key = f"org:{value.lower()}"
    if key in ctx.cache:
        cached: int | None = ctx.cache[key]
        return cached
    try:
        domain = normalise_domain(value) if "." in value and " " not in value else None
    except ValidationError:
        domain = None
    condition = func.lower(Organisation.name) == value.strip().lower()
    if domain:
        condition = condition | (col(Organisation.domain) == domain)
    org = ctx.session.exec(
        select(Organisation)
        .where(condition)
        .order_by(col(Organisation.merged_into_id).is_not(None), col(Organisation.id))
    ).first()
    org = _survivor(ctx, org)
    if org is None and _SALESFORCE_ID.match(value.strip()):
        ctx.warn("organisation", f"no organisation for account id {value!r}; left unlinked")
        return None
    if org is None:
        org = Organisation(name=value.strip()[:200], domain=domain, owner_id=owner_id)
        ctx.session.add(org)
        ctx.session.flush()
        ctx.cache.setdefault("created_orgs", []).append(org.id)
    ctx.cache[key] = org.id
    return org.id


def _survivor(ctx: RowContext, org: Organisation | None) -> Organisation | None:
    """A merged-away organisation resolves to the one it was merged into."""
    seen: set[int | None] = set()
    while org is not None and org.merged_into_id and org.id not in seen:
        seen.add(org.id)
        org = ctx.session.get(Organisation, org.merged_into_id)
    return org


def _optional(ctx: RowContext, column: str, parse: Any, value: str | None) -> Any:
    if value is None or not value.strip():
        return None
    try:
        return parse(value)
    except (ValueError, ValidationError) as err:
        ctx.warn(column, f"{err}; the value was left out")
        return None


def _text(ctx: RowContext, column: str, value: str | None, *, required: bool = False) -> Any:
    limit = TEXT_FIELDS.get(column, 200)
    try:
        return clean_text(value, field=column, label=column, max_length=limit)
    except ValidationError as err:
        if required:
            raise RowError(column, str(err)) from err
        ctx.warn(column, f"longer than {limit} characters; the value was left out")
        return None


def contact_values(ctx: RowContext, raw: dict[str, str]) -> dict[str, Any]:
    """Validated contact fields from one row (bad optional values dropped with a warning)."""
    values: dict[str, Any] = {}
    for column in TEXT_FIELDS:
        if column in raw:
            values[column] = _text(ctx, column, raw[column])
    if not values.get("given_name") and not values.get("family_name"):
        raise RowError("family_name", "a contact needs a given name or a family name")
    country = _optional(ctx, "country", country_code, raw.get("country"))
    if "country" in raw:
        values["country"] = country
    for column in ("email", "email2"):
        if column in raw:
            values[column] = _optional(ctx, column, normalise_email, raw[column])
    for column in ("phone", "mobile"):
        if column in raw:
            values[column] = _optional(
                ctx, column, lambda v: normalise_phone(v, region=country), raw[column]
            )
    if "date_of_birth" in raw:
        born = _optional(ctx, "date_of_birth", parse_date, raw["date_of_birth"])
        if born and born > utcnow().date():
            ctx.warn("date_of_birth", f"{born} is in the future; the value was left out")
            born = None
        values["date_of_birth"] = born
    if raw.get("kind"):
        values["kind"] = _optional(
            ctx, "kind", lambda v: ContactKind(v.strip().lower()), raw["kind"]
        )
    if raw.get("preferred_channel"):
        values["preferred_channel"] = _optional(
            ctx, "preferred_channel", lambda v: Channel(v.strip().lower()), raw["preferred_channel"]
        )
    return {k: v for k, v in values.items() if v is not None or k in raw}


def existing_contact(ctx: RowContext, values: dict[str, Any]) -> Contact | None:
    """The contact a row updates (by email or external reference), resolving merges."""
    session = ctx.session
    contact: Contact | None = None
    if ctx.update_by == "external_ref" and values.get("external_ref"):
        contact = session.exec(
            select(Contact).where(Contact.external_ref == values["external_ref"])
        ).first()
    elif ctx.update_by == "email" and values.get("email"):
        contact = session.exec(
            select(Contact)
            .where(Contact.email == values["email"])
            .order_by(col(Contact.merged_into_id).is_not(None), col(Contact.id))
        ).first()
    seen: set[int | None] = set()
    # A merged-away record resolves to its survivor, so old references still update it.
    while contact is not None and contact.merged_into_id and contact.id not in seen:
        seen.add(contact.id)
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def _suppressed(ctx: RowContext, values: dict[str, Any]) -> str | None:
    conditions = []
    if values.get("email"):
        conditions.append(col(Contact.email) == values["email"])
    if values.get("external_ref"):
        conditions.append(col(Contact.external_ref) == values["external_ref"])
    if conditions:
        erased = ctx.session.exec(
            select(Contact.id).where(col(Contact.erased_at).is_not(None), or_(*conditions))
        ).first()
        if erased is not None:
            return "this person's data was erased on request; they are not re-created"
    for check in SUPPRESSION_CHECKS:
        reason = check(ctx.session, values)
        if reason:
            return reason
    return None


def handle_contact(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Create or update one contact from a row."""
    values = contact_values(ctx, raw)
    reason = _suppressed(ctx, values)
    if reason:
        raise RowError("email" if values.get("email") else "external_ref", reason)
    existing = existing_contact(ctx, values)
    owner_id = _owner(ctx, raw.get("owner")) if "owner" in raw or existing is None else None
    org_id = _organisation(ctx, raw.get("organisation"), owner_id or ctx.actor.id)
    if org_id is not None:
        values["organisation_id"] = org_id
    tags = normalise_tags(re.split(r"[;,]", raw.get("tags") or ""))
    touched = [Touched("organisation", i, "created") for i in ctx.cache.pop("created_orgs", [])]
    if existing is not None:
        if not can_change(session=ctx.session, actor=ctx.actor, owner_id=existing.owner_id):
            raise RowError("owner", "the existing contact belongs to someone you can't change")
        if owner_id is not None:
            values["owner_id"] = owner_id
        changes = {k: v for k, v in values.items() if v is not None and getattr(existing, k) != v}
        have = set(
            ctx.session.exec(select(ContactTag.tag).where(ContactTag.contact_id == existing.id))
        )
        tags = [t for t in tags if t not in have]
        if not changes and not tags:
            return touched
        before = {k: _plain(getattr(existing, k)) for k in changes}
        existing.sqlmodel_update(changes)
        existing.version += 1
        existing.updated_at = utcnow()
        existing.updated_by_id = ctx.actor.id
        ctx.session.add(existing)
        _add_tags(ctx.session, existing.id or 0, tags)
        return [
            *touched,
            Touched("contact", existing.id or 0, "updated", before, existing.version),
        ]
    values["owner_id"] = owner_id
    for name in ("given_name", "family_name"):
        values[name] = values.get(name) or ""
    if not can_change(session=ctx.session, actor=ctx.actor, owner_id=owner_id):
        raise RowError("owner", "you can't create contacts for that owner")
    contact = Contact.model_validate({k: v for k, v in values.items() if v is not None})
    ctx.session.add(contact)
    ctx.session.flush()
    _add_tags(ctx.session, contact.id or 0, tags)
    return [*touched, Touched("contact", contact.id or 0, "created")]


def _add_tags(session: Session, contact_id: int, tags: list[str]) -> None:
    have = set(session.exec(select(ContactTag.tag).where(ContactTag.contact_id == contact_id)))
    for tag in tags:
        if tag not in have:
            session.add(ContactTag(contact_id=contact_id, tag=tag))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def handle_organisation(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Create or update one organisation (matched by domain, then name) from a row."""
    name = _text(ctx, "name", raw.get("name"), required=True)
    if not name:
        raise RowError("name", "an organisation needs a name")
    values: dict[str, Any] = {"name": name}
    for column in ("industry", "size", "street", "locality", "postcode", "region"):
        if column in raw:
            values[column] = _text(ctx, column, raw[column])
    if "domain" in raw:
        values["domain"] = _optional(ctx, "domain", normalise_domain, raw["domain"])
    if "country" in raw:
        values["country"] = _optional(ctx, "country", country_code, raw["country"])
    existing = None
    if ctx.update_by != "none":
        condition = func.lower(Organisation.name) == name.lower()
        if values.get("domain"):
            condition = condition | (col(Organisation.domain) == values["domain"])
        existing = _survivor(
            ctx,
            ctx.session.exec(
                select(Organisation)
                .where(condition)
                .order_by(col(Organisation.merged_into_id).is_not(None), col(Organisation.id))
            ).first(),
        )
    owner_id = _owner(ctx, raw.get("owner")) if "owner" in raw or existing is None else None
    if existing is not None:
        if not can_change(session=ctx.session, actor=ctx.actor, owner_id=existing.owner_id):
            raise RowError("owner", "the existing organisation belongs to someone else")
        if owner_id is not None:
            values["owner_id"] = owner_id
        changes = {k: v for k, v in values.items() if v is not None and getattr(existing, k) != v}
        if not changes:
            return []
        before = {k: getattr(existing, k) for k in changes}
        existing.sqlmodel_update(changes)
        existing.version += 1
        existing.updated_at = utcnow()
        existing.updated_by_id = ctx.actor.id
        ctx.session.add(existing)
        return [Touched("organisation", existing.id or 0, "updated", before, existing.version)]
    values["owner_id"] = owner_id
    org = Organisation.model_validate({k: v for k, v in values.items() if v is not None})
    ctx.session.add(org)
    ctx.session.flush()
    return [Touched("organisation", org.id or 0, "created")]


register(Kind("contacts", CONTACT_FIELDS, PEOPLE_ROLES, handle_contact, "people"))
register(Kind("organizations", ORG_FIELDS, PEOPLE_ROLES, handle_organisation, "organisations"))
