"""Every page, for every role and for nobody: shown, refused, or the sign-in form."""

import ast
from pathlib import Path

import pytest

from components.nav import SCREENS, Screen, screen_for
from db.demo.fixtures import demo_user_for
from db.models.auth import Role
from tests.app.conftest import RunPage
from tests.conftest import ROOT

PAGE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
CASES = [(screen, role) for screen in SCREENS for role in [None, *Role]]


def case_id(case: tuple[Screen, Role | None]) -> str:
    screen, role = case
    return f"{Path(screen.path).stem}-{role.value if role else 'signed-out'}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_each_page_shows_itself_only_to_its_roles(
    run_page: RunPage, case: tuple[Screen, Role | None]
) -> None:
    screen, role = case
    at = run_page(screen.path, demo_user_for(role).username if role else None)
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    if screen.public:
        assert "don't have access" not in errors
    elif role is None:
        # The sign-in form and nothing else of the page.
        assert [t.label for t in at.text_input] == ["Username", "Password"]
        assert not at.title
    elif role in screen.roles:
        assert at.title, "the page drew no title"
        assert "don't have access" not in errors
    else:
        assert "don't have access" in errors
        assert len(at.title) == 1  # only the refusal's heading


def test_every_page_file_is_in_the_access_table() -> None:
    listed = {s.path for s in SCREENS if s.path.startswith("pages/")}
    assert set(PAGE_FILES) == listed, "add the page to components/nav.py SCREENS"


def script_body(tree: ast.Module) -> list[ast.stmt]:
    """The statements Streamlit runs: app.py's Home sits under `if __name__ == "__main__"`
    (its `else` builds the server that `streamlit run` imports it for)."""
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and getattr(node.test.left, "id", None) == "__name__"
            and [getattr(c, "value", None) for c in node.test.comparators] == ["__main__"]
        ):
            return node.body
    return tree.body


@pytest.mark.parametrize("path", ["app.py", *PAGE_FILES])
def test_every_page_calls_the_guard_as_its_first_statement(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    statements = [
        node
        for node in script_body(tree)
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    first = statements[0]
    call = first.value if isinstance(first, ast.Assign | ast.Expr) else None
    assert isinstance(call, ast.Call) and getattr(call.func, "id", None) == "page", (
        f"{path} must start with page(...)"
    )


def test_the_sidebar_lists_only_what_the_role_may_open(run_page: RunPage) -> None:
    admin_links = {link.label for link in run_page("app.py", "admin").get("page_link")}
    sales_links = {link.label for link in run_page("app.py", "sales").get("page_link")}
    assert {"Users and roles", "Audit log"} <= admin_links
    assert "Users and roles" not in sales_links
    assert "Home" in sales_links


@pytest.mark.parametrize("path", ["app.py", *PAGE_FILES])
def test_every_page_names_itself_by_its_file_and_takes_title_and_roles_from_the_table(
    path: str,
) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "page"
    ]
    assert len(calls) == 1
    (call,) = calls
    assert [getattr(a, "id", None) for a in call.args] == ["__file__"]
    assert {k.arg for k in call.keywords} <= {"public", "sensitive"}
    public = any(k.arg == "public" for k in call.keywords)
    assert public == screen_for(path).public
