"""Reading import files: CSV in any common delimiter and encoding, or XLSX; formats by header."""

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from db.core.errors import ValidationError
from db.core.spreadsheets import TEXT_MARK, needs_text_mark

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# A workbook says how far its sheet reaches, and the reader fills every row out to that width:
# a few kilobytes that claim XFD1048576 would mean 17 billion cells. Files are refused by what
# they claim, and by what they turn out to hold while being read, long before that.
MAX_COLUMNS = 1_000
MAX_CELLS = 5_000_000
# What a workbook's parts may unpack to (a zip states each part's size, and the reader stops
# there): generous for MAX_CELLS cells of XML, far below what a zip bomb unpacks to.
MAX_UNPACKED = 256 * 1024 * 1024
# Extra column mappings, one `SRC=DST` a line: far more than any file's columns need.
MAP_TEXT_MAX = 5000
_Row = TypeVar("_Row", bound=Sequence[object])
_ENCODINGS = ("utf-8-sig", "utf-16", "cp1252")
_XLSX_MAGIC = b"PK\x03\x04"

# Source headers of known exports, folded to lower case, mapped to Rapport's fields.
HUBSPOT = {
    "contacts": {
        "record id": "external_ref",
        "first name": "given_name",
        "last name": "family_name",
        "email": "email",
        "phone number": "phone",
        "mobile phone number": "mobile",
        "company name": "organisation",
        "job title": "job_title",
        "street address": "street",
        "city": "locality",
        "state/region": "region",
        "postal code": "postcode",
        "country/region": "country",
        "contact owner": "owner",
        "date of birth": "date_of_birth",
    },
    "organizations": {
        "record id": "external_ref",
        "company name": "name",
        "company domain name": "domain",
        "industry": "industry",
        "street address": "street",
        "city": "locality",
        "state/region": "region",
        "postal code": "postcode",
        "country/region": "country",
        "company owner": "owner",
    },
    "deals": {
        "record id": "external_ref",
        "deal name": "title",
        "deal stage": "stage",
        "amount": "amount",
        "close date": "expected_close",
        "pipeline": "pipeline",
        "deal owner": "owner",
        "currency": "currency",
        "deal probability": "probability",
        "associated company": "organisation",
        "associated company name": "organisation",
        "associated contact": "contact_email",
        "deal description": "notes",
        "deal source": "source",
    },
}
SALESFORCE = {
    "contacts": {
        "id": "external_ref",
        "accountid": "organisation",
        "firstname": "given_name",
        "lastname": "family_name",
        "email": "email",
        "phone": "phone",
        "mobilephone": "mobile",
        "title": "job_title",
        "mailingstreet": "street",
        "mailingcity": "locality",
        "mailingstate": "region",
        "mailingpostalcode": "postcode",
        "mailingcountry": "country",
        "birthdate": "date_of_birth",
        "ownerid": "owner",
    },
    "organizations": {
        "id": "external_ref",
        "name": "name",
        "website": "domain",
        "industry": "industry",
        "billingstreet": "street",
        "billingcity": "locality",
        "billingstate": "region",
        "billingpostalcode": "postcode",
        "billingcountry": "country",
        "ownerid": "owner",
    },
    "deals": {
        "id": "external_ref",
        "name": "title",
        "stagename": "stage",
        "amount": "amount",
        "probability": "probability",
        "closedate": "expected_close",
        "accountid": "organisation",
        "ownerid": "owner",
        "currencyisocode": "currency",
        "leadsource": "source",
        "description": "notes",
    },
}
# Rapport's own exports use the field names; these are the few friendlier spellings.
RAPPORT = {
    "deals": {"close date": "expected_close", "deal": "title", "name": "title"},
    "employees": {
        "manager": "manager_email",
        "manager email": "manager_email",
        "start date": "start_date",
        "employment type": "employment_type",
        "left": "left_on",
        "leaving date": "left_on",
        "full name": "name",
    },
}
FORMATS = {"hubspot": HUBSPOT, "salesforce": SALESFORCE, "rapport": RAPPORT}
# Headers that only one system writes: two of them decide the format.
_SIGNATURES = {
    "hubspot": {
        "record id",
        "first name",
        "last name",
        "phone number",
        "lifecycle stage",
        "create date",
        "company name",
        "deal name",
        "deal stage",
        "close date",
        "deal owner",
        "company domain name",
    },
    "salesforce": {
        "firstname",
        "lastname",
        "accountid",
        "mailingcity",
        "mailingpostalcode",
        "ownerid",
        "stagename",
        "closedate",
        "billingcity",
        "mobilephone",
    },
}


@dataclass
class Table:
    """A file's header and rows (as text), with what was detected about it."""

    headers: list[str]
    rows: list[list[str]]
    encoding: str = "xlsx"
    delimiter: str = ""
    notes: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str) -> Table:
    """Parse an uploaded file; raise ValidationError naming what is wrong with it."""
    if not data:
        raise ValidationError("File: the file is empty (0 bytes).", field="file")
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"File: {len(data) / 1024 / 1024:.0f} MB is over the {MAX_BYTES // 1024 // 1024} MB "
            "limit; split it into smaller files.",
            field="file",
        )
    if data.startswith(_XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        table = _read_xlsx(data)
    else:
        table = _read_csv(data)
    # NUL is never meaningful in a cell, and PostgreSQL's text type cannot hold it.
    table.headers = [h.replace("\x00", "") for h in table.headers]
    table.rows = [[unmarked(c.replace("\x00", "")) for c in row] for row in table.rows]
    _check_header(table.headers)
    if len(table.rows) > MAX_ROWS:
        raise ValidationError(
            f"File: {len(table.rows):,} rows is over the {MAX_ROWS:,} row limit.", field="file"
        )
    return table


def file_digest(data: bytes) -> str:
    """The SHA-256 of a file's bytes: what a parsed file is remembered by."""
    return hashlib.sha256(data).hexdigest()


def unmarked(cell: str) -> str:
    """A cell without the quote an export puts before text a spreadsheet would run."""
    return cell[1:] if cell.startswith(TEXT_MARK) and needs_text_mark(cell[1:]) else cell


class _Budget:
    """Counts rows and cells as they are read, refusing a file the moment it is too big."""

    def __init__(self) -> None:
        self.rows = 0
        self.cells = 0

    def take(self, width: int) -> None:
        self.rows += 1
        self.cells += width
        if self.rows > MAX_ROWS + 1:  # the header is one more row
            raise ValidationError(
                f"File: the sheet has more than {MAX_ROWS:,} rows (blank ones count where they "
                "lie between others); split it into smaller files.",
                field="file",
            )
        if width > MAX_COLUMNS:
            raise ValidationError(
                f"File: row {self.rows:,} reaches column {width:,}; a file may use at most "
                f"{MAX_COLUMNS:,} columns. Delete the unused columns and save it again.",
                field="file",
            )
        if self.cells > MAX_CELLS:
            raise ValidationError(
                f"File: the sheet holds more than {MAX_CELLS:,} cells; split it into smaller "
                "files.",
                field="file",
            )


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:1000]:
        raise ValidationError(
            "File: this is not a text file we can read; save it as CSV (UTF-8) or XLSX.",
            field="file",
        )
    # cp1252 decodes nearly any byte string, so it comes last as the legacy-Excel case.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as err:
        raise ValidationError(
            "File: the text encoding is not one we recognise; save it as CSV (UTF-8).",
            field="file",
        ) from err


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    budget = _Budget()
    try:
        lines = [row for row in _counted(reader, budget) if any(cell.strip() for cell in row)]
    except csv.Error as err:
        raise ValidationError(f"File: the CSV is malformed ({err}).", field="file") from err
    if not lines:
        raise ValidationError("File: there is no header row.", field="file")
    headers = [h.strip() for h in lines[0]]
    return Table(headers, lines[1:], encoding=encoding, delimiter=delimiter)


def _counted(rows: Iterable[_Row], budget: _Budget) -> Iterator[_Row]:
    for row in rows:
        budget.take(len(row))
        yield row


def _unreadable() -> ValidationError:
    return ValidationError(
        "File: this is not a workbook we can read; save it again as XLSX or CSV.", field="file"
    )


def _check_unpacked(data: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_UNPACKED, before unpacking any."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise _unreadable() from err
    if unpacked > MAX_UNPACKED:
        raise ValidationError(
            f"File: the workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, over the "
            f"{MAX_UNPACKED // 1024 // 1024} MB limit; save it as CSV or split it.",
            field="file",
        )


def _check_declared(rows: int | None, columns: int | None) -> None:
    """Refuse a sheet by the size it declares, before reading a single row of it."""
    if rows is None or columns is None:
        return
    if rows > MAX_ROWS + 1 or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise ValidationError(
            f"File: the sheet says it reaches row {rows:,} and column {columns:,}; a file may "
            f"have at most {MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns and {MAX_CELLS:,} cells. "
            "Delete the unused rows and columns (or save it as CSV) and try again.",
            field="file",
        )


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    _check_unpacked(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a damaged file
        raise _unreadable() from err
    lines = []
    try:
        sheet = book.worksheets[0]
        _check_declared(sheet.max_row, sheet.max_column)
        for values in _counted(sheet.iter_rows(values_only=True), _Budget()):
            cells = ["" if v is None else _cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                lines.append(cells)
    except ValidationError:
        raise
    except Exception as err:  # a part that is damaged only shows when it is read
        raise _unreadable() from err
    finally:
        book.close()
    if not lines:
        raise ValidationError("File: the first sheet is empty.", field="file")
    return Table([h.strip() for h in lines[0]], lines[1:])


def _cell_text(value: object) -> str:
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == value.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_header(headers: list[str]) -> None:
    if not any(headers):
        raise ValidationError(
            "File: the first row must be a header naming the columns.", field="file"
        )
    blank = [i + 1 for i, h in enumerate(headers) if not h]
    if blank:
        raise ValidationError(
            f"Header: column {blank[0]} has no name; every column needs a header.", field="file"
        )
    seen: set[str] = set()
    for header in headers:
        key = header.lower()
        if key in seen:
            raise ValidationError(
                f"Header: {header!r} appears twice; rename or remove one of the columns.",
                field="file",
            )
        seen.add(key)
    if any(_looks_like_data(h) for h in headers):
        raise ValidationError(
            "Header: the first row looks like data (emails or numbers), not column names; "
            "add a header row.",
            field="file",
        )


def _looks_like_data(header: str) -> bool:
    return "@" in header or header.replace(".", "").replace("-", "").replace(" ", "").isdigit()


def detect_format(headers: list[str]) -> str:
    """'hubspot', 'salesforce' or 'rapport', from the headers alone."""
    folded = {h.strip().lower() for h in headers}
    for name, signature in _SIGNATURES.items():
        if len(folded & signature) >= 2:
            return name
    return "rapport"


def parse_map(items: list[str]) -> list[tuple[str, str]]:
    """Parse `SRC=DST` options; several SRC for one DST are joined in the order given."""
    if len("\n".join(items)) > MAP_TEXT_MAX:
        raise ValidationError(
            f"--map: use at most {MAP_TEXT_MAX:,} characters of column mappings.", field="map"
        )
    pairs = []
    for item in items:
        source, sep, target = item.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValidationError(f"--map: {item!r} must look like SRC=DST.", field="map")
        pairs.append((source.strip(), target.strip()))
    return pairs


def mapping_for(
    headers: list[str],
    *,
    kind: str,
    source_format: str,
    fields: set[str],
    extra: Sequence[tuple[str, str]] = (),
    only_extra: bool = False,
) -> dict[str, list[str]]:
    """Each target field and the source columns that fill it, in order.

    With `only_extra`, the columns given are the whole mapping (as the import page's
    mapping screen chose it): no other column is mapped by its name.
    """
    known = FORMATS.get(source_format, {}).get(kind, {})
    by_lower = {h.lower(): h for h in headers}
    explicit: dict[str, list[str]] = {}
    for source, target in extra:
        if source.lower() not in by_lower:
            raise ValidationError(
                f"--map: the file has no column {source!r} (it has {', '.join(headers)}).",
                field="map",
            )
        if target not in fields:
            raise ValidationError(
                f"--map: {target!r} is not a field of {kind}; use one of "
                f"{', '.join(sorted(fields))}.",
                field="map",
            )
        explicit.setdefault(target, []).append(by_lower[source.lower()])
    if only_extra:
        return explicit
    used = {source.lower() for source, _ in extra}
    mapping: dict[str, list[str]] = {}
    for header in headers:
        key = header.strip().lower()
        if key in used:
            continue
        snake = key.replace(" ", "_")
        found: str | None = known.get(key) or (snake if snake in fields else None)
        if found and found not in mapping and found not in explicit:
            mapping[found] = [header]
    mapping.update(explicit)
    return mapping
