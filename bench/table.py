"""Markdown tables from benchmark JSON: python -m bench.table RESULTS.json [MORE.json …].

One row per page and role, with first/cold/warm medians at every scale the files hold,
then the operator commands. `bench/README.md` carries the tables of the last full run.
"""

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.budgets import command_over_budget, page_over_budget


def _load(paths: Iterable[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page and command record, each marked with the database it ran on."""
    pages: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        database = str(data.get("database", "sqlite"))
        pages.extend({**p, "database": database} for p in data.get("pages", []))
        # A run with --postgres holds both databases' commands, each record marked.
        commands.extend({"database": database, **c} for c in data.get("commands", []))
    return pages, commands


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


def command_table(commands: list[dict[str, Any]]) -> str:
    """Operator commands: median seconds, every run, and the command's last line."""
    lines = [
        "| command | database | scale | seconds | runs | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in commands:
        runs = ", ".join(f"{t:.1f}" for t in c.get("runs_s") or [c["seconds"]])
        mark = " ⚠" if command_over_budget(c) else ""
        lines.append(
            f"| {c['command']} | {c.get('database', 'sqlite')} | {c['scale']:g} | "
            f"{c['seconds']:.1f}{mark} | {runs} | {str(c.get('detail', ''))[:60]} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.table", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    pages, commands = _load(args.files)
    print("Cells are first / cold / warm medians in ms; ⚠ marks a page over budget.\n")
    print(page_table(pages))
    if commands:
        print()
        print(command_table(commands))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
