"""Which groups a report may show: the threshold plus suppression by subtraction.

Reports cut respondents along one tree only — the whole survey, then departments,
then teams within a department — so every pair of groups is either nested or
disjoint. Under a shown parent, the children hidden for being small are joined by
the next-smallest children until together they hold zero or at least `k`
respondents; a hidden group hides everything under it. Then each difference that
can be computed from shown numbers (a parent minus its shown children) is either
empty or at least `k` people, so no group under the threshold can be worked out.

Over time the same holds through releases (`release_step`): reports count only
released respondents, and a leaf's released count moves by `k` answers or more at once.
"""

from collections import defaultdict
from dataclasses import dataclass, replace

ORG_KEY = "all"
SMALL = "fewer than {k} responses"
COVER = "hidden so that a smaller group cannot be worked out by subtraction"
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


def hide_small_groups(counts: dict[str, int], k: int) -> dict[str, str]:
    """The small-group rule: which sibling groups to hide, and why.

    Groups under `k` are hidden, then the next-smallest siblings join them until the
    hidden ones together hold none or at least `k`, so a shown total minus the shown
    siblings never reveals a group under the threshold. Every report that shows counts
    of people side by side under a shown total uses this one function.
    """
    hidden = {name: SMALL.format(k=k) for name, n in counts.items() if n < k}
    visible = sorted((n, name) for name, n in counts.items() if name not in hidden)
    while 0 < sum(counts[name] for name in hidden) < k and visible:
        _n, name = visible.pop(0)
        hidden[name] = COVER
    return hidden


def release_step(
    released: dict[tuple[str, str], int], current: dict[tuple[str, str], int], k: int
) -> dict[tuple[str, str], int]:
    """The time rule: the counts per leaf that a new release of an open survey shows.

    A leaf (department, team) moves to its current count only once it has gained at
    least `k` answers since its last release; otherwise it keeps the released count.
    Every group is a union of leaves, so between any two views a group's count (and
    every figure summed over its answers) changes by nothing or by `k` answers or more:
    the same figure at two times never isolates fewer than `k` people.
    """
    leaves = set(released) | set(current)
    step: dict[tuple[str, str], int] = {}
    for leaf in leaves:
        before = released.get(leaf, 0)
        now = current.get(leaf, 0)
        step[leaf] = now if now - before >= k else before
    return {leaf: n for leaf, n in step.items() if n}


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
        else dict.fromkeys(department_counts, PARENT if total else SMALL.format(k=k))
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
        hidden_teams = hide_small_groups(teams, k) if d_shown else dict.fromkeys(teams, PARENT)
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
