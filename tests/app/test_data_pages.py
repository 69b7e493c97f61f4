"""The Duplicates and Import pages do their jobs through the UI."""

from tests.app.conftest import RunPage


def test_the_duplicates_page_lists_pairs_and_merges_then_undoes_one(run_page: RunPage) -> None:
    at = run_page("pages/duplicates.py", "admin")
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, "the demo holds contacts entered twice"
    table = at.dataframe[0].value
    assert {"score", "reasons"} <= set(table.columns)
    assert table["score"].between(0, 1).all()
    pairs = len(table)
    [b for b in at.button if b.label == "Merge these contacts"][0].click()
    at.run()
    assert not at.exception
    assert any("Merged #" in s.value for s in at.success), [e.value for e in at.error]
    assert len(at.dataframe[0].value) == pairs - 1, "the list drawn after a merge leaves it out"
    undo = [b for b in at.button if b.key and b.key.startswith("undo-")]
    assert undo
    undo[0].click()
    at.run()
    assert any("undone" in s.value for s in at.success), [e.value for e in at.error]
    assert len(at.dataframe[0].value) == pairs, "the list drawn after an undo shows it again"


def test_the_import_page_prepares_exports_in_csv_and_xlsx(run_page: RunPage) -> None:
    at = run_page("pages/import.py", "manager")
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="prepare_export").click()
    at.run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Download contacts (CSV)" in labels and "Download contacts (XLSX)" in labels


HUBSPOT_DEALS = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Pipeline,Deal owner\n"
    "APP-1,Page import renewal,Qualified,1200,2026-03-31,New business,sales\n"
    "APP-2,Page import pilot,No such stage,10,2026-03-31,New business,sales\n"
)


def test_the_import_page_imports_deals_reports_bad_rows_and_reverts_the_batch(
    run_page: RunPage,
) -> None:
    at = run_page("pages/import.py", "admin")
    assert not at.exception, [e.value for e in at.exception]
    assert {"deals", "employees"} <= set(at.selectbox[0].options)
    at.selectbox[0].set_value("deals")
    at.file_uploader[0].set_value(("deals.csv", HUBSPOT_DEALS.encode(), "text/csv"))
    at.run()
    assert any("Detected format: hubspot" in i.value for i in at.info)
    [b for b in at.button if b.label == "Import"][0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("created 1" in w.value and "1 rejected" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]
    rejected = at.dataframe[1].value
    assert list(rejected["column"]) == ["stage"] and list(rejected["row"]) == [3]
    labels = [b.label for b in at.get("download_button")]
    assert "Download rejected rows (CSV)" in labels
    batches = at.dataframe[2].value
    assert batches.iloc[0]["Kind"] == "deals" and batches.iloc[0]["Created"] == 1
    [b for b in at.button if b.label == "Revert batch"][0].click()
    at.run()
    assert any("was reverted" in s.value for s in at.success), [e.value for e in at.error]


EMPLOYEES = (
    "Name,Email,Department,Team,Location,Manager,Start date\n"
    "Page Person,page.person@example.org,Care,North,Leeds,,2021-02-01\n"
)


def test_hr_imports_only_employees_and_sees_no_export(run_page: RunPage) -> None:
    at = run_page("pages/import.py", "hr")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox[0].options == ["employees"]
    at.file_uploader[0].set_value(("people.csv", EMPLOYEES.encode(), "text/csv"))
    at.run()
    [b for b in at.button if b.label == "Import"][0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("created 1" in s.value for s in at.success), [e.value for e in at.warning]
    assert not [b for b in at.button if b.key == "prepare_export"]
    kinds = set(at.dataframe[-1].value["Kind"])
    assert kinds == {"employees"}, "HR sees only the batches of the kinds it may import"


def test_the_duplicates_page_merges_two_organisations_and_undoes_it(
    run_page: RunPage, app_database: str
) -> None:
    from sqlmodel import select

    from db.core.engine import make_engine, session_scope
    from db.models.people import Contact, Organisation

    engine = make_engine(app_database)
    with session_scope(engine) as session:
        first = Organisation(name="Zephyr Care Ltd", domain="zephyr.example")
        second = Organisation(name="The Zephyr Care", locality="Leeds")
        session.add(first)
        session.add(second)
        session.flush()
        session.add(Contact(given_name="Zed", family_name="Okoro", organisation_id=second.id))
        session.commit()
        first_id, second_id = first.id, second.id
    at = run_page("pages/duplicates.py", "admin")
    assert not at.exception, [e.value for e in at.exception]
    chooser = [s for s in at.selectbox if s.label == "Organisation pair"][0]
    wanted = [o for o in chooser.options if "Zephyr" in o]
    assert wanted, chooser.options
    chooser.select_index(chooser.options.index(wanted[0]))
    at.run()
    [b for b in at.button if b.label == "Merge these organisations"][0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Merged organisation #" in s.value for s in at.success), [e.value for e in at.error]
    with session_scope(engine) as session:
        zed = session.exec(select(Contact).where(Contact.given_name == "Zed")).one()
        assert zed.organisation_id == first_id
        tombstone = session.get(Organisation, second_id)
        assert tombstone is not None and tombstone.merged_into_id == first_id
    undo = [b for b in at.button if b.key and b.key.startswith("org-undo-")]
    assert undo
    undo[0].click()
    at.run()
    assert any("organisation merge was undone" in s.value for s in at.success)
    with session_scope(engine) as session:
        zed = session.exec(select(Contact).where(Contact.given_name == "Zed")).one()
        assert zed.organisation_id == second_id
    engine.dispose()
