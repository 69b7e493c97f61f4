"""python -m bench [--scales 1,10] [--runs 7] [--json OUT.json] [--pages SUBSTRING]
[--no-pages] [--no-commands] [--commands SUBSTRING] [--no-changes] [--postgres URL]."""

import argparse
import json
import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

os.environ.setdefault("RAPPORT_COOKIE_KEY", "bench-" + "k" * 40)

from bench.budgets import (  # noqa: E402
    as_dicts,
    change_over_budget,
    command_over_budget,
    growth,
    page_over_budget,
)
from bench.runner import (  # noqa: E402
    CHANGES_PAGE,
    as_records,
    bench_changes,
    bench_commands,
    bench_pages,
    database_for,
    peak_memory_mb,
)


def _commands(url: str, scale: float, database: str, only: str) -> list[dict[str, object]]:
    """The operator commands' records at one scale on one database."""
    with tempfile.TemporaryDirectory() as workdir:
        return [
            {**r.__dict__, "database": database}
            for r in bench_commands(url, scale, Path(workdir), lambda c: only in c)
        ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; write JSON when asked."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scales", default="1", help="comma-separated scale factors")
    parser.add_argument("--runs", type=int, default=7, help="runs per page, cold and warm")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--pages", default="", help="only pages whose path contains this")
    parser.add_argument("--no-pages", action="store_true", help="skip the pages")
    parser.add_argument("--no-commands", action="store_true", help="skip operator commands")
    parser.add_argument(
        "--no-changes",
        action="store_true",
        help="skip timing the duplicates page after contacts changed",
    )
    parser.add_argument("--commands", default="", help="only commands whose name contains this")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run the operator commands on this PostgreSQL database (one scale; the "
        "world is built there the first time), so both databases are reported",
    )
    args = parser.parse_args(argv)
    base_url = os.environ.get("RAPPORT_DATABASE_URL") or None
    database = make_url(base_url).get_backend_name() if base_url else "sqlite"
    scales = [float(s) for s in args.scales.split(",") if s.strip()]
    if (base_url or args.postgres) and len(scales) > 1:
        parser.error("with RAPPORT_DATABASE_URL or --postgres set, run one scale at a time")
    pages: list[dict[str, object]] = []
    commands: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    for scale in scales:
        url = database_for(scale, base_url)
        doing = "operator commands" if args.no_pages else f"{args.runs} runs per page"
        print(f"\nScale {scale:g}: {doing}", flush=True)
        if not args.no_pages:
            results = bench_pages(url, scale, args.runs, lambda p: args.pages in p)
            pages.extend(as_records(results))
            if not args.no_changes and args.pages in CHANGES_PAGE:
                with tempfile.TemporaryDirectory() as workdir:
                    changes.extend(
                        {**r, "database": database}
                        for r in as_records(bench_changes(url, scale, Path(workdir)))
                    )
        if not args.no_commands:
            commands.extend(_commands(url, scale, database, args.commands))
    if args.postgres and not args.no_commands:
        scale = scales[0]
        print(f"\nScale {scale:g} on PostgreSQL: operator commands", flush=True)
        url = database_for(scale, args.postgres)
        commands.extend(_commands(url, scale, make_url(url).get_backend_name(), args.commands))
    memory = peak_memory_mb()
    over = [p for p in pages if page_over_budget(p)]
    grown = growth(pages)
    print(f"\nPeak memory: {memory} MB. Pages over budget: {len(over)} of {len(pages)}.")
    for p in over:
        print(
            f"  over budget: {p['page']} ({p['role']}) at scale {p['scale']}: "
            f"first {p['first_ms']} ms, cold {p['cold_ms']} ms, warm {p['warm_ms']} ms"
        )
    for c in changes:
        if change_over_budget(c):
            print(
                f"  over budget: {c['page']} ({c['role']}) at scale {c['scale']} after "
                f"{c['changed']} contacts changed: {c['ms']} ms {c['error']}"
            )
    if grown:
        print(f"Growth over the limit: {sum(g.over for g in grown)} of {len(grown)}.")
    for g in grown:
        if g.over:
            print(
                f"  grew: {g.page} ({g.role}) from scale {g.from_scale:g} to {g.to_scale:g}: "
                f"cold {g.cold_growth}x, warm {g.warm_growth}x (limit {g.limit}x)"
            )
    for c in commands:
        if command_over_budget(c):
            print(
                f"  command over budget: manage.py {c['command']} at scale {c['scale']} "
                f"on {c['database']}: {c['seconds']} s ({c['detail']})"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "database": database,
                    "pages": pages,
                    "growth": as_dicts(grown),
                    "changes": changes,
                    "commands": commands,
                    "peak_memory_mb": memory,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        print(f"Wrote {args.json}")
    errors = [p for p in pages + changes if p["error"]]
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
