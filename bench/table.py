"""Markdown tables from benchmark JSON: python -m bench.table RESULTS.json [MORE.json …].

One row per page and role, with first/cold/warm medians at every scale the files hold,
then the duplicates page after contacts changed, then the operator commands.
`bench/README.md` carries the tables of the last full run.
"""

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.budgets import change_over_budget, command_over_budget, page_over_budget


def _load(paths: Iterable[Path]) -> dict[str, list[dict[str, Any]]]:
    """Every page, change and command record, each marked with the database it ran on."""
    found: dict[str, list[dict[str, Any]]] = {"pages": [], "changes": [], "commands": []}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        database = str(data.get("database", "sqlite"))
        for kind, records in found.items():
            # A run with --postgres holds both databases' commands, each record marked.
            records.extend({"database": database, **r} for r in data.get(kind, []))
    return found


def _column(record: Mapping[str, Any]) -> tuple[str, float]:
    return str(record.get("database", "sqlite")), float(record["scale"])


def _cell(record: Mapping[str, Any] | None) -> str:
    if record is None:
        return ""
    mark = " ⚠" if page_over_budget(record) else ""
    first = record.get("first_ms")
    parts = [
        f"{first:.0f}" if first else "–",
        f"{record['cold_ms']:.0f}",
        f"{record['warm_ms']:.0f}",
    ]
    return " / ".join(parts) + mark


def page_table(pages: list[dict[str, Any]]) -> str:
    """Pages × scales: first / cold / warm medians in ms (⚠ over budget)."""
    columns = sorted({_column(p) for p in pages}, key=lambda c: (c[0] != "sqlite", c))
    by_key: dict[tuple[str, str], dict[tuple[str, float], dict[str, Any]]] = {}
    for record in pages:
        key = (str(record["page"]), str(record["role"]))
        by_key.setdefault(key, {})[_column(record)] = record
    names = " | ".join(f"{database} {scale:g}" for database, scale in columns)
    lines = [
        f"| page | role | {names} |",
        "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for (page, role), by_column in by_key.items():
        cells = " | ".join(_cell(by_column.get(c)) for c in columns)
        lines.append(f"| {page} | {role} | {cells} |")
    return "\n".join(lines)


def _markdown(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def command_table(commands: list[dict[str, Any]]) -> str:
    """Operator commands: median seconds, every run, and the command's last line."""
    return _markdown(
        ("command", "database", "scale", "seconds", "runs", "result"),
        (
            (
                c["command"],
                c.get("database", "sqlite"),
                f"{c['scale']:g}",
                f"{c['seconds']:.1f}" + (" ⚠" if command_over_budget(c) else ""),
                ", ".join(f"{t:.1f}" for t in c.get("runs_s") or [c["seconds"]]),
                str(c.get("detail", ""))[:60],
            )
            for c in commands
        ),
    )


def change_table(changes: list[dict[str, Any]]) -> str:
    """The duplicates page after contacts changed: median ms and every run (⚠ over 2 s)."""
    return _markdown(
        ("page", "role", "database", "scale", "contacts changed", "ms", "runs"),
        (
            (
                c["page"],
                c["role"],
                c.get("database", "sqlite"),
                f"{c['scale']:g}",
                c["changed"],
                f"{c['ms']:.0f}" + (" ⚠" if change_over_budget(c) else ""),
                ", ".join(f"{t:.0f}" for t in c.get("runs_ms") or [c["ms"]]),
            )
            for c in changes
        ),
    )


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.table", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    found = _load(args.files)
    print("Cells are first / cold / warm medians in ms; ⚠ marks a page over budget.\n")
    print(page_table(found["pages"]))
    if found["changes"]:
        print()
        print(change_table(found["changes"]))
    if found["commands"]:
        print()
        print(command_table(found["commands"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
