"""Files people open in a spreadsheet: CSV and XLSX whose every cell is safe to open.

Every file Rapport offers for download or writes for an operator is made here (`rows_csv`,
`records_csv`, `frame_csv`, `rows_xlsx`), so that every cell passes through
`spreadsheet_cell`: text a spreadsheet would run as a formula is neutralised, numbers stay
numbers. Every area may use it.
"""

import csv
import io
import numbers
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

# OWASP's CSV-injection guidance: Excel, LibreOffice and Google Sheets treat a cell that
# starts with one of these as a formula (tab and carriage return hide one behind them); the
# full-width forms are folded to the ASCII ones by some spreadsheet imports.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# The quote is the spreadsheet's own "this is text" mark, and what import strips again.
TEXT_MARK = "'"


def spreadsheet_cell(value: Any) -> Any:
    """A value as a spreadsheet should show it: numbers and booleans as they are, dates in
    ISO form, and text that a spreadsheet would run as a formula behind a leading quote."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number):  # int, float, Decimal, bool, numpy's numbers
        return "" if value != value else value  # NaN: an empty cell, as pandas writes it
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return TEXT_MARK + text if needs_text_mark(text) else text


def needs_text_mark(text: str) -> bool:
    """Whether a spreadsheet would run `text` as a formula (or it would read back as one:
    text that already starts with the mark before a formula is marked once more)."""
    return text.lstrip(TEXT_MARK).lstrip(" \u00a0")[:1] in FORMULA_STARTS


def _cells(row: Iterable[Any]) -> list[Any]:
    return [spreadsheet_cell(value) for value in row]


def rows_csv(header: Sequence[str], rows: Iterable[Iterable[Any]]) -> str:
    """A CSV text of a header and rows, every cell made safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_cells(header))
    writer.writerows(_cells(row) for row in rows)
    return out.getvalue()


def records_csv(records: Iterable[Mapping[str, Any]], columns: Sequence[str] = ()) -> str:
    """A CSV text of dict rows: the given columns, or every key in order of first appearance."""
    rows = list(records)
    names = list(columns) or list(dict.fromkeys(key for row in rows for key in row))
    return rows_csv(names, ([row.get(name) for name in names] for row in rows))


def frame_csv(frame: Any) -> str:
    """A pandas frame as CSV text (its columns, no index), through the same safe cells."""
    return rows_csv([str(c) for c in frame.columns], frame.itertuples(index=False, name=None))


def rows_xlsx(sheet_name: str, rows: Iterable[Iterable[Any]]) -> bytes:
    """An XLSX workbook of one sheet; text never becomes a formula, numbers stay numbers."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    for row in rows:
        cells = []
        for value in _cells(row):
            if isinstance(value, str):  # XML cannot hold most control characters
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a string cell, whatever openpyxl guessed from its text
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
