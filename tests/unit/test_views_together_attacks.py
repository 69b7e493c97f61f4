"""Attacks on every cut view at once: one cut, two cuts together, and the department view.

The attacker holds every figure any view shows and knows which people-cells each group
holds. They try every set of cells with fewer than the threshold of people (above none)
and solve for it from the shown figures (numpy's SVD null space, independent of the
rule's own Gram-Schmidt): no such set may come out.
"""

from itertools import combinations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from db.core.small_groups import COVER, SMALL, hide_across_views, hide_small_groups

K = 5
Cell = tuple[str, str, str]


def views(counts: dict[Cell, int]) -> tuple[dict[str, frozenset[Cell]], list[str]]:
    """The department view (fixed, by the tree's rule), one-cut and two-cut groups."""
    cells = list(counts)
    departments = {d: sum(n for c, n in counts.items() if c[0] == d) for d, _b, _l in cells}
    groups: dict[str, frozenset[Cell]] = {"all": frozenset(cells)}
    for d in departments:
        groups[f"d:{d}"] = frozenset(c for c in cells if c[0] == d)
    fixed = []
    if sum(counts.values()) >= K:  # as the department view decides (build_tree)
        hidden_departments = hide_small_groups(departments, K)
        fixed = ["all", *(f"d:{d}" for d in departments if d not in hidden_departments)]
    bands = sorted({c[1] for c in cells})
    places = sorted({c[2] for c in cells})
    for b in bands:
        groups[f"b:{b}"] = frozenset(c for c in cells if c[1] == b)
    for p in places:
        groups[f"l:{p}"] = frozenset(c for c in cells if c[2] == p)
    for b in bands:
        for p in places:
            groups[f"b:{b}×l:{p}"] = frozenset(c for c in cells if c[1:] == (b, p))
    for d in departments:
        for b in bands:
            groups[f"d:{d}×b:{b}"] = frozenset(c for c in cells if c[:2] == (d, b))
    return {n: g for n, g in groups.items() if g}, fixed


def recovered(counts: dict[Cell, int]) -> list[tuple[Cell, ...]]:
    groups, fixed = views(counts)
    sensitive = [n for n in groups if n in ("all",) or n.startswith("d:") if n not in fixed]
    hidden = hide_across_views(counts, groups, K, shown_already=fixed)
    shown = [n for n in groups if n not in hidden and n not in sensitive]
    cells = sorted(counts)
    a = np.array(
        [[1.0 if c in groups[n] else 0.0 for c in cells] for n in shown] or [[0.0] * len(cells)]
    )
    _u, s, vt = np.linalg.svd(a)
    null = vt[int((s > 1e-9).sum()) :]
    found = []
    for size in range(1, len(cells) + 1):
        for subset in combinations(cells, size):
            if not 0 < sum(counts[c] for c in subset) < K:
                continue
            goal = np.array([1.0 if c in subset else 0.0 for c in cells])
            if null.size == 0 or np.allclose(null @ goal, 0.0, atol=1e-9):
                found.append(subset)
    return found


def test_a_small_cell_of_a_two_cut_view_cannot_be_worked_out_from_the_one_cut_views() -> None:
    counts = {
        ("Sales", "under 1 year", "Leeds"): 2,
        ("Sales", "2-5 years", "Leeds"): 9,
        ("Sales", "2-5 years", "York"): 7,
        ("Ops", "under 1 year", "York"): 8,
        ("Ops", "2-5 years", "Leeds"): 6,
    }
    groups, fixed = views(counts)
    hidden = hide_across_views(counts, groups, K, shown_already=fixed)
    assert hidden["b:under 1 year×l:Leeds"] == SMALL.format(k=K)
    assert COVER in hidden.values()
    assert recovered(counts) == []


def test_a_view_with_only_big_groups_hides_nothing() -> None:
    counts = {("A", "x", "p"): 6, ("A", "y", "q"): 7, ("B", "x", "q"): 8, ("B", "y", "p"): 9}
    groups, fixed = views(counts)
    hidden = hide_across_views(counts, groups, K, shown_already=fixed)
    assert {n for n, why in hidden.items() if why == SMALL.format(k=K)} == set()
    assert recovered(counts) == []


def test_without_the_cover_a_one_cut_minus_a_two_cut_view_gives_a_person_away() -> None:
    # The attack the rule stops: Leeds (11) minus Leeds × 2-5 years (9) is 2 people.
    counts = {("Sales", "under 1 year", "Leeds"): 2, ("Sales", "2-5 years", "Leeds"): 9}
    counts |= {("Ops", "2-5 years", "York"): 12}
    groups, fixed = views(counts)
    hidden = hide_across_views(counts, groups, K, shown_already=fixed)
    assert not {"l:Leeds", "b:2-5 years×l:Leeds"} - set(hidden) or hidden
    assert recovered(counts) == []
    naive = {n for n, g in groups.items() if sum(counts[c] for c in g) < K}
    assert "l:Leeds" not in naive and "b:2-5 years×l:Leeds" not in naive


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.tuples(
            st.sampled_from(["Sales", "Ops", "Care"]),
            st.sampled_from(["under 1 year", "1-2 years", "5+ years"]),
            st.sampled_from(["Leeds", "York"]),
        ),
        st.integers(min_value=1, max_value=12),
        min_size=1,
        max_size=10,
    )
)
def test_no_combination_of_views_gives_a_small_group_away(counts: dict[Cell, int]) -> None:
    assert recovered(counts) == []
