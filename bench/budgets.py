"""The performance budgets, checked against a run's records.

Pages: warm median ≤ 250 ms, cold median ≤ 1 s and the first visit after a change ≤ 1 s
at every scale measured. From the smallest scale to the largest, list, detail and timeline
pages may grow by 1.5× and aggregate pages by 3×. The duplicates page after 1 to 10
contacts changed: ≤ 2 s. Operator commands have budgets in seconds at scale 10.
"""

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

BUDGET_WARM_MS, BUDGET_COLD_MS, BUDGET_FIRST_MS = 250.0, 1000.0, 1000.0
# Pages whose first visit with the stored reports dropped recomputes a stored run from
# nothing, saying so with a progress bar; what a change costs them is measured by
# changing contacts and visiting (BUDGET_AFTER_CHANGES_MS), as a person meets it.
FIRST_VISIT_RECOMPUTES = frozenset({"pages/duplicates.py"})
BUDGET_AFTER_CHANGES_MS = 2000.0
LIST_PAGES_GROWTH, AGGREGATE_GROWTH = 1.5, 3.0
# Pages that summarise a whole table (or a period of it) rather than read a page of rows:
# the four the budget names, the later reports built the same way, and Home's dashboards.
AGGREGATE_PAGES = frozenset(
    {
        "app.py",
        "pages/forecast.py",
        "pages/case_insights.py",
        "pages/survey_results.py",
        "pages/consent_audit.py",
        "pages/outcomes.py",
        "pages/experience.py",
    }
)
# A difference smaller than this is run-to-run noise on a 2-core machine, not growth.
NOISE_MS = 25.0
# Seconds allowed at scale 10 (100k contacts, 1M consent events, a file of 100k rows).
COMMAND_BUDGETS_S = {"duplicates": 30.0, "consent-audit": 10.0, "import contacts": 30.0}
COMMAND_BUDGET_SCALE = 10.0
# Commands whose budget holds on PostgreSQL as well as on SQLite.
EVERY_DATABASE = frozenset({"import contacts"})


@dataclass(frozen=True)
class Growth:
    """How much one page's medians grew from the smallest to the largest scale."""

    page: str
    role: str
    from_scale: float
    to_scale: float
    cold_growth: float
    warm_growth: float
    limit: float
    over: bool


def page_over_budget(record: Mapping[str, Any]) -> bool:
    """True when a page record's warm or cold median, or its first visit, is over budget."""
    return (
        float(record["warm_ms"]) > BUDGET_WARM_MS
        or float(record["cold_ms"]) > BUDGET_COLD_MS
        or first_over_budget(record)
    )


def first_over_budget(record: Mapping[str, Any]) -> bool:
    """True when a page's first visit after a change took longer than a second."""
    if str(record["page"]) in FIRST_VISIT_RECOMPUTES:
        return False
    return float(record.get("first_ms") or 0.0) > BUDGET_FIRST_MS


def change_over_budget(record: Mapping[str, Any]) -> bool:
    """True when a visit after contacts changed failed or its median took over 2 s."""
    return bool(record.get("error")) or float(record["ms"]) > BUDGET_AFTER_CHANGES_MS


def _grew(small: float, large: float, limit: float) -> bool:
    return large > small * limit and large - small > NOISE_MS


def growth(pages: Iterable[Mapping[str, Any]]) -> list[Growth]:
    """Growth of every page and role measured at two or more scales."""
    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in pages:
        if not record.get("error"):
            by_key.setdefault((str(record["page"]), str(record["role"])), []).append(record)
    found = []
    for (page, role), records in sorted(by_key.items()):
        if len(records) < 2:
            continue
        ordered = sorted(records, key=lambda r: float(r["scale"]))
        small, large = ordered[0], ordered[-1]
        limit = AGGREGATE_GROWTH if page in AGGREGATE_PAGES else LIST_PAGES_GROWTH
        cold = (float(small["cold_ms"]), float(large["cold_ms"]))
        warm = (float(small["warm_ms"]), float(large["warm_ms"]))
        found.append(
            Growth(
                page=page,
                role=role,
                from_scale=float(small["scale"]),
                to_scale=float(large["scale"]),
                cold_growth=round(cold[1] / cold[0], 2) if cold[0] else 0.0,
                warm_growth=round(warm[1] / warm[0], 2) if warm[0] else 0.0,
                limit=limit,
                over=_grew(*cold, limit) or _grew(*warm, limit),
            )
        )
    return found


def command_over_budget(record: Mapping[str, Any]) -> bool:
    """True when an operator command failed, or took longer than its budget at scale 10
    on SQLite, or on any database for the commands budgeted on every database (other
    commands' times on other databases are reported, not judged)."""
    if not record.get("ok", True):
        return str(record.get("detail", "")) != "command not in this build"
    command = str(record["command"])
    budget = COMMAND_BUDGETS_S.get(command)
    if budget is None or float(record["scale"]) != COMMAND_BUDGET_SCALE:
        return False
    if str(record.get("database", "sqlite")) != "sqlite" and command not in EVERY_DATABASE:
        return False
    return float(record["seconds"]) > budget


def as_dicts(rows: Iterable[Growth]) -> list[dict[str, Any]]:
    """Plain dictionaries for the JSON report."""
    return [asdict(r) for r in rows]
