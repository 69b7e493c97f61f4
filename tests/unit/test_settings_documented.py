"""The README's configuration tables and the one Settings class list the same variables."""

import re
from pathlib import Path

from db.core.settings import Settings, variable_of

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(RAPPORT_[A-Z0-9_]+)` \|", re.M)


def test_every_setting_is_in_a_readme_table_and_every_table_row_is_a_setting() -> None:
    documented = set(ROW.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    declared = {variable_of(name) for name in Settings.model_fields}
    assert sorted(declared - documented) == [], "document these in the README's tables"
    assert sorted(documented - declared) == [], "these README rows name no setting"


def test_every_setting_says_what_it_means() -> None:
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_no_module_reads_a_rapport_variable_but_the_settings() -> None:
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for tree in ("db", "components", "pages")
        for path in sorted((ROOT / tree).rglob("*.py"))
        if path.name != "config.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"environ(\.get)?\(?\[?[\"']RAPPORT_|getenv\([\"']RAPPORT_", line)
    ]
    assert readers == []
