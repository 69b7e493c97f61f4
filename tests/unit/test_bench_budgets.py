"""The benchmark's budget checks, on made-up records."""

from typing import Any

from bench.budgets import change_over_budget, command_over_budget, growth, page_over_budget
from bench.table import change_table, command_table, page_table


def page(
    path: str, scale: float, cold: float, warm: float, role: str = "manager"
) -> dict[str, Any]:
    return {"page": path, "role": role, "scale": scale, "cold_ms": cold, "warm_ms": warm}


def test_absolute_budgets_are_a_second_cold_and_a_quarter_second_warm() -> None:
    assert not page_over_budget(page("pages/deals.py", 10, 1000, 250))
    assert page_over_budget(page("pages/deals.py", 10, 1001, 10))
    assert page_over_budget(page("pages/deals.py", 10, 10, 251))


def test_list_pages_may_grow_half_again_and_aggregates_threefold() -> None:
    records = [
        page("pages/deals.py", 1, 100, 40),
        page("pages/deals.py", 10, 140, 70),  # warm 1.75x and 30 ms more: over
        page("pages/contacts.py", 1, 100, 10),
        page("pages/contacts.py", 10, 140, 20),  # 2x, but 10 ms is noise
        page("pages/forecast.py", 1, 200, 100),
        page("pages/forecast.py", 10, 590, 250),  # 2.95x and 2.5x: within 3x
        page("pages/case_insights.py", 1, 200, 50),
        page("pages/case_insights.py", 10, 700, 60),  # cold 3.5x: over
        page("pages/admin.py", 10, 100, 10),  # one scale only: no growth
    ]
    found = {(g.page, g.over) for g in growth(records)}
    assert found == {
        ("pages/deals.py", True),
        ("pages/contacts.py", False),
        ("pages/forecast.py", False),
        ("pages/case_insights.py", True),
    }
    deals = next(g for g in growth(records) if g.page == "pages/deals.py")
    assert (deals.warm_growth, deals.limit, deals.from_scale, deals.to_scale) == (1.75, 1.5, 1, 10)


def test_commands_have_budgets_in_seconds_at_scale_ten() -> None:
    def run(command: str, scale: float, seconds: float, ok: bool = True, detail: str = "") -> Any:
        return {"command": command, "scale": scale, "seconds": seconds, "ok": ok, "detail": detail}

    assert command_over_budget(run("consent-audit", 10, 10.5))
    assert not command_over_budget(run("consent-audit", 10, 9.9))
    assert not command_over_budget(run("consent-audit", 1, 12))  # budgets are at scale 10
    assert command_over_budget(run("import contacts", 10, 31))
    on_postgresql = {"database": "postgresql"}
    assert command_over_budget({**run("import contacts", 10, 52), **on_postgresql})
    assert not command_over_budget({**run("import contacts", 10, 29), **on_postgresql})
    assert not command_over_budget({**run("consent-audit", 10, 12), **on_postgresql})
    assert command_over_budget(run("duplicates", 1, 2, ok=False, detail="Traceback"))
    assert not command_over_budget(
        run("duplicates", 1, 0, ok=False, detail="command not in this build")
    )


def test_the_tables_put_scales_side_by_side_and_mark_what_is_over() -> None:
    records = [
        {**page("pages/deals.py", 1, 90, 20), "first_ms": 95.0},
        {**page("pages/deals.py", 10, 1200, 40), "first_ms": 1300.0},
    ]
    table = page_table(records).splitlines()
    assert table[0] == "| page | role | sqlite 1 | sqlite 10 |"
    assert table[2] == "| pages/deals.py | manager | 95 / 90 / 20 | 1300 / 1200 / 40 ⚠ |"
    commands = command_table(
        [
            {
                "command": "consent-audit",
                "scale": 10.0,
                "seconds": 4.0,
                "ok": True,
                "detail": "Wrote OUT/audit.json.",
                "runs_s": [9.5, 4.0, 3.7],
            }
        ]
    )
    assert (
        "| consent-audit | sqlite | 10 | 4.0 | 9.5, 4.0, 3.7 | Wrote OUT/audit.json. |" in commands
    )


def test_a_first_visit_over_a_second_is_over_budget_except_where_it_recomputes_a_stored_run() -> (
    None
):
    assert not page_over_budget({**page("pages/deals.py", 10, 500, 50), "first_ms": 1000.0})
    assert page_over_budget({**page("pages/experience.py", 10, 90, 20), "first_ms": 1224.0})
    # Its first visit recomputes every pair with a progress bar; its visits after
    # changes have their own budget.
    assert not page_over_budget({**page("pages/duplicates.py", 10, 130, 25), "first_ms": 11435.0})


def test_the_duplicates_page_after_contacts_changed_has_two_seconds() -> None:
    def after(changed: int, ms: float, error: str = "") -> dict[str, Any]:
        return {
            "page": "pages/duplicates.py",
            "role": "admin",
            "scale": 10.0,
            "changed": changed,
            "ms": ms,
            "runs_ms": [ms, ms + 100],
            "error": error,
        }

    assert not change_over_budget(after(10, 2000))
    assert change_over_budget(after(1, 2001))
    assert change_over_budget(after(1, 300, error="Traceback"))
    table = change_table([after(1, 900), after(10, 2500)]).splitlines()
    assert table[0] == "| page | role | database | scale | contacts changed | ms | runs |"
    assert table[2] == "| pages/duplicates.py | admin | sqlite | 10 | 1 | 900 | 900, 1000 |"
    assert table[3] == "| pages/duplicates.py | admin | sqlite | 10 | 10 | 2500 ⚠ | 2500, 2600 |"
