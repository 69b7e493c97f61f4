"""The import, export and duplicates commands, end to end on a SQLite file."""

import csv
from pathlib import Path

import pytest

import manage
from db.core.engine import reset_engines


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert manage.main(["migrate"]) == 0
    yield tmp_path
    reset_engines()


def test_import_dry_run_then_import_then_duplicates_and_export(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = database / "people.csv"
    source.write_text(
        "Surname;Forename;Middle;Mail\n"
        "Okafor;Ngozi;Ada;ngozi@example.org\n"
        "Okafor;Ngozi;;NGOZI@example.org\n"
        ";;;nobody@example.org\n"
        "Okafr;Ngozi;;ngozi.o@example.org\n",
        encoding="utf-8",
    )
    mapping = [
        "--map",
        "Surname=family_name",
        "--map",
        "Forename=given_name",
        "--map",
        "Middle=given_name",
        "--map",
        "Mail=email",
    ]
    assert manage.main(["import", "contacts", str(source), "--dry-run", *mapping]) == 0
    assert "Dry run" in capsys.readouterr().out
    assert manage.main(["import", "contacts", str(source), "--all-or-nothing", *mapping]) == 1
    rejects = database / "rejects.csv"
    code = manage.main(["import", "contacts", str(source), "--rejects", str(rejects), *mapping])
    assert code == 0
    out = capsys.readouterr().out
    assert "created 2, updated 1" in out
    assert list(csv.reader(rejects.open()))[1][:2] == ["4", "family_name"]

    pairs = database / "pairs.csv"
    assert manage.main(["duplicates", "--out", str(pairs), "--min-score", "0.05"]) == 0
    rows = list(csv.DictReader(pairs.open()))
    assert list(rows[0]) == [
        "left_id",
        "left_external_ref",
        "right_id",
        "right_external_ref",
        "score",
        "reasons",
    ]
    assert len(rows) == 1 and 0 <= float(rows[0]["score"]) <= 1

    exported = database / "contacts.csv"
    assert manage.main(["export", "contacts", "--out", str(exported)]) == 0
    names = [r["given_name"] for r in csv.DictReader(exported.open())]
    assert names == ["Ngozi", "Ngozi"]  # the second row updated the first by email


def test_deals_and_employees_import_from_the_command_line(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.demo.fixtures import seed_users
    from db.pipeline.setup import StageSpec, create_pipeline

    with session_scope() as session:
        seed_users(session=session)
        create_pipeline(
            session=session, name="New business", stages=[StageSpec("Lead", 10, 14)], actor=OPERATOR
        )
    deals = database / "opps.csv"
    deals.write_text(
        "Id,Name,StageName,Amount,Probability,CloseDate,AccountId,OwnerId\n"
        "0065g00000Aa1,Framework,Lead,2500,40,2026-06-30,Kestrel Health,sales\n"
        "0065g00000Aa2,Tender,Nowhere,800,10,2026-06-30,,sales\n",
        encoding="utf-8",
    )
    rejects = database / "rejects.csv"
    code = manage.main(
        ["import", "deals", str(deals), "--all-or-nothing", "--rejects", str(rejects)]
    )
    out = capsys.readouterr()
    assert code == 1 and "Format: salesforce" in out.out and "Nothing was imported" in out.out
    assert "row 3, stage" in out.err
    assert manage.main(["import", "deals", str(deals)]) == 0
    assert "created 1" in capsys.readouterr().out
    exported = database / "deals.csv"
    assert manage.main(["export", "deals", "--out", str(exported)]) == 0
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [(r["external_ref"], r["stage"], r["owner"]) for r in rows] == [
        ("0065g00000Aa1", "Lead", "sales")
    ]
    people = database / "people.csv"
    people.write_text(
        "name,email,department,team,location,start_date\n"
        "Ana Silva,ana@example.org,Care,North,Leeds,2020-01-01\n",
        encoding="utf-8",
    )
    assert manage.main(["import", "employees", str(people), "--dry-run"]) == 0
    assert "Dry run" in capsys.readouterr().out


def test_export_writes_the_format_its_file_is_named_for_and_refuses_others(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    source = database / "people.csv"
    source.write_text(
        "given_name,family_name,email,notes\n"
        'Ngozi,Okafor,ngozi@example.org,=HYPERLINK("http://evil.example")\n'
        "Ben,Adeyemi,ben@example.org,\n",
        encoding="utf-8",
    )
    assert manage.main(["import", "contacts", str(source)]) == 0
    workbook = database / "contacts.xlsx"
    assert manage.main(["export", "contacts", "--out", str(workbook)]) == 0
    assert workbook.read_bytes().startswith(b"PK\x03\x04"), "a real workbook, not CSV text"
    sheet = load_workbook(workbook, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert header[:4] == ["external_ref", "kind", "given_name", "family_name"]
    notes = {r[header.index("given_name")]: r[header.index("notes")] for r in rows[1:]}
    assert notes["Ngozi"] == '\'=HYPERLINK("http://evil.example")', "formulas are neutralised"

    named = database / "contacts-export"
    assert manage.main(["export", "contacts", "--out", str(named), "--format", "xlsx"]) == 0
    assert named.read_bytes().startswith(b"PK\x03\x04")
    text = database / "contacts.CSV"
    assert manage.main(["export", "contacts", "--out", str(text)]) == 0
    assert text.read_text(encoding="utf-8").startswith("external_ref,kind,given_name")
    capsys.readouterr()

    for refused in (
        ["--out", str(database / "contacts.ods")],
        ["--out", str(database / "contacts")],
        ["--out", str(database / "contacts.csv"), "--format", "xlsx"],
    ):
        assert manage.main(["export", "contacts", *refused]) == 1
        assert "Format:" in capsys.readouterr().err
    assert not (database / "contacts.ods").exists() and not (database / "contacts").exists()
