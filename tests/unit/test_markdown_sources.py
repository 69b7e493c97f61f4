"""No page or component hands Streamlit's markdown a value without escaping it.

Streamlit renders as markdown the bodies of `st.markdown`, `st.write`, `st.caption`, titles,
headers, alerts and toasts, and the labels of expanders, tabs, metrics, buttons, links and
widgets (and their help texts). A name such as `![](https://evil.example/p.png)` put into one
of those makes every viewer's browser call out. This test reads the source of every page and
component and fails, naming file:line, wherever a value reaches one of those arguments other
than through `components.text.escape_markdown`: interpolated into an f-string, `.format`,
`%`, `+` or `.join`, or passed on its own. Numbers formatted with a numeric format spec
(`{n:,}`, `{share:.0%}`, `{day:%d %b}`), `len(…)` and similar, literals and UPPER_CASE
constants are safe. A function whose parameter reaches such an argument is checked at its
call sites instead (for example `attempt(..., success=f"…")`).
"""

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from components.text import escape_markdown

ROOT = Path(__file__).resolve().parents[2]
HELPER = "escape_markdown"
# Elements whose first argument (or `body`) is markdown; `write` renders every argument.
BODIES = {
    "markdown",
    "write",
    "caption",
    "title",
    "header",
    "subheader",
    "info",
    "success",
    "warning",
    "error",
    "toast",
    "badge",
}
# Elements and widgets whose label (first argument or `label`) is markdown.
LABELLED = {
    "expander",
    "popover",
    "status",
    "metric",
    "button",
    "download_button",
    "link_button",
    "form_submit_button",
    "checkbox",
    "toggle",
    "radio",
    "selectbox",
    "multiselect",
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "time_input",
    "slider",
    "select_slider",
    "file_uploader",
    "color_picker",
    "pills",
    "segmented_control",
    "camera_input",
    "chat_input",
    "dialog",
}
MARKDOWN_OPTIONS = {"radio", "pills", "segmented_control"}
# Names that hold numbers, dates or the code's own words (ids, counts, enum values), never
# text a person typed: interpolating them needs no escaping.
NOT_TYPED = {
    "id",
    "count",
    "n",
    "days",
    "total",
    "min_group",
    "comment_min",
    "wave",
    "version",
    "created",
    "updated",
    "imported",
    "invited",
    "skipped_total",
    "answered",
    "number",
    "probability",
    "seq",
    "first_bad_seq",
    "year",
    "quarter",
    "minutes",
    "share",
    "idle",
    "done",
    "waiting",
    "days_overdue",
    "moments",
    "status",
    "kind",
    "channel",
    "action",
    "reference",
    "value",  # an enum member's value
}
# Receivers that are not Streamlit: a logger's .error or a file's .write is not markdown.
NOT_STREAMLIT = {"log", "logger", "logging", "sys", "handle", "out", "buffer", "writer", "self"}
NUMERIC_CALLS = {"len", "int", "float", "round", "abs", "sum", "min", "max", "range"}
NUMERIC_CALLS |= {"percent"}  # components.pipeline_ui: percentages
# Not money: an amount carries its currency's symbol, and "$" opens Streamlit's LaTeX.
NUMERIC_CALLS |= {"count_of"}  # components.text: a number and a noun Rapport wrote
NUMERIC_CALLS |= {"long_date"}  # components.i18n: a date written out by the code
NUMERIC_CALLS |= {"shown_of"}  # components.home_pipeline: "10 of 13"
# components.i18n's translation of a sentence the code wrote.
TRANSLATE = "t"
# String methods keep a text as safe (or as unsafe) as it was.
SAME_TEXT = {"lower", "upper", "capitalize", "title", "strip", "replace"}
# Calls whose result is a sentence Rapport wrote, reviewed here once: domain errors are
# written in db/ as sentences for the person who caused them.
REVIEWED = {
    ("components/ui.py", "str(err)"),
    ("components/guard.py", "str(err)"),
    # The sign-in form's own refusal, kept across the rerun (AuthenticationFailed's words).
    ("components/auth.py", "st.session_state.pop(LOGIN_ERROR_KEY, None)"),
    # Counts and fixed words only (db.imports.batches.ImportResult.summary).
    ("pages/import.py", "result.summary()"),
    # A message the page built with escape_markdown before it reran.
    ("pages/purposes.py", "st.session_state.pop('purpose_saved', None)"),
}


@dataclass(frozen=True)
class Offence:
    path: str
    line: int
    element: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.value} reaches {self.element}() unescaped"


def sources() -> list[Path]:
    return [
        ROOT / "app.py",
        *sorted((ROOT / "pages").glob("*.py")),
        *sorted((ROOT / "components").glob("*.py")),
    ]


def called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.IfExp):  # (st.success if ok else st.warning)(text)
        func = func.body
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def receiver(node: ast.Call) -> str | None:
    target: ast.expr = node.func.body if isinstance(node.func, ast.IfExp) else node.func
    while isinstance(target, ast.Attribute | ast.Subscript | ast.Call):
        target = target.func if isinstance(target, ast.Call) else target.value
    return target.id if isinstance(target, ast.Name) else None


def keyword(node: ast.Call, *names: str) -> list[ast.expr]:
    return [k.value for k in node.keywords if k.arg in names]


def markdown_arguments(node: ast.Call) -> list[ast.expr]:
    """The arguments of a Streamlit call that Streamlit renders as markdown."""
    name = called(node)
    func = node.func.body if isinstance(node.func, ast.IfExp) else node.func
    if not isinstance(func, ast.Attribute) or receiver(node) in NOT_STREAMLIT:
        return []
    if name in BODIES:
        found = list(node.args) if name == "write" else node.args[:1]
        found += keyword(node, "body")
    elif name == "page_link":
        found = node.args[1:2] + keyword(node, "label")
    elif name == "progress":
        found = node.args[1:2] + keyword(node, "text")
    elif name == "spinner":
        found = node.args[:1] + keyword(node, "text")
    elif name == "tabs":
        found = node.args[:1] + keyword(node, "tabs")
    elif name in LABELLED:
        found = node.args[:1] + keyword(node, "label")
        if name in MARKDOWN_OPTIONS:  # these show their options as markdown too
            found += keyword(node, "captions")
            if not keyword(node, "format_func"):
                found += node.args[1:2] + keyword(node, "options")
            # Options shown through anything but a lambda the test can read, or a constant
            # table's lookup, cannot be checked: write them as a lambda.
            found += [
                f.body if isinstance(f, ast.Lambda) else lookup(f)
                for f in keyword(node, "format_func")
                if not (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id.isupper()
                )
                and not (isinstance(f, ast.Name) and f.id in {"str", HELPER})
            ]
    else:
        return []
    return found + keyword(node, "help")


def lookup(func: ast.expr) -> ast.expr:
    """What `table.__getitem__` shows: the table (whose values are then checked)."""
    if isinstance(func, ast.Attribute) and func.attr == "__getitem__":
        return func.value
    return func


def numeric_spec(spec: ast.JoinedStr | None) -> bool:
    text = "".join(
        str(v.value) for v in (spec.values if spec else []) if isinstance(v, ast.Constant)
    )
    return bool(text) and (text[-1] in "bdeEfFgGnoxX%" or "," in text or "%" in text)


class Module:
    """One source file: what its names are assigned, and what its own functions render."""

    def __init__(self, path: Path, root: Path = ROOT) -> None:
        self.path = path.relative_to(root).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        # Assignments and parameters per scope (the module, then each function), and the
        # innermost function around each call: a name means what its own scope assigned.
        self.assigned: dict[ast.AST, dict[str, list[ast.expr]]] = {}
        self.params: dict[ast.AST, set[str]] = {}
        self.scope_of: dict[ast.AST, ast.AST] = {}
        self._visit(self.tree, self.tree)
        self.scope: ast.AST = self.tree

    def _visit(self, node: ast.AST, scope: ast.AST) -> None:
        names = self.assigned.setdefault(scope, {})
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                args = child.args
                self.params[child] = {a.arg for a in [*args.args, *args.kwonlyargs]}
                self._visit(child, child)
                continue
            if isinstance(child, ast.Assign):
                for target in child.targets:
                    if isinstance(target, ast.Name):
                        names.setdefault(target.id, []).append(child.value)
            elif isinstance(child, ast.AnnAssign | ast.AugAssign) and child.value is not None:
                if isinstance(child.target, ast.Name):
                    names.setdefault(child.target.id, []).append(child.value)
            if isinstance(child, ast.Call):
                self.scope_of[child] = scope
            self._visit(child, scope)

    def values_of(self, name: str) -> list[ast.expr] | None:
        """What `name` is assigned in the current scope, or else at module level."""
        for scope in (self.scope, self.tree):
            if name in self.assigned.get(scope, {}):
                return self.assigned[scope][name]
        return None

    def unsafe(self, expr: ast.expr, depth: int = 0) -> list[ast.expr]:
        """The parts of a rendered argument that are values not escaped."""
        if isinstance(expr, ast.Constant):
            return []
        if isinstance(expr, ast.JoinedStr):
            return [
                bad
                for part in expr.values
                if isinstance(part, ast.FormattedValue)
                and not (part.conversion == -1 and numeric_spec(part.format_spec))  # type: ignore[arg-type]
                for bad in self.unsafe(part.value, depth + 1)
            ]
        if isinstance(expr, ast.BinOp):
            if isinstance(expr.op, ast.Add):
                return self.unsafe(expr.left, depth + 1) + self.unsafe(expr.right, depth + 1)
            if isinstance(expr.op, ast.Mod) and isinstance(expr.left, ast.Constant):
                right = expr.right
                parts = right.elts if isinstance(right, ast.Tuple) else [right]
                return [bad for part in parts for bad in self.unsafe(part, depth + 1)]
            return []  # arithmetic on numbers
        if isinstance(expr, ast.UnaryOp | ast.Compare):
            return []
        if isinstance(expr, ast.IfExp):
            return self.unsafe(expr.body, depth + 1) + self.unsafe(expr.orelse, depth + 1)
        if isinstance(expr, ast.BoolOp):
            return [bad for value in expr.values for bad in self.unsafe(value, depth + 1)]
        if isinstance(expr, ast.Dict):
            return [bad for value in expr.values for bad in self.unsafe(value, depth + 1)]
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            return [bad for element in expr.elts for bad in self.unsafe(element, depth + 1)]
        if isinstance(expr, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return self.unsafe(expr.elt, depth + 1)
        if isinstance(expr, ast.DictComp):  # labels by value: the labels are what is shown
            return self.unsafe(expr.value, depth + 1)
        if isinstance(expr, ast.Call):
            name = called(expr)
            if (self.path, ast.unparse(expr)) in REVIEWED:
                return []
            if name == HELPER or (isinstance(expr.func, ast.Name) and name in NUMERIC_CALLS):
                return []
            if isinstance(expr.func, ast.Name) and name == TRANSLATE and expr.args:
                # components.i18n.t: the code's own sentence in the visitor's language
                # (the message table is the code's own words); the values filled in are checked.
                parts = [*expr.args[1:], *(k.value for k in expr.keywords)]
                first = expr.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    parts.insert(0, first)
                return [bad for part in parts for bad in self.unsafe(part, depth + 1)]
            if isinstance(expr.func, ast.Attribute) and name in {"join", "format"}:
                parts = [*expr.args, *(k.value for k in expr.keywords)]
                return [bad for part in parts for bad in self.unsafe(part, depth + 1)]
            if isinstance(expr.func, ast.Attribute) and name in SAME_TEXT:
                return self.unsafe(expr.func.value, depth + 1)
            if name in {"str", "list", "sorted", "tuple"} and expr.args:
                return self.unsafe(expr.args[0], depth + 1)
            return [expr]
        if isinstance(expr, ast.Name):
            if expr.id.isupper() or expr.id in NOT_TYPED:
                return []
            values = self.values_of(expr.id)
            if values is not None and depth < 6:
                return [bad for value in values for bad in self.unsafe(value, depth + 1)]
            if depth == 0 and expr.id in self.params.get(self.scope, set()):
                return []  # checked where the function is called
            return [expr]
        if isinstance(expr, ast.Attribute) and expr.attr in NOT_TYPED:
            return []
        if isinstance(expr, ast.Attribute | ast.Subscript):
            root = expr
            while isinstance(root, ast.Attribute | ast.Subscript):
                root = root.value
            if isinstance(root, ast.Name) and root.id.isupper():
                return []  # a constant table of the code's own labels
            return [expr]
        if isinstance(expr, ast.Lambda):
            return self.unsafe(expr.body, depth + 1)
        return [expr]

    def renderers(self) -> dict[str, set[str | int]]:
        """Functions of this file whose parameters reach a markdown argument unchanged."""
        found: dict[str, set[str | int]] = {}
        for func in ast.walk(self.tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            params = [a.arg for a in func.args.args]
            every = params + [a.arg for a in func.args.kwonlyargs]
            for node in ast.walk(func):
                if not isinstance(node, ast.Call):
                    continue
                for argument in markdown_arguments(node):
                    if isinstance(argument, ast.Name) and argument.id in every:
                        slot = found.setdefault(func.name, set())
                        slot.add(argument.id)
                        if argument.id in params:
                            slot.add(params.index(argument.id))
        return found


def offences(modules: Iterable[Module]) -> Iterator[Offence]:
    modules = list(modules)
    renderers: dict[str, set[str | int]] = {}
    for module in modules:
        for name, slots in module.renderers().items():
            renderers.setdefault(name, set()).update(slots)
    for module in modules:
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.Call):
                continue
            arguments = markdown_arguments(node)
            name = called(node) or ""
            element = name
            if not arguments and name in renderers:
                slots = renderers[name]
                arguments = [a for i, a in enumerate(node.args) if i in slots]
                arguments += [k.value for k in node.keywords if k.arg in slots]
                element = f"{name} (which renders it)"
            module.scope = module.scope_of.get(node, module.tree)
            for argument in arguments:
                for bad in module.unsafe(argument):
                    yield Offence(module.path, node.lineno, element, ast.unparse(bad))


def test_every_value_put_into_markdown_goes_through_the_escaping_helper() -> None:
    found = sorted(
        set(offences(Module(path) for path in sources())), key=lambda o: (o.path, o.line, o.value)
    )
    assert not found, "escape with components.text.escape_markdown:\n" + "\n".join(
        str(o) for o in found
    )


def test_the_checker_catches_each_way_of_putting_a_value_into_markdown(tmp_path: Path) -> None:
    """The test above would pass on a checker that finds nothing: prove this one finds."""
    (tmp_path / "ui.py").write_text(
        "import streamlit as st\ndef attempt(action, *, success=None):\n    st.success(success)\n",
        encoding="utf-8",
    )
    (tmp_path / "page.py").write_text(
        "import streamlit as st\n"
        "st.title(contact.full_name)\n"
        "st.caption(f'Owner: {deal.owner}')\n"
        "st.markdown('**' + tag + '**')\n"
        "st.info('{} left'.format(name))\n"
        "st.write(', '.join(t for t in tags))\n"
        "st.page_link('pages/deal.py', label=card.title)\n"
        "st.tabs([f'{s.title}' for s in surveys])\n"
        "left.metric(f'{team} score', 3)\n"
        "label = f'Open {name}'\n"
        "st.button(label)\n"
        "attempt(go, success=f'Saved {deal.title}.')\n"
        "st.caption(f'{escape_markdown(name)} · {count:,} · {len(rows)} rows · {n:.0%}')\n"
        "st.caption(f'{HEADINGS[kind]}' + escape_markdown(tag))\n"
        "log.error(f'{name}')\n",
        encoding="utf-8",
    )
    modules = [Module(tmp_path / "ui.py", tmp_path), Module(tmp_path / "page.py", tmp_path)]
    found = sorted({(o.path, o.line) for o in offences(modules)})
    assert found == [("page.py", line) for line in (2, 3, 4, 5, 6, 7, 8, 9, 11, 12)]


HOSTILE = [
    "![x](https://evil.example/p.png)",
    "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    ":red[loud] :material/warning: $x^2$ ~~gone~~ | a | b |",
    "# heading\n- item\r\n> quote",
    "www.evil.example and a@evil.example and https://evil.example",
    "**bold** _em_ `code` \\* &amp; 1. {x} \"q\" 'q' %",
]


def test_the_helper_leaves_no_markdown_character_unescaped() -> None:
    for text in HOSTILE:
        escaped = escape_markdown(text)
        shown, backslash = [], False
        for char in escaped:
            if backslash:
                shown.append(char)
                backslash = False
            elif char == "\\":
                backslash = True
            else:
                assert char.isalnum() or char == " ", (char, text)
                shown.append(char)
        assert not backslash
        assert "".join(shown) == re.sub(r"[\r\n]+", " ", text)


def test_no_page_or_component_renders_raw_html() -> None:
    offences = []
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            raw = called(node) == "html" and receiver(node) == "st"
            raw = raw or any(
                k.arg == "unsafe_allow_html"
                and not (isinstance(k.value, ast.Constant) and not k.value.value)
                for k in node.keywords
            )
            if raw:
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offences, offences
