"""The Duplicates and Import pages do their jobs through the UI."""

from tests.app.conftest import RunPage


def test_the_duplicates_page_lists_pairs_and_merges_then_undoes_one(run_page: RunPage) -> None:
    at = run_page("pages/duplicates.py", "admin")
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, "the demo holds contacts entered twice"
    table = at.dataframe[0].value
    assert {"score", "reasons"} <= set(table.columns)
    assert table["score"].between(0, 1).all()
    at.button(key="merge").click()
    at.run()
    assert not at.exception
    assert any("Merged #" in s.value for s in at.success), [e.value for e in at.error]
    undo = [b for b in at.button if b.key and b.key.startswith("undo-")]
    assert undo
    undo[0].click()
    at.run()
    assert any("undone" in s.value for s in at.success), [e.value for e in at.error]


def test_the_import_page_prepares_exports_in_csv_and_xlsx(run_page: RunPage) -> None:
    at = run_page("pages/import.py", "manager")
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="prepare_export").click()
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download contacts (CSV)" in labels and "Download contacts (XLSX)" in labels
