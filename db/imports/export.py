"""Exporting organisations, contacts and deals as CSV or XLSX, in the columns import reads back.

Every cell goes through db/core/spreadsheets.py (`rows_csv`, `rows_xlsx`), so text a
spreadsheet would run as a formula is neutralised and numbers stay numbers.
"""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.auth.visibility import owner_filter
from db.core.errors import ValidationError
from db.core.spreadsheets import rows_csv, rows_xlsx
from db.models.auth import Role, User
from db.models.people import Contact, ContactTag, Organisation
from db.models.pipeline import Deal, Pipeline, Stage

CONTACT_COLUMNS = (
    "external_ref",
    "kind",
    "given_name",
    "family_name",
    "organisation",
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
    "country",
    "date_of_birth",
    "identifier",
    "preferred_channel",
    "notes",
    "owner",
    "tags",
)
ORG_COLUMNS = (
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
)
DEAL_COLUMNS = (
    "external_ref",
    "title",
    "pipeline",
    "stage",
    "status",
    "amount",
    "currency",
    "probability",
    "expected_close",
    "organisation",
    "contact_email",
    "owner",
    "source",
    "notes",
)
EXPORT_KINDS = ("contacts", "organizations", "deals")


def _text(value: Any) -> Any:
    """A column's value for the export: numbers stay numbers, everything else is text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | Decimal | date):
        return value
    return str(value)


def export_rows(*, session: Session, actor: Actor, kind: str) -> Iterator[list[Any]]:
    """The header, then one row per live record the actor may read (streamed)."""
    require_role(actor, Role.admin, Role.manager, doing=f"export {kind}")
    owners: dict[int | None, str] = {
        row[0]: row[1] for row in session.execute(select(col(User.id), col(User.username)))
    }
    if kind == "organizations":
        yield list(ORG_COLUMNS)
        org_query = (
            select(Organisation)
            .where(col(Organisation.merged_into_id).is_(None))
            .order_by(col(Organisation.id))
        )
        org_scope = owner_filter(actor, Organisation.owner_id)
        if org_scope is not None:
            org_query = org_query.where(org_scope)
        for org in session.execute(org_query.execution_options(yield_per=1000)).scalars():
            values = org.model_dump()
            values["owner"] = owners.get(org.owner_id, "")
            yield [_text(values.get(c)) for c in ORG_COLUMNS]
        return
    if kind not in EXPORT_KINDS:
        raise ValidationError(f"Kind: export {', '.join(EXPORT_KINDS)}.", field="kind")
    # The domain identifies an organisation better than its name (names repeat).
    orgs: dict[int | None, str] = {
        row[0]: row[2] or row[1]
        for row in session.execute(
            select(col(Organisation.id), col(Organisation.name), col(Organisation.domain))
        )
    }
    if kind == "deals":
        yield from _deal_rows(session, actor, owners, orgs)
        return
    yield list(CONTACT_COLUMNS)
    query = (
        select(Contact)
        .where(col(Contact.merged_into_id).is_(None), col(Contact.erased_at).is_(None))
        .order_by(col(Contact.id))
    )
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        query = query.where(scope)
    for chunk in session.execute(query.execution_options(yield_per=1000)).scalars().partitions():
        ids = [c.id for c in chunk]
        tags: dict[int, list[str]] = {}
        for contact_id, tag in session.execute(
            select(col(ContactTag.contact_id), col(ContactTag.tag))
            .where(col(ContactTag.contact_id).in_(ids))
            .order_by(col(ContactTag.tag))
        ).tuples():
            tags.setdefault(contact_id, []).append(tag)
        for contact in chunk:
            values = contact.model_dump()
            values["organisation"] = orgs.get(contact.organisation_id, "")
            values["owner"] = owners.get(contact.owner_id, "")
            values["tags"] = ";".join(tags.get(contact.id or 0, []))
            yield [_text(values.get(c)) for c in CONTACT_COLUMNS]


def _deal_rows(
    session: Session, actor: Actor, owners: dict[int | None, str], orgs: dict[int | None, str]
) -> Iterator[list[Any]]:
    """Deals in the columns the deals import reads back (stages and pipelines by name)."""
    pipelines = {
        row[0]: row[1] for row in session.execute(select(col(Pipeline.id), col(Pipeline.name)))
    }
    stages = {row[0]: row[1] for row in session.execute(select(col(Stage.id), col(Stage.name)))}
    yield list(DEAL_COLUMNS)
    query = (
        select(Deal, col(Contact.email))
        .join(Contact, col(Contact.id) == col(Deal.contact_id), isouter=True)
        .order_by(col(Deal.id))
    )
    scope = owner_filter(actor, Deal.owner_id)
    if scope is not None:
        query = query.where(scope)
    for deal, email in session.execute(query.execution_options(yield_per=1000)).tuples():
        values = deal.model_dump()
        values.update(
            pipeline=pipelines.get(deal.pipeline_id, ""),
            stage=stages.get(deal.stage_id, ""),
            status=deal.status.value,
            probability=deal.probability_override,
            organisation=orgs.get(deal.organisation_id, ""),
            contact_email=email,
            owner=owners.get(deal.owner_id, ""),
        )
        yield [_text(values.get(c)) for c in DEAL_COLUMNS]


def export_csv(*, session: Session, actor: Actor, kind: str) -> bytes:
    """A CSV file (UTF-8) of organisations, contacts or deals."""
    counter = _Counter(export_rows(session=session, actor=actor, kind=kind))
    header = next(counter.rows)
    data = rows_csv(header, counter).encode("utf-8")
    _audit(session, actor, kind, "csv", counter.count)
    return data


def export_xlsx(*, session: Session, actor: Actor, kind: str) -> bytes:
    """An XLSX workbook of organisations, contacts or deals."""
    counter = _Counter(export_rows(session=session, actor=actor, kind=kind))
    data = rows_xlsx(kind, counter)
    _audit(session, actor, kind, "xlsx", counter.count - 1)  # the header is not a record
    return data


class _Counter:
    """Rows passed through as they stream, counted for the audit record."""

    def __init__(self, rows: Iterator[list[Any]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Any]]:
        for row in self.rows:
            self.count += 1
            yield row


def _audit(session: Session, actor: Actor, kind: str, fmt: str, count: int) -> None:
    record(
        session=session,
        actor=actor,
        action="export",
        entity=kind,
        details={"format": fmt, "rows": count},
    )
    session.commit()


# What a file of each format is called, and what the operator may ask for.
EXPORT_FORMATS = {"csv": ".csv", "xlsx": ".xlsx"}


def export_format(filename: str, requested: str | None = None) -> str:
    """The format to write `filename` in: the one asked for, else the file's extension.

    A file is never written in a format its name belies (CSV text in a `.xlsx` file opens
    as a damaged workbook), so a name with another extension is refused, naming the fix.
    """
    suffix = PurePath(filename).suffix.lower()
    known = ", ".join(EXPORT_FORMATS)
    if requested is not None:
        if requested not in EXPORT_FORMATS:
            raise ValidationError(
                f"Format: {requested!r} cannot be written; use {known}.", field="format"
            )
        if suffix and suffix != EXPORT_FORMATS[requested]:
            raise ValidationError(
                f"Format: {filename} ends in {suffix} but the format asked for is {requested}; "
                f"name the file …{EXPORT_FORMATS[requested]} or leave --format out.",
                field="format",
            )
        return requested
    for name, extension in EXPORT_FORMATS.items():
        if suffix == extension:
            return name
    what = f"{suffix} files" if suffix else "files without an extension"
    raise ValidationError(
        f"Format: exports are written as .csv or .xlsx, not {what}; name the file "
        "….csv or ….xlsx, or give --format csv or --format xlsx.",
        field="format",
    )


def export_file(*, session: Session, actor: Actor, kind: str, fmt: str) -> bytes:
    """Organisations, contacts or deals in one of EXPORT_FORMATS."""
    if fmt == "xlsx":
        return export_xlsx(session=session, actor=actor, kind=kind)
    if fmt == "csv":
        return export_csv(session=session, actor=actor, kind=kind)
    raise ValidationError(f"Format: use {', '.join(EXPORT_FORMATS)}.", field="format")
