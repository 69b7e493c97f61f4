"""Every query parameter of every page is parsed and bounded: a hostile URL never crashes a
page, and an id that can name no record reads like a record the person may not see.

The parameters are found in the pages' source (`query_id("…")` and
`st.query_params.get("…")`), so a page that reads a new one is walked without a list.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.nav import SCREENS
from db.demo.fixtures import demo_user_for
from tests.app.conftest import sign_in_token
from tests.conftest import ROOT

HOSTILE = [
    "99999999999999999999",  # past a 64-bit integer: once an OverflowError
    "2147483648",  # one past the largest id PostgreSQL's integer holds
    "9" * 5000,  # past the digits Python converts by default
    "-1",
    "0",
    "1e9",
    "abc",
    "²",  # a digit to str.isdigit, not to int()
    "١٢",  # Arabic-Indic digits
    " 12 ",
    "12\x00",
    "'; DROP TABLE contact; --",
]


def parameters_of(path: Path) -> set[str]:
    """The query parameters a page reads, from its source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "query_id":
            first = node.args[0] if node.args else None
            names.add(first.value if isinstance(first, ast.Constant) else "id")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "query_params"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


CASES = [(screen, name) for screen in SCREENS for name in sorted(parameters_of(ROOT / screen.path))]


def test_the_walk_finds_the_pages_that_read_an_id() -> None:
    found = {(s.path, n) for s, n in CASES}
    assert {("pages/contact.py", "id"), ("pages/deal.py", "id")} <= found
    assert ("pages/consent.py", "contact") in found


@pytest.fixture
def open_with(app_database: str) -> Iterator[object]:
    st.cache_data.clear()

    def run(path: str, username: str | None, name: str, value: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.switch_page(path)
        at.query_params[name] = value
        if username is not None:
            at.session_state["rapport_session_token"] = sign_in_token(app_database, username)
        return at.run()

    yield run
    st.cache_data.clear()


@pytest.mark.parametrize(("screen", "name"), CASES, ids=[f"{s.path}?{n}" for s, n in CASES])
def test_no_value_of_a_query_parameter_crashes_its_page(
    open_with: object, screen: object, name: str
) -> None:
    path = screen.path  # type: ignore[attr-defined]
    roles = sorted(screen.roles)  # type: ignore[attr-defined]
    username = None if screen.public else demo_user_for(roles[0]).username  # type: ignore[attr-defined]
    for value in HOSTILE:
        at = open_with(path, username, name, value)  # type: ignore[operator]
        assert not at.exception, f"{path}?{name}={value[:30]!r}: {at.exception}"


@pytest.mark.parametrize(
    ("path", "name", "role"),
    [
        ("pages/contact.py", "id", "sales"),
        ("pages/deal.py", "id", "sales"),
        ("pages/consent.py", "contact", "privacy"),
    ],
)
def test_an_impossible_id_reads_like_a_record_you_cannot_see(
    open_with: object, path: str, name: str, role: str
) -> None:
    from db.models.auth import Role

    username = demo_user_for(Role(role)).username
    missing = open_with(path, username, name, "2000000000")  # type: ignore[operator]
    assert not missing.exception and missing.error
    for value in ("99999999999999999999", "-1", "abc"):
        at = open_with(path, username, name, value)  # type: ignore[operator]
        assert not at.exception
        # The same sentence, whatever number it names.
        assert [re.sub(r"\d+", "N", e.value) for e in at.error] == [
            re.sub(r"\d+", "N", e.value) for e in missing.error
        ], value
