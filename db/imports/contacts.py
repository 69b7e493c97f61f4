"""Importing contacts, a chunk of rows at a time.

Every row of a chunk is validated in Python first. What the rows refer to (erased people,
suppressed identifiers, the contacts they update and those contacts' tags, organisations)
is then looked up in one query each, and the new contacts and tags are inserted in bulk at
the end. A rejected row writes nothing, so a chunk needs one savepoint rather than one per
row. A single row is handled as a chunk of one, so both paths give the same outcome.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, insert, or_
from sqlmodel import Session, col, select

from db.auth.visibility import can_change
from db.core.normalise import normalise_email, normalise_phone, normalise_tags
from db.core.types import utcnow
from db.imports.bulk import add_rows, new_ids, one_of, sqlite_last_id, uses_copy
from db.imports.kinds import (
    ADDED_TAGS,
    CHUNK_SUPPRESSION_CHECKS,
    SUPPRESSION_CHECKS,
    Kind,
    Outcome,
    RowContext,
    RowError,
    SuppressionCheck,
    Touched,
)
from db.imports.rows import (
    CONTACT_FIELDS,
    PEOPLE_ROLES,
    TEXT_FIELDS,
    country_code,
    defer_organisations,
    optional_cell,
    organisation_of,
    owner_of,
    parse_date,
    prefetch_organisations,
    surviving_contact,
    text_cell,
    write_organisations,
)
from db.models.people import Channel, Contact, ContactBase, ContactKind, ContactTag

Row = tuple[RowContext, dict[str, str]]
# New rows go in through the tables, not the ORM: values are validated already, and the
# ORM's per-row bookkeeping would cost more than the insert.
CONTACTS: Table = Contact.__table__  # type: ignore[attr-defined]
TAGS: Table = ContactTag.__table__  # type: ignore[attr-defined]
ERASED_CONTACT = "this person's data was erased on request; they are not re-created"


def contact_values(ctx: RowContext, raw: dict[str, str]) -> dict[str, Any]:
    """Validated contact fields from one row (bad optional values dropped with a warning)."""
    values: dict[str, Any] = {}
    for column in TEXT_FIELDS:
        if column in raw:
            values[column] = text_cell(ctx, column, raw[column])
    if not values.get("given_name") and not values.get("family_name"):
        raise RowError("family_name", "a contact needs a given name or a family name")
    country = optional_cell(ctx, "country", country_code, raw.get("country"))
    if "country" in raw:
        values["country"] = country
    for column in ("email", "email2"):
        if column in raw:
            values[column] = optional_cell(ctx, column, normalise_email, raw[column])
    for column in ("phone", "mobile"):
        if column in raw:
            values[column] = optional_cell(
                ctx, column, lambda v: normalise_phone(v, region=country), raw[column]
            )
    if "date_of_birth" in raw:
        born = optional_cell(ctx, "date_of_birth", parse_date, raw["date_of_birth"])
        if born and born > utcnow().date():
            ctx.warn("date_of_birth", f"{born} is in the future; the value was left out")
            born = None
        values["date_of_birth"] = born
    if raw.get("kind"):
        values["kind"] = optional_cell(
            ctx, "kind", lambda v: ContactKind(v.strip().lower()), raw["kind"]
        )
    if raw.get("preferred_channel"):
        values["preferred_channel"] = optional_cell(
            ctx, "preferred_channel", lambda v: Channel(v.strip().lower()), raw["preferred_channel"]
        )
    return {k: v for k, v in values.items() if v is not None or k in raw}


def _key(update_by: str, values: dict[str, Any]) -> str | None:
    """The value a row is matched on to update an existing contact (None: always create)."""
    if update_by in ("email", "external_ref"):
        found: str | None = values.get(update_by) or None
        return found
    return None


@dataclass
class _Chunk:
    """What a chunk's rows looked up, and the new contacts and tags not yet written."""

    session: Session
    update_by: str
    cache: dict[str, Any] = field(default_factory=dict)
    erased: set[tuple[str, str]] = field(default_factory=set)
    # Reasons from checks that answered for the whole chunk, by file row number.
    refusals: dict[SuppressionCheck, dict[int, str | None]] = field(default_factory=dict)
    matches: dict[str, int] = field(default_factory=dict)
    # The matched contacts themselves: the session holds loaded objects only weakly, and
    # one dropped would be selected again (after a flush) for every row that updates it.
    loaded: dict[int, Contact] = field(default_factory=dict)
    tags: dict[int, set[str]] = field(default_factory=dict)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    new_tags: list[list[str]] = field(default_factory=list)
    new_outcomes: list[list[Touched]] = field(default_factory=list)
    new_keys: dict[str, int] = field(default_factory=dict)
    tag_rows: list[dict[str, Any]] = field(default_factory=list)

    def existing(self, key: str | None) -> Contact | None:
        """The contact a row with this key updates, if any."""
        if key is None:
            return None
        if key in self.new_keys:
            # The row updates a contact an earlier row of this chunk creates: write it first.
            self.write()
        contact_id = self.matches.get(key)
        if contact_id is None:
            return None
        if contact_id not in self.loaded:
            contact = self.session.get(Contact, contact_id)
            if contact is None:
                return None
            self.loaded[contact_id] = contact
        return self.loaded[contact_id]

    def create(
        self, ctx: RowContext, values: dict[str, Any], tags: list[str], touched: list[Touched]
    ) -> Outcome:
        """Queue a new contact; its id is filled into the outcome when it is written."""
        base = ContactBase.model_validate({k: v for k, v in values.items() if v is not None})
        now = utcnow()
        row = {**base.model_dump(), "owner_id": values["owner_id"], "version": 1}
        self.new_rows.append({**row, "created_at": now, "updated_at": now})
        self.new_tags.append(tags)
        outcome = [*touched, Touched("contact", 0, "created")]
        self.new_outcomes.append(outcome)
        key = _key(ctx.update_by, values)
        if key is not None:
            self.new_keys[key] = len(self.new_rows) - 1
        return outcome

    def update(
        self, ctx: RowContext, existing: Contact, values: dict[str, Any], tags: list[str]
    ) -> list[Touched]:
        """Change an existing contact in place; nothing when the row changes nothing."""
        changes = {k: v for k, v in values.items() if v is not None and getattr(existing, k) != v}
        have = self._tags_of(existing.id or 0)
        tags = [t for t in tags if t not in have]
        if not changes and not tags:
            return []
        before = {k: _plain(getattr(existing, k)) for k in changes}
        if tags:
            before[ADDED_TAGS] = tags
        existing.sqlmodel_update(changes)
        existing.version += 1
        existing.updated_at = utcnow()
        existing.updated_by_id = ctx.actor.id
        ctx.session.add(existing)
        have.update(tags)
        self.tag_rows.extend({"contact_id": existing.id, "tag": t} for t in tags)
        return [Touched("contact", existing.id or 0, "updated", before, existing.version)]

    def write(self) -> None:
        """Insert the queued organisations, contacts and tags, in one statement each."""
        write_organisations(self.session, self.cache)
        if self.new_rows:
            ids = _insert_contacts(self.session, self.new_rows)
            for contact_id, tags, outcome in zip(
                ids, self.new_tags, self.new_outcomes, strict=True
            ):
                outcome[-1] = Touched("contact", contact_id, "created")
                self.tags[contact_id] = set(tags)
                self.tag_rows.extend({"contact_id": contact_id, "tag": t} for t in tags)
            self.matches.update({key: ids[index] for key, index in self.new_keys.items()})
            self.new_rows, self.new_tags, self.new_outcomes, self.new_keys = [], [], [], {}
        if self.tag_rows:
            add_rows(self.session, TAGS, self.tag_rows)
            self.tag_rows = []

    def _tags_of(self, contact_id: int) -> set[str]:
        if contact_id not in self.tags:
            self.tags.update(_tags(self.session, {contact_id}))
        return self.tags.setdefault(contact_id, set())


def _insert_contacts(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert contacts in one statement; their new ids, in the order of the rows."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite does not promise the order of a multi-row RETURNING, so SQLAlchemy would
        # send one INSERT a row. An import has written its batch already, so it holds the
        # database's only write lock: the ids after the highest ever given are free here.
        highest = sqlite_last_id(session, "contact")
        ids = list(range(highest + 1, highest + 1 + len(rows)))
        session.execute(insert(CONTACTS), [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
        return ids
    if uses_copy(session):
        # COPY returns no ids: take them from the table's sequence first, then send them.
        given = new_ids(session, CONTACTS, len(rows))
        add_rows(session, CONTACTS, [{**r, "id": i} for r, i in zip(rows, given, strict=True)])
        return given
    returning = insert(CONTACTS).returning(CONTACTS.c.id, sort_by_parameter_order=True)
    return list(session.execute(returning, rows).scalars())


def _erased(session: Session, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """The emails and external references of these rows that belong to erased contacts."""
    emails = {v["email"] for v in rows if v.get("email")}
    refs = {v["external_ref"] for v in rows if v.get("external_ref")}
    if not emails and not refs:
        return set()
    found = session.exec(
        select(Contact.email, Contact.external_ref).where(
            col(Contact.erased_at).is_not(None),
            or_(
                one_of(session, Contact.email, emails),
                one_of(session, Contact.external_ref, refs),
            ),
        )
    )
    erased: set[tuple[str, str]] = set()
    for email, ref in found:
        if email is not None and email in emails:
            erased.add(("email", email))
        if ref is not None and ref in refs:
            erased.add(("external_ref", ref))
    return erased


def _matching(session: Session, update_by: str, keys: set[str]) -> dict[str, Contact]:
    """Each key's contact, merged-away records resolved to their survivor."""
    if not keys:
        return {}
    column = col(Contact.email) if update_by == "email" else col(Contact.external_ref)
    query = select(Contact).where(one_of(session, column, keys))
    if update_by == "email":
        query = query.order_by(col(Contact.merged_into_id).is_not(None))
    first: dict[str, Contact] = {}
    for contact in session.exec(query.order_by(col(Contact.id))):
        first.setdefault(getattr(contact, update_by), contact)
    matches: dict[str, Contact] = {}
    for key, contact in first.items():
        survivor = surviving_contact(session, contact)
        if survivor is not None:
            matches[key] = survivor
    return matches


def _tags(session: Session, contact_ids: set[int]) -> dict[int, set[str]]:
    """The tags these contacts have."""
    tags: dict[int, set[str]] = {i: set() for i in contact_ids}
    if contact_ids:
        found = session.exec(
            select(ContactTag.contact_id, ContactTag.tag).where(
                one_of(session, ContactTag.contact_id, contact_ids)
            )
        )
        for contact_id, tag in found:
            tags[contact_id].add(tag)
    return tags


def _look_up(ctx: RowContext, rows: list[tuple[RowContext, dict[str, Any]]]) -> _Chunk:
    """One query each for what the valid rows of a chunk refer to."""
    session = ctx.session
    values = [v for _, v in rows]
    chunk = _Chunk(session, ctx.update_by, ctx.cache, erased=_erased(session, values))
    for check in SUPPRESSION_CHECKS:
        many = CHUNK_SUPPRESSION_CHECKS.get(check)
        if many is not None and values:
            answers = many(session, values)
            chunk.refusals[check] = {c.row: a for (c, _), a in zip(rows, answers, strict=True)}
    keys = {key for v in values if (key := _key(ctx.update_by, v)) is not None}
    found = _matching(session, ctx.update_by, keys)
    chunk.matches = {key: contact.id or 0 for key, contact in found.items()}
    chunk.loaded = {contact.id or 0: contact for contact in found.values()}
    chunk.tags = _tags(session, set(chunk.loaded))
    return chunk


def _suppressed(ctx: RowContext, values: dict[str, Any], chunk: _Chunk) -> str | None:
    if ("email", values.get("email")) in chunk.erased or (
        "external_ref",
        values.get("external_ref"),
    ) in chunk.erased:
        return ERASED_CONTACT
    for check in SUPPRESSION_CHECKS:
        answers = chunk.refusals.get(check)
        reason = answers[ctx.row] if answers is not None else check(ctx.session, values)
        if reason:
            return reason
    return None


def _apply(ctx: RowContext, raw: dict[str, str], values: dict[str, Any], chunk: _Chunk) -> Outcome:
    """Create or update the contact of one valid row; every refusal comes before any write."""
    reason = _suppressed(ctx, values, chunk)
    if reason:
        raise RowError("email" if values.get("email") else "external_ref", reason)
    existing = chunk.existing(_key(ctx.update_by, values))
    owner_id = owner_of(ctx, raw.get("owner")) if "owner" in raw or existing is None else None
    tags = normalise_tags(re.split(r"[;,]", raw.get("tags") or ""))
    if existing is not None:
        if not can_change(session=ctx.session, actor=ctx.actor, owner_id=existing.owner_id):
            raise RowError("owner", "the existing contact belongs to someone you can't change")
    elif not can_change(session=ctx.session, actor=ctx.actor, owner_id=owner_id):
        raise RowError("owner", "you can't create contacts for that owner")
    org_id = organisation_of(ctx, raw.get("organisation"), owner_id or ctx.actor.id)
    if org_id is not None:
        values["organisation_id"] = org_id
    touched = [Touched("organisation", i, "created") for i in ctx.cache.pop("created_orgs", [])]
    if existing is not None:
        if owner_id is not None:
            values["owner_id"] = owner_id
        return [*touched, *chunk.update(ctx, existing, values, tags)]
    values["owner_id"] = owner_id
    for name in ("given_name", "family_name"):
        values[name] = values.get(name) or ""
    return chunk.create(ctx, values, tags, touched)


def _prepared(ctx: RowContext, raw: dict[str, str]) -> dict[str, Any] | RowError:
    try:
        return contact_values(ctx, raw)
    except RowError as err:
        return err


def handle_contacts(rows: Sequence[Row]) -> list[Outcome]:
    """Create or update the contacts of a chunk of rows; each row's outcome, in order."""
    if not rows:
        return []
    prepared = [_prepared(ctx, raw) for ctx, raw in rows]
    valid = [(ctx, v) for (ctx, _), v in zip(rows, prepared, strict=True) if isinstance(v, dict)]
    first = rows[0][0]
    chunk = _look_up(first, valid)
    defer_organisations(first)
    prefetch_organisations(first, (raw.get("organisation") for _, raw in rows))
    outcomes: list[Outcome] = []
    # New organisations are written with the contacts, at the end: a flush before then
    # would send updated contacts that name an organisation not yet written. Nothing the
    # rows read needs another row's unflushed change (contacts are held by the chunk).
    with first.session.no_autoflush:
        for (ctx, raw), values in zip(rows, prepared, strict=True):
            if isinstance(values, RowError):
                outcomes.append(values)
                continue
            try:
                outcomes.append(_apply(ctx, raw, values, chunk))
            except RowError as err:
                outcomes.append(err)
        chunk.write()
    return outcomes


def handle_contact(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Create or update one contact from a row."""
    outcome = handle_contacts([(ctx, raw)])[0]
    if isinstance(outcome, RowError):
        raise outcome
    return outcome


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


CONTACTS_KIND = Kind(
    "contacts", CONTACT_FIELDS, PEOPLE_ROLES, handle_contact, "people", handle_contacts
)
