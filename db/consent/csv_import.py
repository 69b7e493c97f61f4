"""Importing consent history from CSV: a pure parser with a bad-row report, then a
command that resolves contacts and purposes and appends to the ledger."""

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.ledger import append
from db.consent.records import validated_event
from db.core.errors import DomainError
from db.core.normalise import normalise_email
from db.models.auth import Role
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentSource,
    Notice,
)
from db.models.people import Contact

REQUIRED = ("purpose", "channel", "action", "occurred_at")
IDENTIFYING = ("contact_id", "external_ref", "email")
OPTIONAL = ("notice_version", "source", "evidence")
COLUMNS = IDENTIFYING + REQUIRED + OPTIONAL


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: its number (header = 1), the column, the reason."""

    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class ConsentRow:
    """One parsed, well-formed line of the file."""

    row: int
    contact_id: int | None
    external_ref: str | None
    email: str | None
    purpose: str
    channel: ConsentChannel
    action: ConsentAction
    occurred_at: datetime
    notice_version: int | None
    source: ConsentSource
    evidence: str | None


@dataclass
class ParseResult:
    """Rows ready to import and rows refused, with reasons."""

    rows: list[ConsentRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


CSV_MAX_CHARS = 20_000_000


def parse_consent_csv(text: str) -> ParseResult:
    """Parse consent history CSV text (pure: no database)."""
    result = ParseResult()
    if len(text) > CSV_MAX_CHARS:
        result.bad.append(
            BadRow(1, "file", f"over the {CSV_MAX_CHARS // 1_000_000} MB limit; split the file")
        )
        return result
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    # Read the whole file first: a malformed file (a field over the csv module's size
    # limit, say) is refused as a whole, so no row of it is imported.
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
        raws = list(reader)
    except csv.Error as err:
        result.bad.append(
            BadRow(
                reader.line_num or 1,
                "file",
                f"the CSV is malformed ({err}); nothing was imported",
            )
        )
        return result
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in IDENTIFYING):
        missing.append("contact_id or external_ref or email")
    if missing:
        result.bad.append(BadRow(1, ", ".join(missing), "required column missing from the header"))
        return result
    for number, raw in enumerate(raws, start=2):
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        problem = _parse_row(number, values)
        if isinstance(problem, BadRow):
            result.bad.append(problem)
        else:
            result.rows.append(problem)
    return result


def _parse_row(number: int, v: dict[str, str]) -> ConsentRow | BadRow:
    contact_id = None
    if v.get("contact_id"):
        if not v["contact_id"].isdigit():
            return BadRow(number, "contact_id", "not a whole number")
        contact_id = int(v["contact_id"])
    email = None
    if v.get("email"):
        try:
            email = normalise_email(v["email"])
        except DomainError:
            return BadRow(number, "email", f"{v['email']!r} is not an email address")
    if contact_id is None and not v.get("external_ref") and email is None:
        return BadRow(number, "contact_id", "give contact_id, external_ref or email")
    for column in REQUIRED:
        if not v.get(column):
            return BadRow(number, column, "empty")
    try:
        channel = ConsentChannel(v["channel"].lower())
    except ValueError:
        return BadRow(number, "channel", f"use one of {', '.join(ConsentChannel)}")
    try:
        action = ConsentAction(v["action"].lower())
    except ValueError:
        return BadRow(number, "action", f"use one of {', '.join(ConsentAction)}")
    try:
        occurred_at = _when(v["occurred_at"])
    except ValueError:
        return BadRow(number, "occurred_at", "not an ISO date-time like 2025-03-01T09:30:00Z")
    notice_version = None
    if v.get("notice_version"):
        if not v["notice_version"].isdigit():
            return BadRow(number, "notice_version", "not a whole number")
        notice_version = int(v["notice_version"])
    try:
        source = ConsentSource(v.get("source", "").lower() or "import")
    except ValueError:
        return BadRow(number, "source", f"use one of {', '.join(ConsentSource)}")
    return ConsentRow(
        number,
        contact_id,
        v.get("external_ref") or None,
        email,
        v["purpose"].lower(),
        channel,
        action,
        occurred_at,
        notice_version,
        source,
        v.get("evidence") or None,
    )


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    imported: int
    bad: list[BadRow]
    dry_run: bool


def _contact(session: Session, row: ConsentRow) -> Contact | None:
    query = select(Contact).where(col(Contact.erased_at).is_(None))
    if row.contact_id is not None:
        query = query.where(Contact.id == row.contact_id)
    elif row.external_ref:
        query = query.where(Contact.external_ref == row.external_ref)
    else:
        query = query.where(Contact.email == row.email)
    return session.exec(query.limit(1)).first()


def import_consent(
    *, session: Session, text: str, actor: Actor, dry_run: bool = False
) -> ImportReport:
    """Append every good row to the ledger; report bad rows (nothing written on a dry run)."""
    require_role(actor, Role.privacy, doing="import consent history")
    parsed = parse_consent_csv(text)
    bad = list(parsed.bad)
    purposes = {p.code: p for p in session.exec(select(ConsentPurpose)).all()}
    notices = {(n.purpose_id, n.version): n for n in session.exec(select(Notice)).all()}
    good = 0
    for row in sorted(parsed.rows, key=lambda r: r.occurred_at):
        contact = _contact(session, row)
        if contact is None:
            bad.append(BadRow(row.row, "contact_id", "no live contact matches"))
            continue
        purpose = purposes.get(row.purpose)
        if purpose is None:
            bad.append(BadRow(row.row, "purpose", f"no purpose with the code {row.purpose!r}"))
            continue
        notice_id = None
        if row.notice_version is not None:
            notice = notices.get((purpose.id or 0, row.notice_version))
            if notice is None:
                bad.append(BadRow(row.row, "notice_version", "no such version of this purpose"))
                continue
            notice_id = notice.id
        try:
            _purpose, event = validated_event(
                session=session,
                event_in=ConsentEventCreate(
                    contact_id=contact.id or 0,
                    purpose_id=purpose.id or 0,
                    channel=row.channel,
                    action=row.action,
                    notice_id=notice_id,
                    source=row.source,
                    evidence=row.evidence,
                    occurred_at=row.occurred_at,
                ),
            )
        except DomainError as err:
            column = getattr(err, "field", None) or "row"
            bad.append(BadRow(row.row, column, str(err)))
            continue
        good += 1
        if not dry_run:
            event.recorded_by_id = actor.id
            event.recorded_by_name = actor.username
            append(session=session, event=event)
    bad.sort(key=lambda b: b.row)
    if dry_run:
        session.rollback()
        return ImportReport(good, bad, True)
    record(
        session,
        actor,
        "consent.import",
        "consent_event",
        details={"imported": good, "refused": len(bad)},
    )
    session.commit()
    return ImportReport(good, bad, False)
