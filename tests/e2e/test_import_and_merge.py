"""In Chromium: a manager imports a file with bad rows, downloads the rejections, merges."""

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle

ROWS = (
    "First Name,Last Name,Email,Phone Number,Postal Code,Date of birth,Record ID\n"
    "Katherine,Okonkwo,kath.okonkwo@example.org,07700 900456,LS1 4AP,1984-02-11,HS-1\n"
    ",,nobody@example.org,,,,HS-2\n"
    "Kate,Okonkow,KATH.OKONKWO@example.org,+44 7700 900456,ls14ap,11/02/1984,HS-3\n"
    "Tom,Reyes,tom.reyes@example.org,,,1990-02-30,HS-4\n"
)


def test_import_with_bad_rows_then_find_and_merge_a_duplicate(
    browser: Any, server: str, steps: Steps, tmp_path: Path
) -> None:
    upload = tmp_path / "hubspot-contacts.csv"
    upload.write_text(ROWS, encoding="utf-8")
    page = new_page(browser, accept_downloads=True)
    sign_in(page, server, "admin", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you")).first.wait_for()

    page.get_by_role("link", name="Import and export", exact=True).click()
    page.get_by_role("heading", name="Import and export").first.wait_for()
    page.locator('input[type="file"]').set_input_files(str(upload))
    page.get_by_text("Detected format: hubspot").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "preview")
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text(re.compile(r"4 rows read; created 2")).wait_for(timeout=60_000)
    wait_until_idle(page)
    steps.shot(page, "result")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download rejected rows (CSV)").click()
    report = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
    assert report[0] == ("rejected: row,rejected: column,rejected: reason," + ROWS.splitlines()[0])
    assert report[1].startswith("3,family_name,")
    assert report[1].endswith(",nobody@example.org,,,,HS-2"), "the row as the file had it"
    # Row 4 updated row 2's person by email; row 5 kept its name but lost the bad date.
    assert len(report) == 2

    page.get_by_role("link", name="Duplicates", exact=True).click()
    page.get_by_role("heading", name="Duplicates", exact=True).first.wait_for()
    page.get_by_role("heading", name=re.compile(r"likely duplicate pair")).first.wait_for()
    # The whole page has drawn (its last section too) before the merge is asked for.
    page.get_by_role("heading", name="Recent merges").first.wait_for()
    page.get_by_text("Which record survives?").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "pairs")
    page.get_by_role("button", name="Merge these contacts").click()
    page.get_by_text(re.compile(r"Merged #\d+ into #\d+")).wait_for(timeout=60_000)
    steps.shot(page, "merged")
    page.get_by_role("button", name="Undo").first.wait_for()
