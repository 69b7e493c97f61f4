"""The import page parses an uploaded file once, not on every rerun, and refuses a workbook bomb.

Every widget change reruns the page; parsing a 20 MB upload each time would hold the server
for as long as the parse takes, again and again. The preview is remembered by the file's
hash, so a rerun with the same file (or the same file uploaded again) does not read it.
"""

from typing import Any

import pytest

import db.imports.batches
from tests.app.conftest import RunPage
from tests.unit.test_workbook_limits import ATTACKS, rewritten, workbook

CONTACTS = "given_name,family_name,email\nAna,Silva,ana@example.org\nBen,Okafor,ben@example.org\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every file the import code parses, in order."""
    seen: list[str] = []
    real = db.imports.batches.read_table

    def counting(data: bytes, filename: str) -> Any:
        seen.append(filename)
        return real(data, filename)

    monkeypatch.setattr(db.imports.batches, "read_table", counting)
    return seen


def test_reruns_with_the_same_upload_do_not_parse_it_again(
    run_page: RunPage, parses: list[str]
) -> None:
    at = run_page("pages/import.py", "admin")
    at.file_uploader[0].set_value(("people.csv", CONTACTS.encode(), "text/csv"))
    at.run()
    assert any("2 rows, 3 columns" in i.value for i in at.info), [i.value for i in at.info]
    for ticked in (True, False, True):
        at.checkbox[0].set_value(ticked)  # any widget change reruns the page
        at.run()
        assert not at.exception
        assert any("2 rows, 3 columns" in i.value for i in at.info)
    assert parses == ["people.csv"]
    at.selectbox[0].set_value("organizations")  # another kind maps the same parse anew
    at.run()
    assert not at.exception and any("2 rows, 3 columns" in i.value for i in at.info)
    assert parses == ["people.csv"]
    at.file_uploader[0].set_value(("people.csv", CONTACTS.encode() + b"Cy,Ng,\n", "text/csv"))
    at.run()  # a different file of the same name is parsed
    assert any("3 rows, 3 columns" in i.value for i in at.info)
    assert parses == ["people.csv", "people.csv"]


def test_a_workbook_bomb_is_refused_once_and_not_read_again_on_reruns(
    run_page: RunPage, parses: list[str]
) -> None:
    bomb = rewritten(workbook(), ATTACKS["claims the whole grid, one cell in its last row"])
    at = run_page("pages/import.py", "admin", timeout=10)
    at.file_uploader[0].set_value(("bomb.xlsx", bomb, "application/octet-stream"))
    at.run()
    assert any("XFD" in e.value or "16,384" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    at.checkbox[0].set_value(True)
    at.run()
    assert any("16,384" in e.value for e in at.error)
    assert parses == ["bomb.xlsx"]
