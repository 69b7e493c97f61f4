"""In Chromium: a manager maps a French file's columns, previews it, imports it and reverts it."""

import re
import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle

ROWS = (
    "Prénom,Nom,Courriel,Portable,Code adhérent,Couleur préférée,Remarques\n"
    "Élodie,Marchand,Elodie.Marchand@Example.fr,07700 900123,ADH-0042,bleu,Rappeler lundi\n"
    ",,sans.nom@example.fr,,ADH-0043,vert,\n"
    "Luc,Fontaine,luc.fontaine@example.fr,,ADH-0044,rouge,\n"
)


def _contacts(env: dict[str, str], identifiers: tuple[str, ...]) -> list[tuple[str, str | None]]:
    path = env["RAPPORT_DATABASE_URL"].removeprefix("sqlite:///")
    marks = ",".join("?" * len(identifiers))
    with sqlite3.connect(path) as connection:
        return connection.execute(
            f"SELECT email, identifier FROM contact WHERE identifier IN ({marks}) ORDER BY id",
            identifiers,
        ).fetchall()


def test_a_file_is_mapped_previewed_imported_and_reverted_through_the_mapping_screen(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps, tmp_path: Path
) -> None:
    upload = tmp_path / "adherents.csv"
    upload.write_text(ROWS, encoding="utf-8")
    page = new_page(browser, accept_downloads=True)
    sign_in(page, server, "manager", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you")).first.wait_for()
    page.get_by_role("link", name="Import and export", exact=True).click()
    page.get_by_role("heading", name="Import and export").first.wait_for()
    page.locator('input[type="file"]').set_input_files(str(upload))
    page.get_by_text("Map the columns").first.wait_for()
    page.get_by_text("Preview: the first rows as they will be stored").first.wait_for()
    wait_until_idle(page)

    # The French headers are guessed; the member code is not, so the manager picks it.
    page.get_by_label("Field for Code adhérent").click()
    page.keyboard.type("Identif")  # the list is long: narrow it as a person would
    page.get_by_role("option", name="Identifier", exact=True).click()
    wait_until_idle(page)
    page.get_by_text("Preview: the first rows as they will be stored").first.wait_for()
    steps.shot(page, "mapping-screen")
    guessed = {
        label: page.locator(f'input[aria-label="Field for {label}"]').input_value()
        for label in ("Prénom", "Nom", "Courriel", "Portable", "Couleur préférée")
    }
    assert "Given name" in guessed["Prénom"] and "Family name" in guessed["Nom"]
    assert "Email" in guessed["Courriel"] and "Mobile" in guessed["Portable"]
    assert "don't import" in guessed["Couleur préférée"]

    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text(re.compile(r"3 rows read; created 2")).wait_for(timeout=60_000)
    wait_until_idle(page)
    steps.shot(page, "result")
    stored = _contacts(server_env, ("ADH-0042", "ADH-0044"))
    assert stored == [
        ("elodie.marchand@example.fr", "ADH-0042"),
        ("luc.fontaine@example.fr", "ADH-0044"),
    ]
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download rejected rows (CSV)").click()
    report = Path(download_info.value.path()).read_text(encoding="utf-8").splitlines()
    assert report[0].endswith(ROWS.splitlines()[0])
    assert report[1].startswith("3,family_name,") and report[1].endswith(ROWS.splitlines()[2])

    page.get_by_role("button", name="Revert batch").click()
    page.get_by_text(re.compile(r"Batch \d+ was reverted")).wait_for(timeout=60_000)
    wait_until_idle(page)
    steps.shot(page, "reverted")
    assert _contacts(server_env, ("ADH-0042", "ADH-0044")) == []

    # Another file: nothing of the last result is shown for it.
    other = tmp_path / "other.csv"
    other.write_text("given_name,family_name\nZoë,Adams\n", encoding="utf-8")
    page.locator('input[type="file"]').set_input_files(str(other))
    page.get_by_text("1 rows, 2 columns").first.wait_for()
    wait_until_idle(page)
    assert page.get_by_role("heading", name="Result").count() == 0
    assert page.get_by_role("button", name="Download rejected rows (CSV)").count() == 0
