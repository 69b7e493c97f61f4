"""Every free-text widget on a page or in a component caps what a person can type.

The data layer refuses text past each field's maximum; a widget without `max_chars` lets
someone type past it and only learn so on submit. This test fails, naming file and line,
when a `text_input` or `text_area` call has no `max_chars`.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = frozenset({"text_input", "text_area"})


def widgets_without_max_chars(source: str, filename: str = "<source>") -> list[str]:
    """`file:line` of every text_input/text_area call in the source that has no max_chars."""
    tree = ast.parse(source, filename=filename)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else None
        if name not in WIDGETS:
            continue
        if not any(keyword.arg == "max_chars" for keyword in node.keywords):
            found.append(f"{filename}:{node.lineno}")
    return found


def _ui_files() -> list[Path]:
    return sorted([*(ROOT / "pages").rglob("*.py"), *(ROOT / "components").rglob("*.py")])


def test_the_check_names_each_widget_without_max_chars() -> None:
    source = (
        "import streamlit as st\n"
        "a = st.text_input('Name', max_chars=120)\n"
        "b = st.text_input('Email')\n"
        "cols = st.columns(2)\n"
        "c = cols[0].text_area(\n"
        "    'Notes',\n"
        "    key='n',\n"
        ")\n"
        "with st.form('f'):\n"
        "    left, right = st.columns(2)\n"
        "    d = left.text_input('Tag', max_chars=40)\n"
        "    e = right.text_area('Body')\n"
    )
    assert widgets_without_max_chars(source, "bad.py") == ["bad.py:3", "bad.py:5", "bad.py:12"]


def test_the_check_accepts_widgets_that_all_have_max_chars() -> None:
    source = "import streamlit as st\nx = st.text_area('Notes', max_chars=NOTES_MAX)\n"
    assert widgets_without_max_chars(source) == []


def test_the_check_sees_the_pages_and_components() -> None:
    files = _ui_files()
    assert any(path.parent.name == "pages" for path in files)
    assert any(path.parent.name == "components" for path in files)


@pytest.mark.parametrize("path", _ui_files(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_text_widget_has_max_chars(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    missing = widgets_without_max_chars(path.read_text(encoding="utf-8"), relative)
    assert not missing, "text widgets without max_chars: " + ", ".join(missing)
