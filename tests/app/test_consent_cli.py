"""The consent commands of manage.py, on the demo database."""

import csv
import json
from pathlib import Path

import pytest

import manage


def test_consent_audit_writes_json_and_csv(app_database: str, tmp_path: Path) -> None:
    assert manage.main(["consent-audit", "--out", str(tmp_path / "audit.json")]) == 0
    report = json.loads((tmp_path / "audit.json").read_text())
    assert [f["number"] for f in report["findings"]] == [1, 2, 3, 4, 5, 6, 7]
    assert all({"severity", "count", "rows"} <= f.keys() for f in report["findings"])
    assert manage.main(["consent-audit", "--out", str(tmp_path / "audit.csv")]) == 0
    with (tmp_path / "audit.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["finding"] for r in rows} == {str(n) for n in range(1, 8)}


def test_consent_audit_refuses_an_unknown_format(app_database: str, tmp_path: Path) -> None:
    assert manage.main(["consent-audit", "--out", str(tmp_path / "audit.xlsx")]) == 2


def test_consent_receipts_are_written_one_file_per_grant(app_database: str, tmp_path: Path) -> None:
    assert manage.main(["consent-receipt", "--all", "--out", str(tmp_path)]) == 0
    files = list(tmp_path.glob("*.json"))
    assert files
    receipt = json.loads(files[0].read_text())
    assert receipt["version"] == "KI-CR-v1.1.0" and isinstance(receipt["consentTimestamp"], int)


def test_import_consent_dry_run_reports_bad_rows(
    app_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "consent.csv"
    source.write_text(
        "contact_id,purpose,channel,action,occurred_at\n"
        "1,marketing,email,withdraw,2026-01-01T10:00:00Z\n"
        "1,marketing,pigeon,withdraw,2026-01-01T10:00:00Z\n"
    )
    assert manage.main(["import-consent", str(source), "--dry-run"]) == 1
    out = capsys.readouterr()
    assert "Would import 1" in out.out
    assert "row 3, channel" in out.err


def test_consent_audit_says_whether_the_ledger_check_was_full_or_incremental(
    app_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "audit.json")
    assert manage.main(["consent-audit", "--out", out, "--full"]) == 0
    assert "consent ledger: intact; checked full: every event from event 1 (asked for)" in (
        capsys.readouterr().out
    )
    full = json.loads((tmp_path / "audit.json").read_text())["findings"][6]
    assert full["summary"] == {"ledger_check": "full", "ledger_checked_from_event": 1}
    assert manage.main(["consent-audit", "--out", out]) == 0
    assert "consent ledger: intact; checked incremental: events after" in capsys.readouterr().out
    quick = json.loads((tmp_path / "audit.json").read_text())["findings"][6]
    assert quick["summary"]["ledger_check"] == "incremental"
    assert quick["rows"][0]["events_verified"] >= 1
