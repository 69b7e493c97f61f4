"""Attacks on two cuts applied together (department × tenure band, and so on).

The attacker sees every shown cell and every shown total of the cross table, and the
one-cut views beside it (departments alone, bands alone: the row and column totals).
They solve the linear system those figures give; a hidden group under the threshold
must never come out as a single value. The attacker's algebra (numpy's SVD null space)
is independent of the rule's own exact elimination.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from db.core.small_groups import hide_cross_cells, hide_small_groups

K = 5


def recovered(cells: dict[tuple[str, str], int], k: int) -> list[set[tuple[str, str]]]:
    """Every group under `k` whose count the attacker can compute from what is shown."""
    hidden, hidden_rows, hidden_columns = hide_cross_cells(cells, k)
    unknown = sorted(hidden)
    index = {cell: i for i, cell in enumerate(unknown)}
    rows = {r for r, _ in cells}
    columns = {c for _, c in cells}
    lines = [{c for c in cells if c[0] == r} for r in rows - hidden_rows]
    lines += [{c for c in cells if c[1] == col} for col in columns - hidden_columns]
    if sum(cells.values()) >= k:
        lines.append(set(cells))
    targets = [{cell} for cell, n in cells.items() if 0 < n < k]
    for r in hidden_rows:
        targets.append({c for c in cells if c[0] == r})
    for col in hidden_columns:
        targets.append({c for c in cells if c[1] == col})
    targets = [t for t in targets if 0 < sum(cells[c] for c in t) < k]
    if not unknown:
        return targets  # nothing hidden: any small group is plainly shown
    a = np.array(
        [[1.0 if c in line else 0.0 for c in unknown] for line in lines] or [[0.0] * len(unknown)]
    )
    _u, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]  # directions the shown figures cannot see
    out = []
    for target in targets:
        if not target <= set(hidden):
            out.append(target)  # shown outright
            continue
        goal = np.zeros(len(unknown))
        for cell in target:
            goal[index[cell]] = 1.0
        if null.size == 0 or np.allclose(null @ goal, 0.0, atol=1e-9):
            out.append(target)
    return out


def test_a_lone_small_cell_is_covered_in_its_row_and_column() -> None:
    cells = {
        ("Sales", "under 1 year"): 3,
        ("Sales", "2-5 years"): 12,
        ("Ops", "under 1 year"): 9,
        ("Ops", "2-5 years"): 14,
    }
    hidden, _rows, _columns = hide_cross_cells(cells, K)
    assert ("Sales", "under 1 year") in hidden
    assert len(hidden) >= 4 - 0  # a 2×2 with one small cell needs the whole rectangle
    assert recovered(cells, K) == []


def test_subtraction_across_both_cuts_fails() -> None:
    # The one-cut views show Sales = 20 and "under 1 year" = 11. Hiding only the small
    # cell and one cover per line would leave Sales/under-1 = 20 - 16 and a bridge.
    cells = {
        ("Sales", "under 1 year"): 2,
        ("Sales", "1-2 years"): 16,
        ("Sales", "5+ years"): 2,
        ("Ops", "under 1 year"): 9,
        ("Ops", "1-2 years"): 7,
        ("Ops", "5+ years"): 30,
        ("HR", "under 1 year"): 6,
        ("HR", "1-2 years"): 8,
        ("HR", "5+ years"): 11,
    }
    assert recovered(cells, K) == []


def test_one_cut_views_hide_what_the_table_hides() -> None:
    # Departments alone use the same rule as the table's row totals.
    cells = {("A", "x"): 4, ("A", "y"): 0, ("B", "x"): 6, ("B", "y"): 8, ("C", "y"): 7}
    cells = {c: n for c, n in cells.items() if n}
    _hidden, hidden_rows, _cols = hide_cross_cells(cells, K)
    assert set(hide_small_groups({"A": 4, "B": 14, "C": 7}, K)) == hidden_rows
    assert recovered(cells, K) == []


def test_a_shown_table_shows_big_cells() -> None:
    cells = {("A", "x"): 10, ("A", "y"): 7, ("B", "x"): 6, ("B", "y"): 8}
    hidden, hidden_rows, hidden_columns = hide_cross_cells(cells, K)
    assert hidden == {} and hidden_rows == set() and hidden_columns == set()


def test_a_too_small_survey_hides_everything() -> None:
    cells = {("A", "x"): 2, ("B", "y"): 1}
    hidden, hidden_rows, hidden_columns = hide_cross_cells(cells, K)
    assert set(hidden) == set(cells)
    assert hidden_rows == {"A", "B"} and hidden_columns == {"x", "y"}


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from("ABCD"), st.sampled_from("wxyz")),
        st.integers(min_value=1, max_value=15),
        min_size=1,
        max_size=16,
    )
)
def test_no_table_gives_a_small_group_away(cells: dict[tuple[str, str], int]) -> None:
    assert recovered(cells, K) == []
