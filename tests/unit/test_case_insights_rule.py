"""The small-group rule of Case insights against an attacker who subtracts shown figures.

The page's own figures over every period × grouping choice of one release are fed to a
linear attacker; no withheld figure may come out exactly, whatever the data.
"""

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from db.cases.insights import (
    MIN_GROUP,
    MonthFigures,
    months_between,
    release_figures,
    release_tree,
    window_start,
    withhold,
    withhold_rows,
)
from db.models.cases import OUTCOME_LABELS, Outcome
from tests.case_insights_attacker import VIEWS, outcome_equations, volume_equations

CUTOFFS = [datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)]
CATEGORIES = ["bullying", "misconduct", "safety"]
OUTCOMES = list(Outcome)[:3]


def span(cutoff: datetime) -> list[str]:
    return months_between(window_start(cutoff, 60), cutoff)


@st.composite
def releases(draw: st.DrawFn) -> tuple[datetime, dict[str, dict[str, int]]]:
    """A release date and sparse counts per category and month (small counts are the
    interesting ones), sometimes bunched into a few months."""
    cutoff = draw(st.sampled_from(CUTOFFS))
    months = span(cutoff)
    hot = draw(st.lists(st.sampled_from(months), min_size=1, max_size=8))
    pick = st.sampled_from(hot) if draw(st.booleans()) else st.sampled_from(months)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for _ in range(draw(st.integers(0, 25))):
        category = draw(st.sampled_from(CATEGORIES))
        month = draw(pick)
        counts[category][month] = counts[category].get(month, 0) + draw(st.integers(1, 4))
    return cutoff, dict(counts)


def page(cutoff: datetime, counts: dict[str, dict[str, int]], closed: dict[str, dict[str, int]]):  # type: ignore[no-untyped-def]
    return release_figures(
        cutoff=cutoff,
        figures=MonthFigures(
            cases=counts,
            measured={m: {} for m in ("acknowledge", "close", "feedback")},
            sums={m: {} for m in ("acknowledge", "close", "ack_ok", "feedback_ok")},
        ),
        closed=closed,
        labels={},
        views=VIEWS,
    )


@settings(max_examples=60, deadline=None)
@given(releases())
def test_no_withheld_case_count_can_be_worked_out_from_the_pages_figures(
    release: tuple[datetime, dict[str, dict[str, int]]],
) -> None:
    cutoff, counts = release
    views = page(cutoff, counts, {})
    shown = {key: (cells, rows) for key, (cells, rows, _o) in views.items()}
    attacker = volume_equations(cutoff, CATEGORIES, shown)
    assert attacker.derivable() == []


@settings(max_examples=40, deadline=None)
@given(releases())
def test_no_withheld_outcome_count_can_be_worked_out_across_the_windows(
    release: tuple[datetime, dict[str, dict[str, int]]],
) -> None:
    cutoff, counts = release  # the same shapes: counts per outcome and month of closing
    as_outcomes = dict(zip(OUTCOMES, CATEGORIES, strict=False))
    closed = {o.value: counts[c] for o, c in as_outcomes.items() if c in counts}
    views = page(cutoff, {}, closed)
    by_window = {months: outcomes for (months, _g), (_c, _r, outcomes) in views.items()}
    labels = [OUTCOME_LABELS[o] for o in as_outcomes]
    attacker = outcome_equations(cutoff, labels, by_window)
    assert attacker.derivable() == []


@settings(max_examples=60, deadline=None)
@given(releases())
def test_under_every_shown_figure_the_withheld_ones_hold_none_or_at_least_the_threshold(
    release: tuple[datetime, dict[str, dict[str, int]]],
) -> None:
    cutoff, counts = release
    tree, root = release_tree(cutoff)
    hidden = withhold(tree, root, counts)
    for category, months in counts.items():
        assert hidden[category] >= withhold_rows(tree, root, months, MIN_GROUP)
        for key, node in tree.items():
            if key in hidden[category]:
                assert all(c in hidden[category] for c in node.children)
                continue
            held = sum(
                months.get(m, 0)
                for c in node.children
                if c in hidden[category]
                for m in tree[c].months
            )
            assert held == 0 or held >= MIN_GROUP
        for key, node in tree.items():
            n = sum(months.get(m, 0) for m in node.months)
            if 0 < n < MIN_GROUP:
                assert key in hidden[category]
    # Across categories, too: in each period the withheld cells hold none or enough.
    for key, node in tree.items():
        held = sum(
            sum(counts[c].get(m, 0) for m in node.months) for c in counts if key in hidden[c]
        )
        shown_any = any(
            key not in hidden[c] and sum(counts[c].get(m, 0) for m in node.months) for c in counts
        )
        assert held == 0 or held >= MIN_GROUP or not shown_any


def test_the_issues_example_no_longer_gives_may_by_subtraction() -> None:
    cutoff = datetime(2026, 12, 1, tzinfo=UTC)
    counts = {"bullying": {"2026-03": 3, "2026-05": 2}, "safety": {"2026-02": 9, "2026-07": 8}}
    views = page(cutoff, counts, {})
    cells, rows, _ = views[(12, "month")]
    by_period = {c.period: c.count for c in cells if c.category == "bullying"}
    total = next(r.cases for r in rows if r.category == "bullying")
    assert total == 5
    # Before: March 3 shown, May withheld, so May = 5 − 3. Now March is withheld too.
    assert by_period["2026-05"] is None and by_period["2026-03"] is None
    shown = {key: (c, r) for key, (c, r, _o) in views.items()}
    assert volume_equations(cutoff, list(counts), shown).derivable() == []


def test_case_insights_take_their_threshold_and_its_sentence_from_the_small_group_rule() -> None:
    from db.cases import insights
    from db.core import small_groups

    assert insights.MIN_GROUP == small_groups.CASE_MIN_GROUP
    assert insights.THRESHOLD_NOTE == small_groups.threshold_note(
        small_groups.CASE_MIN_GROUP, "cases"
    )
    source = Path(insights.__file__).read_text(encoding="utf-8")
    # No number of its own: the threshold and its sentence come from db.core.small_groups.
    assert "MIN_GROUP = 3" not in source and "fewer than 3" not in source
