"""Which groups a report may show: the threshold plus suppression by subtraction.

Reports cut respondents along one tree only — the whole survey, then departments,
then teams within a department — so every pair of groups is either nested or
disjoint. Under a shown parent, the children hidden for being small are joined by
the next-smallest children until together they hold zero or at least `k`
respondents; a hidden group hides everything under it. Then each difference that
can be computed from shown numbers (a parent minus its shown children) is either
empty or at least `k` people, so no group under the threshold can be worked out.

The rule itself, and its form over time (`release_step`), are in db.core.small_groups,
which every report uses. Over time the same holds through releases: reports count only
released respondents, and a leaf's released count moves by `k` answers or more at once.
"""

from collections import defaultdict
from dataclasses import dataclass, replace

from db.core.small_groups import SMALL, hide_small_groups

ORG_KEY = "all"
PARENT = "hidden because the group it belongs to is hidden"


@dataclass(frozen=True)
class Group:
    """One group of respondents in the report tree."""

    key: str
    label: str
    level: int  # 0 the whole survey, 1 a department, 2 a team
    department: str | None
    team: str | None
    n: int
    shown: bool
    reason: str = ""


def department_key(department: str) -> str:
    """The key of a department group."""
    return f"d:{department}"


def team_key(department: str, team: str) -> str:
    """The key of a team group (teams are cut inside their department)."""
    return f"d:{department}/t:{team}"


def own_reason(n: int, k: int) -> str:
    """Why a group under a hidden parent is hidden: its own size first, if that is why."""
    return SMALL.format(k=k) if n < k else PARENT


def build_tree(counts: dict[tuple[str, str], int], k: int) -> list[Group]:
    """Groups for respondent counts per (department, team), each marked shown or hidden."""
    total = sum(counts.values())
    org_shown = total >= k
    groups = [
        Group(
            ORG_KEY,
            "Everyone",
            0,
            None,
            None,
            total,
            org_shown,
            "" if org_shown else SMALL.format(k=k),
        )
    ]
    by_department: dict[str, dict[str, int]] = defaultdict(dict)
    for (department, team), n in counts.items():
        by_department[department][team] = by_department[department].get(team, 0) + n
    department_counts = {d: sum(teams.values()) for d, teams in by_department.items()}
    hidden_departments = (
        hide_small_groups(department_counts, k)
        if org_shown
        else {d: own_reason(n, k) for d, n in department_counts.items()}
    )
    for department in sorted(by_department):
        d_shown = department not in hidden_departments
        groups.append(
            Group(
                department_key(department),
                department,
                1,
                department,
                None,
                department_counts[department],
                d_shown,
                hidden_departments.get(department, ""),
            )
        )
        teams = by_department[department]
        hidden_teams = (
            hide_small_groups(teams, k)
            if d_shown
            else {t: own_reason(n, k) for t, n in teams.items()}
        )
        for team in sorted(teams):
            groups.append(
                Group(
                    team_key(department, team),
                    team,
                    2,
                    department,
                    team,
                    teams[team],
                    team not in hidden_teams,
                    hidden_teams.get(team, ""),
                )
            )
    return groups


def keep_hidden(now: list[Group], before: list[Group]) -> list[Group]:
    """Groups of `now`, with every group hidden in `before` (or under one) still hidden.

    Counts only grow between two releases, so each family's hidden groups still hold
    none or at least `k`; without this, a group that covered a small sibling at one
    release and is shown at a later one would give the sibling away by subtraction.
    """
    hidden_before = {g.key: g.reason for g in before if not g.shown}
    kept: dict[str, Group] = {}
    result = []
    for group in now:  # parents come before their children
        parent = (
            None
            if group.level == 0
            else kept.get(ORG_KEY)
            if group.level == 1
            else kept.get(department_key(group.department or ""))
        )
        if group.shown and group.key in hidden_before:
            group = replace(group, shown=False, reason=hidden_before[group.key])
        elif group.shown and parent is not None and not parent.shown:
            group = replace(group, shown=False, reason=PARENT)
        kept[group.key] = group
        result.append(group)
    return result


def visible_to_team(groups: list[Group], team: str) -> list[Group]:
    """The groups a manager of `team` may look at (their team, in any department)."""
    return [g for g in groups if g.level == 2 and g.team == team]
