"""The import, export and duplicates commands, end to end on a SQLite file."""

import csv
from pathlib import Path

import pytest

import manage
from db.engine import reset_engines


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
