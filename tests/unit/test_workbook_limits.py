"""A few kilobytes of spreadsheet cannot stall the server.

An XLSX sheet declares how far it reaches (`<dimension ref="A1:XFD1048576"/>`) and the
reader fills every row out to that width: a 5 KB file that claims the whole grid and puts
one cell in the last row would have the server walk 17 billion cells. Each test builds such
a file, checks it is small, and requires it to be refused with a sentence, quickly.
"""

import io
import re
import time
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from db.core.errors import ValidationError
from db.imports import files as import_files
from db.imports.files import MAX_CELLS, MAX_COLUMNS, MAX_ROWS, MAX_UNPACKED, read_table

SHEET = "xl/worksheets/sheet1.xml"
DIMENSION = re.compile(r"<dimension ref=\"[^\"]*\" ?/>")


def workbook(rows: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["given_name", "family_name", "email"])
    for n in range(rows):
        sheet.append([f"Ana{n}", "Silva", f"ana{n}@example.org"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewritten(data: bytes, change: Callable[[str], str]) -> bytes:
    """The workbook with its first sheet's XML changed, everything else as it was."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == SHEET:
                body = change(body.decode()).encode()
            dst.writestr(info.filename, body)
    return out.getvalue()


def declaring(ref: str) -> Callable[[str], str]:
    return lambda xml: DIMENSION.sub(f'<dimension ref="{ref}"/>', xml)


def undeclared(xml: str) -> str:
    return DIMENSION.sub("", xml)


def with_cell_at(ref: str, row: int) -> Callable[[str], str]:
    cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
    return lambda xml: xml.replace("</sheetData>", cell + "</sheetData>")


def both(*changes: Callable[[str], str]) -> Callable[[str], str]:
    def change(xml: str) -> str:
        for one in changes:
            xml = one(xml)
        return xml

    return change


ATTACKS = {
    "claims the whole grid, one cell in its last row": both(
        declaring("A1:XFD1048576"), with_cell_at("XFD1048576", 1048576)
    ),
    "claims the whole grid": declaring("A1:XFD1048576"),
    "claims more rows than allowed": declaring(f"A1:C{MAX_ROWS + 2}"),
    "claims more columns than allowed": declaring("A1:ZZZ3"),
    "claims more cells than allowed": declaring(f"A1:ALL{MAX_CELLS // 1000 + 1}"),
    "declares nothing, one cell in the last row": both(
        undeclared, with_cell_at("XFD1048576", 1048576)
    ),
    "declares nothing, one cell in the last column": both(undeclared, with_cell_at("XFD3", 3)),
    "declares too little, one cell in the last row": both(
        declaring("A1:C2"), with_cell_at("XFD1048576", 1048576)
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_tiny_workbook_that_reaches_too_far_is_refused_quickly(attack: str) -> None:
    data = rewritten(workbook(), ATTACKS[attack])
    assert len(data) < 10_000
    started = time.perf_counter()
    try:
        table = read_table(data, "contacts.xlsx")
    except ValidationError as err:
        assert str(err).startswith("File: ") and err.field == "file"
    else:
        # A sheet that declares too little is read only as far as it declares.
        assert attack.startswith("declares too little")
        assert table.rows == [["Ana0", "Silva", "ana0@example.org"]]
    assert time.perf_counter() - started < 2.0


def test_a_workbook_whose_parts_unpack_to_too_much_is_refused_before_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit = MAX_UNPACKED // 256  # the same check at a size the test can afford to build
    monkeypatch.setattr(import_files, "MAX_UNPACKED", limit)
    padding = " " * (limit + 1)
    data = rewritten(workbook(), lambda xml: xml.replace("<sheetData>", padding + "<sheetData>"))
    assert len(data) < limit // 100
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="unpacks to"):
        read_table(data, "contacts.xlsx")
    assert time.perf_counter() - started < 2.0


def test_a_csv_row_wider_than_the_column_limit_is_refused() -> None:
    text = "given_name,family_name\nAna," + "," * MAX_COLUMNS + "\n"
    with pytest.raises(ValidationError, match="columns"):
        read_table(text.encode(), "contacts.csv")


def test_an_ordinary_workbook_reads_as_before() -> None:
    table = read_table(workbook(rows=3), "contacts.xlsx")
    assert table.headers == ["given_name", "family_name", "email"]
    assert table.rows[2] == ["Ana2", "Silva", "ana2@example.org"]
    undeclared_table = read_table(rewritten(workbook(rows=3), undeclared), "contacts.xlsx")
    assert undeclared_table.rows == table.rows
