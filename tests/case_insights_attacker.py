"""A linear attacker on the Case insights page: every shown figure is an equation.

The attacker knows the calendar, reads every figure of every period × grouping choice
of one release, writes each as a sum over (category, month) cells (an empty cell the
page leaves out is a known zero), and asks which withheld figures those equations
determine exactly: a withheld figure is derivable when its vector lies in the span of
the shown ones (any subtraction, of any figures, any number of times).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from db.cases.insights import (
    GRANULARITIES,
    WINDOWS,
    CategoryFigures,
    OutcomeCount,
    VolumeCell,
    months_between,
    window_start,
)

VIEWS = [(months, granularity) for months in WINDOWS for granularity in GRANULARITIES]


def period_of(month: str, granularity: str) -> str:
    """The label of the month's period at a grouping, as the page writes it."""
    if granularity == "month":
        return month
    if granularity == "quarter":
        return f"{month[:4]}-Q{(int(month[5:]) + 2) // 3}"
    return month[:4]


@dataclass
class Equations:
    """Known sums over atoms, and the withheld sums the attacker would like to know."""

    atoms: list[tuple[str, str]]
    known: list[np.ndarray]
    wanted: list[tuple[str, np.ndarray]]

    def __post_init__(self) -> None:
        self.index = {a: i for i, a in enumerate(self.atoms)}

    def vector(self, cells: Iterable[tuple[str, str]]) -> np.ndarray:
        v = np.zeros(len(self.atoms))
        for cell in cells:
            v[self.index[cell]] = 1.0
        return v

    def derivable(self) -> list[str]:
        """The withheld figures the shown ones determine exactly."""
        if not self.known:
            return []
        matrix = np.array(self.known)
        # The span of the equations is the span of the Gram matrix's eigenvectors with a
        # non-zero eigenvalue (a small square matrix, whatever the number of equations).
        values, vectors = np.linalg.eigh(matrix.T @ matrix)
        basis = vectors[:, values > 1e-7].T
        found = []
        for name, target in self.wanted:
            residual = target - basis.T @ (basis @ target)
            if np.linalg.norm(residual) < 1e-7:
                found.append(name)
        return found


def volume_equations(
    cutoff: datetime,
    categories: Sequence[str],
    pages: Mapping[tuple[int, str], tuple[Sequence[VolumeCell], Sequence[CategoryFigures]]],
) -> Equations:
    """The equations the volume cells and category totals of every view give."""
    span = months_between(window_start(cutoff, WINDOWS[-1]), cutoff)
    eq = Equations([(c, m) for c in categories for m in span], [], [])
    for (months, granularity), (cells, rows) in pages.items():
        window = months_between(window_start(cutoff, months), cutoff)
        listed = {(c.category, c.period): c for c in cells}
        periods: dict[str, list[str]] = {}
        for month in window:
            periods.setdefault(period_of(month, granularity), []).append(month)
        by_category = {r.category: r for r in rows}
        for category in categories:
            for period, in_period in periods.items():
                v = eq.vector((category, m) for m in in_period)
                cell = listed.get((category, period))
                if cell is None or cell.count is not None:
                    eq.known.append(v)  # shown, or left out because empty
                else:
                    eq.wanted.append((f"{months}m/{granularity} {category} {period}", v))
            v = eq.vector((category, m) for m in window)
            row = by_category.get(category)
            if row is None or row.cases is not None:
                eq.known.append(v)
            else:
                eq.wanted.append((f"{months}m total {category}", v))
    return eq


def outcome_equations(
    cutoff: datetime, outcomes: Sequence[str], pages: Mapping[int, Sequence[OutcomeCount]]
) -> Equations:
    """The equations the outcome counts of every window give (atoms: month of closing)."""
    span = months_between(window_start(cutoff, WINDOWS[-1]), cutoff)
    eq = Equations([(o, m) for o in outcomes for m in span], [], [])
    for months, rows in pages.items():
        window = months_between(window_start(cutoff, months), cutoff)
        by_outcome = {r.outcome: r for r in rows}
        for outcome in outcomes:
            v = eq.vector((outcome, m) for m in window)
            row = by_outcome.get(outcome)
            if row is None or row.count is not None:
                eq.known.append(v)
            else:
                eq.wanted.append((f"{months}m {outcome}", v))
    return eq
