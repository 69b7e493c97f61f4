"""The small-group rule, in one place: the threshold and the cover against subtraction.

Every report that shows counts of people (survey results and comments, case insights,
customer feedback, team outcomes) hides groups smaller than its threshold with
`hide_small_groups`, and a report that is read again as answers arrive moves only in
steps of the threshold (`release_step`). Views that cut the same people several ways
at once (tenure band, location, manager, alone or two together, beside the department
view) go through `hide_across_views`.
Imports nothing of Rapport.
"""

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np

SMALL = "fewer than {k} responses"
COVER = "hidden so that a smaller group cannot be worked out by subtraction"
# Case insights' threshold: no figure about fewer cases is shown or derivable. Cases are
# counted per category and month, where a few already identify a reporter.
CASE_MIN_GROUP = 3


def threshold_note(k: int, what: str) -> str:
    """The sentence a report shows about its threshold, from the threshold it applies."""
    return (
        f"Figures about fewer than {k} {what} are withheld, and so is any figure that "
        "would let one be worked out by subtraction."
    )


def big_enough(n: int, k: int) -> bool:
    """The threshold: a figure about `n` people may stand on its own when `n` reaches `k`.

    For a single figure with no siblings beside it (an audience's size, the answered
    count of a whole survey); figures shown side by side go through `hide_small_groups`.
    """
    return n >= k


def hide_small_groups(counts: dict[str, int], k: int) -> dict[str, str]:
    """The small-group rule: which sibling groups to hide, and why.

    Groups under `k` are hidden, then the next-smallest siblings join them until the
    hidden ones together hold none or at least `k`, so a shown total minus the shown
    siblings never reveals a group under the threshold. Every report that shows counts
    of people side by side under a shown total uses this one function.
    """
    hidden = {name: SMALL.format(k=k) for name, n in counts.items() if not big_enough(n, k)}
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


Cell = tuple[str, str]


def _rank(rows: list[list[int]]) -> int:
    """The exact rank of a small integer matrix (Gaussian elimination over fractions)."""
    from fractions import Fraction

    matrix = [[Fraction(v) for v in row] for row in rows if any(row)]
    rank = 0
    width = len(matrix[0]) if matrix else 0
    for column in range(width):
        pivot = next((i for i in range(rank, len(matrix)) if matrix[i][column]), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for i in range(len(matrix)):
            if i != rank and matrix[i][column]:
                factor = matrix[i][column] / matrix[rank][column]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank], strict=True)]
        rank += 1
    return rank


def derivable(hidden: set[Cell], shown_lines: list[set[Cell]], target: set[Cell]) -> bool:
    """True when the sum over `target` follows from the shown figures by linear algebra.

    Every shown line (a row total, a column total, the grand total) is one equation over
    the hidden cells it holds (its shown cells are known). The attacker knows the sum
    over `target` exactly when that sum is a combination of the equations.
    """
    unknown = sorted(hidden)
    if not target & hidden:
        return True
    equations = [[1 if c in line else 0 for c in unknown] for line in shown_lines]
    goal = [1 if c in target else 0 for c in unknown]
    return _rank([*equations, goal]) == _rank(equations)


def hide_cross_cells(cells: dict[Cell, int], k: int) -> tuple[dict[Cell, str], set[str], set[str]]:
    """The small-group rule for two cuts applied together (rows × columns of a table).

    Returns the hidden cells (with why), the hidden row totals and the hidden column
    totals. Row and column totals go through `hide_small_groups`, as the one-cut views
    do; in each shown row and column the hidden cells are covered the same way; then,
    while any group under `k` (a cell, a hidden row or a hidden column) can still be
    worked out from every shown total and cell together, the smallest shown cell beside
    it is hidden too. So no combination of the table's figures, nor of the one-cut views
    beside it, gives a group under the threshold.
    """
    rows: dict[str, int] = {}
    columns: dict[str, int] = {}
    for (r, c), n in cells.items():
        rows[r] = rows.get(r, 0) + n
        columns[c] = columns.get(c, 0) + n
    total = sum(cells.values())
    hidden_rows = set(hide_small_groups(rows, k)) if big_enough(total, k) else set(rows)
    hidden_columns = set(hide_small_groups(columns, k)) if big_enough(total, k) else set(columns)
    hidden: dict[Cell, str] = {
        cell: (SMALL.format(k=k) if not big_enough(n, k) else COVER)
        for cell, n in cells.items()
        if not big_enough(n, k) or cell[0] in hidden_rows or cell[1] in hidden_columns
    }

    def lines() -> list[set[Cell]]:
        found = [{cell for cell in cells if cell[0] == r} for r in rows if r not in hidden_rows]
        found += [
            {cell for cell in cells if cell[1] == c} for c in columns if c not in hidden_columns
        ]
        if big_enough(total, k):
            found.append(set(cells))
        return found

    def sensitive() -> list[set[Cell]]:
        groups = [{cell} for cell, n in cells.items() if 0 < n < k]
        groups += [{cell for cell in cells if cell[0] == r} for r in hidden_rows if rows[r] < k]
        groups += [
            {cell for cell in cells if cell[1] == c} for c in hidden_columns if columns[c] < k
        ]
        return groups

    while True:
        shown_lines = lines()
        exposed = next((g for g in sensitive() if derivable(set(hidden), shown_lines, g)), None)
        if exposed is None:
            return hidden, hidden_rows, hidden_columns
        near = {r for r, _ in exposed}, {c for _, c in exposed}
        candidates = sorted(
            (n, cell)
            for cell, n in cells.items()
            if cell not in hidden and (cell[0] in near[0] or cell[1] in near[1])
        )
        if not candidates:
            candidates = sorted((n, cell) for cell, n in cells.items() if cell not in hidden)
        if not candidates:  # every cell hidden and a total still gives a group away
            return hidden, set(rows), set(columns)
        hidden[candidates[0][1]] = COVER


# Unions of small atoms checked per step; past this the group is not shown (the rule
# cannot vouch for it, so it withholds it).
UNIONS_CHECKED = 4000
_EPS = 1e-7


def hide_across_views(
    counts: Mapping[Hashable, int],
    groups: Mapping[str, frozenset[Hashable]],
    k: int,
    *,
    shown_already: Iterable[str] = (),
) -> dict[str, str]:
    """The small-group rule for many views at once: which groups to hide, and why.

    `counts` holds the people per finest cell (a combination of every cut); each group
    is a set of cells, and every view (one cut, two cuts together, the department view
    in `shown_already`) shows some of them. Groups under `k` are hidden; the others are
    taken in the order given and each is shown only if, with every figure shown before
    it, no set of fewer than `k` people (above none) can be worked out by adding and
    subtracting shown figures. That is complementary suppression across every view:
    a one-cut view minus a two-cut view, either minus the department view, and so on.

    Why the check is complete: every sum the shown figures give is constant on the
    "atoms" (cells that every shown group holds both or neither of), so a small set of
    people that can be worked out is a union of atoms each under `k`; every such union
    is tried.
    """
    # Cells that every group holds both or neither of are one cell to every view: merged,
    # they make the algebra smaller and change nothing that can be worked out.
    names = list(groups)
    member: dict[Hashable, list[int]] = {c: [] for c, n in counts.items() if n > 0}
    for g, name in enumerate(names):
        for c in groups[name]:
            if c in member:
                member[c].append(g)
    merged: dict[tuple[int, ...], int] = {}
    for c, where in member.items():
        merged[tuple(where)] = merged.get(tuple(where), 0) + counts[c]
    cells = sorted(merged)
    sizes = np.array([merged[c] for c in cells], dtype=float)
    by_group: dict[str, list[int]] = {name: [] for name in names}
    for i, signature in enumerate(cells):
        for g in signature:
            by_group[names[g]].append(i)
    width = len(cells)
    basis = np.zeros((0, width))
    atoms = np.zeros(width, dtype=np.int64)
    # Per atom: the part of its indicator the shown figures cannot see (its residual).
    residuals = np.ones((1, width)) if width else np.zeros((0, 0))

    def vector(name: str) -> Any:
        v = np.zeros(width)
        v[by_group[name]] = 1.0
        return v

    def direction(base: Any, v: Any) -> Any:
        """The new direction `v` adds to the shown figures, or None if it adds none."""
        r = v - base.T @ (base @ v)
        r = r - base.T @ (base @ r)  # twice, so rounding does not pile up
        norm = float(np.linalg.norm(r))
        return None if norm < _EPS else r / norm

    def split(base: Any, ids: Any, res: Any, v: Any, q: Any) -> tuple[Any, Any, Any]:
        """Atoms refined by `v`, with their residuals once `q` joins the basis."""
        pairs, new = np.unique(np.stack([ids, v.astype(np.int64)]), axis=1, return_inverse=True)
        new = new.reshape(-1)
        parents = pairs[0]
        moved = res - np.outer(res @ q, q)
        out = moved[parents]
        halves = np.flatnonzero(np.bincount(parents)[parents] > 1)
        for j in halves:
            if pairs[1][j]:  # the half inside `v`: worked out afresh; the other is the rest
                inside = (new == j).astype(float)
                fresh = inside - base.T @ (base @ inside)
                fresh = fresh - np.dot(fresh, q) * q
                out[j] = fresh
                partner = next(i for i in halves if parents[i] == parents[j] and i != j)
                out[partner] = moved[parents[j]] - fresh
        return np.vstack([base, q]), new, out

    def exposes(ids: Any, res: Any) -> bool:
        people_of = np.bincount(ids, weights=sizes)
        small = sorted((int(n), a) for a, n in enumerate(people_of) if n < k)
        # Depth first over unions under `k`, smallest atoms first: a branch stops as soon
        # as its people reach `k`, so only the unions that matter are ever formed.
        tried = 0
        stack: list[tuple[int, int, Any]] = [(0, 0, np.zeros(width))]
        while stack:
            begin, total, summed = stack.pop()
            for i in range(begin, len(small)):
                n, atom = small[i]
                if total + n >= k:
                    break  # sorted: every later atom is at least as big
                tried += 1
                if tried > UNIONS_CHECKED:
                    return True
                union = summed + res[atom]
                if np.abs(union).max() < _EPS:
                    return True
                stack.append((i + 1, total + n, union))
        return False

    def add(v: Any) -> tuple[Any, Any, Any] | None:
        q = direction(basis, v)
        return None if q is None else split(basis, atoms, residuals, v, q)

    for name in shown_already:
        step = add(vector(name))
        if step is not None:
            basis, atoms, residuals = step
    already = set(shown_already)
    hidden: dict[str, str] = {}
    for name in groups:
        if name in already:
            continue
        v = vector(name)
        if not big_enough(int(v @ sizes), k):
            if v.any():
                hidden[name] = SMALL.format(k=k)
            continue
        step = add(v)
        if step is None:
            continue  # already follows from what is shown: showing it tells nothing new
        if exposes(step[1], step[2]):
            hidden[name] = COVER
        else:
            basis, atoms, residuals = step
    return hidden
