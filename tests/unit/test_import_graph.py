"""The shape of the house: no import cycles, no borrowed private names, areas depend downward.

Builds the import graph of db/, components/, pages/ (and the entry points) with `ast`,
so a new cycle or a reach into another module's `_private` name fails here, by name.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("db", "components", "pages", "bench", "api")
ENTRY_POINTS = ("app.py", "manage.py")


def module_name(path: Path) -> str:
    """`db/people/contacts.py` → `db.people.contacts`; a package's `__init__` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    """Every Python file of the app, migrations excepted (Alembic loads those by path)."""
    files = [ROOT / name for name in ENTRY_POINTS]
    for package in PACKAGES:
        files += [
            path
            for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.relative_to(ROOT).parts
        ]
    return files


MODULES = {module_name(path): path for path in source_files()}


def resolve(name: str) -> str | None:
    """The app module `name` refers to (a module, or the package holding a name), if any."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path) -> list[tuple[str, str | None, int, bool]]:
    """(module, imported name or None, line, at top level) for every import of app code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, str | None, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if resolve(alias.name):
                    found.append((alias.name, None, node.lineno, id(node) in top_level))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in MODULES:  # `from db.people.contacts import contacts`: the module
                    found.append((target, None, node.lineno, id(node) in top_level))
                elif resolve(node.module):
                    found.append((node.module, alias.name, node.lineno, id(node) in top_level))
    return found


def graph() -> dict[str, set[str]]:
    """Module → the app modules it imports, at its top or inside a function alike: an
    import deferred into a function to dodge a cycle is still a cycle of the design."""
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for target, _name, _line, _top in imports_of(path):
            resolved = resolve(target)
            if resolved and resolved != name:
                edges[name].add(resolved)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {n for targets in edges.values() for n in targets}):
        if node not in index:
            visit(node)
    return found


def test_the_app_has_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_no_module_imports_another_modules_private_names() -> None:
    borrowed = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target}.{imported}"
        for name, path in MODULES.items()
        for target, imported, line, _top in imports_of(path)
        if imported and imported.startswith("_") and resolve(target) != name
    ]
    assert borrowed == []


def test_a_cycle_is_found_and_named() -> None:
    """The detector itself works: a made-up cycle is reported with its members."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The areas of db/, lowest first: each may import only those before it (and db.models,
# which every area shares). db.wiring sits above them all and connects them; db.demo builds
# the demo world from every area. Siblings are ordered too, so that two areas never lean
# on each other: a need in the other direction goes through a hook in db/wiring.py.
LAYERS = (
    "core",
    "auth",
    "people",
    "consent",
    "pipeline",
    "cases",
    "duplicates",
    "surveys",
    "imports",
    "integrations",
    "experience",
    "demo",
)


def area_of(module: str) -> str | None:
    """`db.people.contacts` → `people`; None for modules outside the layered areas."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "db" or parts[1] not in LAYERS:
        return None
    return parts[1]


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    """Every import of an area's module into an area at its level or above it."""
    found = []
    for source, targets in edges.items():
        here = area_of(source)
        for target in targets:
            there = area_of(target)
            if here and there and there != here and LAYERS.index(there) > LAYERS.index(here):
                found.append(f"{source} imports {target} ({here} may not import {there})")
    return sorted(found)


def test_every_area_of_db_is_a_package_in_the_layers() -> None:
    packages = {p.name for p in (ROOT / "db").iterdir() if (p / "__init__.py").exists()}
    assert packages - {"models", "migrations"} == set(LAYERS)
    assert {p.name for p in (ROOT / "db").glob("*.py")} == {"__init__.py", "wiring.py"}


def test_areas_depend_downward_only() -> None:
    assert upward_imports(graph()) == []


def test_an_upward_import_is_found_and_named() -> None:
    edges = {"db.people.interactions": {"db.pipeline.commands", "db.core.errors"}}
    assert upward_imports(edges) == [
        "db.people.interactions imports db.pipeline.commands (people may not import pipeline)"
    ]
