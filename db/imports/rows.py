"""Row handlers and look-ups shared by imports: organisations, owners, existing contacts."""

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, insert, or_
from sqlmodel import Session, col, select

from db.auth.visibility import can_change
from db.core.errors import ValidationError
from db.core.normalise import (
    clean_text,
    normalise_country,
    normalise_domain,
)
from db.core.types import utcnow
from db.imports.bulk import add_rows, new_ids, one_of, sqlite_last_id
from db.imports.kinds import Kind, RowContext, RowError, Touched
from db.models.auth import Role, User
from db.models.people import (
    Contact,
    Organisation,
)

PEOPLE_ROLES = frozenset({Role.admin, Role.manager})
ORGANISATIONS: Table = Organisation.__table__  # type: ignore[attr-defined]
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


def owner_of(ctx: RowContext, value: str | None) -> int | None:
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


def organisation_of(ctx: RowContext, value: str | None, owner_id: int | None) -> int | None:
    if not value:
        return None
    key = f"org:{value.lower()}"
    if key in ctx.cache:
        cached: int | None = ctx.cache[key]
        return cached
    domain = _domain_in(value)
    org = None
    if not _known_missing(ctx, value, domain):
        write_organisations(ctx.session, ctx.cache)  # the query must see those queued
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
    org_id = org.id if org is not None else _new_organisation(ctx, value, domain, owner_id)
    ctx.cache[key] = org_id
    return org_id


def _new_organisation(ctx: RowContext, value: str, domain: str | None, owner_id: int | None) -> int:
    """Create the organisation a row names (or queue it, for a kind that defers); its id."""
    name, now = value.strip()[:200], utcnow()
    row = {"name": name, "domain": domain, "owner_id": owner_id, "created_at": now}
    pending: list[dict[str, Any]] | None = ctx.cache.get(_PENDING)
    if pending is not None:
        org_id = _reserved_id(ctx)
        pending.append({**row, "id": org_id, "updated_at": now})
    else:
        # Through the table: an ORM flush for each new organisation would also look over
        # every contact the import has changed so far.
        org_id = ctx.session.execute(
            insert(ORGANISATIONS).values(**row, updated_at=now).returning(ORGANISATIONS.c.id)
        ).scalar_one()
    ctx.cache.setdefault("created_orgs", []).append(org_id)
    made: set[str] = ctx.cache.setdefault("made_orgs", set())
    made.update({name.lower(), domain} if domain else {name.lower()})
    return org_id


# Cache keys: the organisations queued and not yet written, the ids kept for them (the
# highest given, on SQLite), and how many names a chunk's look-up did not find.
_PENDING, _RESERVED = "pending_orgs", "reserved_org_ids"
_LAST, _WANTED = "last_org_id", "orgs_wanted"


def defer_organisations(ctx: RowContext) -> None:
    """Queue the organisations rows create, to be written together by `write_organisations`
    (on the databases whose ids can be given in advance), not one INSERT each."""
    if ctx.session.get_bind().dialect.name in ("sqlite", "postgresql"):
        ctx.cache.setdefault(_PENDING, [])
        ctx.cache.pop(_LAST, None)  # read again once a chunk: nothing else writes meanwhile


def write_organisations(session: Session, cache: dict[str, Any]) -> None:
    """Insert the queued organisations in one statement."""
    pending: list[dict[str, Any]] = cache.get(_PENDING) or []
    if pending:
        add_rows(session, ORGANISATIONS, pending)
        pending.clear()


def _reserved_id(ctx: RowContext) -> int:
    """An id for a queued organisation: on SQLite the next after the highest ever given
    (an import holds the only write lock); on PostgreSQL one its sequence gave, taken for
    all of a chunk's unknown names at once."""
    if ctx.session.get_bind().dialect.name == "sqlite":
        if _LAST not in ctx.cache:
            ctx.cache[_LAST] = sqlite_last_id(ctx.session, "organisation")
        ctx.cache[_LAST] += 1
        given: int = ctx.cache[_LAST]
        return given
    reserved: list[int] = ctx.cache.setdefault(_RESERVED, [])
    if not reserved:
        reserved.extend(new_ids(ctx.session, ORGANISATIONS, max(ctx.cache.pop(_WANTED, 0), 1)))
    return reserved.pop(0)


def _known_missing(ctx: RowContext, value: str, domain: str | None) -> bool:
    """True when a look-up found no organisation for this value, and none made since can match."""
    made = ctx.cache.get("made_orgs", set())
    return bool(
        ctx.cache.get(f"no-org:{value.lower()}")
        and value.strip().lower() not in made
        and (domain is None or domain not in made)
    )


def prefetch_organisations(ctx: RowContext, values: Iterable[str | None]) -> None:
    """Look up, in one query, the organisations that rows name and that are not cached yet.

    Each name resolves as `organisation_of` would resolve it alone (same match, same order);
    a name with no organisation is noted, so `organisation_of` creates it without asking again.
    """
    wanted = {v.lower(): v for v in values if v and f"org:{v.lower()}" not in ctx.cache}
    if not wanted:
        return
    write_organisations(ctx.session, ctx.cache)
    domains = {lower: _domain_in(value) for lower, value in wanted.items()}
    folded = func.lower(Organisation.name)
    names = {value.strip().lower() for value in wanted.values()}
    condition = or_(
        one_of(ctx.session, folded, names),
        one_of(ctx.session, Organisation.domain, {*domains.values()} - {None}),
    )
    found = ctx.session.exec(
        select(Organisation, folded)
        .where(condition)
        .order_by(col(Organisation.merged_into_id).is_not(None), col(Organisation.id))
    ).all()
    for lower, value in wanted.items():
        # The database folded the stored names, so they compare as the one-name query does.
        org = next(
            (
                o
                for o, name in found
                if name == value.strip().lower() or (domains[lower] and o.domain == domains[lower])
            ),
            None,
        )
        org = _survivor(ctx, org)
        if org is None:
            ctx.cache[f"no-org:{lower}"] = True
            ctx.cache[_WANTED] = ctx.cache.get(_WANTED, 0) + 1
        else:
            ctx.cache[f"org:{lower}"] = org.id


def _domain_in(value: str) -> str | None:
    """The domain an organisation value names, when it looks like one."""
    if "." not in value or " " in value:
        return None
    try:
        return normalise_domain(value)
    except ValidationError:
        return None


def _survivor(ctx: RowContext, org: Organisation | None) -> Organisation | None:
    """A merged-away organisation resolves to the one it was merged into."""
    seen: set[int | None] = set()
    while org is not None and org.merged_into_id and org.id not in seen:
        seen.add(org.id)
        org = ctx.session.get(Organisation, org.merged_into_id)
    return org


def optional_cell(ctx: RowContext, column: str, parse: Any, value: str | None) -> Any:
    if value is None or not value.strip():
        return None
    try:
        return parse(value)
    except (ValueError, ValidationError) as err:
        ctx.warn(column, f"{err}; the value was left out")
        return None


def text_cell(ctx: RowContext, column: str, value: str | None, *, required: bool = False) -> Any:
    limit = TEXT_FIELDS.get(column, 200)
    try:
        return clean_text(value, field=column, label=column, max_length=limit)
    except ValidationError as err:
        if required:
            raise RowError(column, str(err)) from err
        ctx.warn(column, f"longer than {limit} characters; the value was left out")
        return None


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
    return surviving_contact(session, contact)


def surviving_contact(session: Session, contact: Contact | None) -> Contact | None:
    """A merged-away record resolves to its survivor, so old references still update it."""
    seen: set[int | None] = set()
    while contact is not None and contact.merged_into_id and contact.id not in seen:
        seen.add(contact.id)
        contact = session.get(Contact, contact.merged_into_id)
    return contact


def handle_organisation(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Create or update one organisation (matched by domain, then name) from a row."""
    name = text_cell(ctx, "name", raw.get("name"), required=True)
    if not name:
        raise RowError("name", "an organisation needs a name")
    values: dict[str, Any] = {"name": name}
    for column in ("industry", "size", "street", "locality", "postcode", "region"):
        if column in raw:
            values[column] = text_cell(ctx, column, raw[column])
    if "domain" in raw:
        values["domain"] = optional_cell(ctx, "domain", normalise_domain, raw["domain"])
    if "country" in raw:
        values["country"] = optional_cell(ctx, "country", country_code, raw["country"])
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
    owner_id = owner_of(ctx, raw.get("owner")) if "owner" in raw or existing is None else None
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


ORGANIZATIONS_KIND = Kind(
    "organizations", ORG_FIELDS, PEOPLE_ROLES, handle_organisation, "organisations"
)
