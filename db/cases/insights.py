"""Aggregates over cases for reviewers and managers: counts and times, never content.

Small numbers identify people, so figures are withheld here, in the query layer, by the
one small-group rule (`db.core.small_groups.hide_small_groups`) with one threshold,
`MIN_GROUP`, which is the rule's `CASE_MIN_GROUP`. The rule is applied to everything the
page can show at once, across its windows and groupings, so no withheld figure can be
worked out from shown ones:

- Every figure is a node of one calendar tree per category. The windows are whole
  calendar years ending at the release date (the last 12 months reach back to January
  of the year they start in), each window nests in the next, and years split into
  quarters and months: the 60-month window holds the 24-month one and the older
  years, the 24-month window the 12-month one and one more year, and so on down.
  Under each shown node the hidden children hold none or at least `MIN_GROUP` cases,
  and a hidden node hides all below it. Each figure on the page is a node, so every
  difference between shown figures (a category's total minus its shown months, a
  quarter minus its months, one window minus another) is empty or at least the
  threshold.
- The same rule runs along the other direction of the table: across categories, in
  each period, the hidden cells together hold none or at least the threshold, so a
  period's total learned elsewhere does not give away a withheld category.
- Times (days to acknowledge, to close, deadlines met) are shown for a window only when
  the cases they are drawn from pass the same rule between the nested windows, so two
  windows never differ by a single case whose times then fall out of the means.
- Figures are released once a month: they count cases received (and acknowledged,
  closed, answered) before the start of the current month, so a new concern never
  moves a figure minutes after it arrives.

Withheld figures all read the same ("withheld"), whether small or withheld to cover a
small one, because telling them apart would say which of them are small.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.cases.common import category_labels
from db.core.errors import ValidationError
from db.core.report_cache import cached, register
from db.core.small_groups import CASE_MIN_GROUP, hide_small_groups, threshold_note
from db.core.types import utcnow
from db.models.auth import Role
from db.models.cases import OUTCOME_LABELS, Case, CaseEvent, CaseKind, CaseStatus, Outcome

# The one threshold of case insights, set with the small-group rule itself.
MIN_GROUP = CASE_MIN_GROUP
WITHHELD = "withheld"
FEWER = WITHHELD  # the name earlier callers import
THRESHOLD_NOTE = threshold_note(MIN_GROUP, "cases")
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 7 days", 0, 7),
    ("7–30 days", 7, 30),
    ("30–90 days", 30, 90),
    ("over 90 days", 90, None),
)
GRANULARITIES = ("month", "quarter", "year")
WINDOWS = (12, 24, 60)  # months; each window holds the one before it
MEASURES = ("acknowledge", "close", "ack_ok", "feedback", "feedback_ok")


def _require(actor: Actor) -> None:
    require_role(actor, Role.reviewer, Role.manager, doing="see case insights")


def released_until(now: datetime) -> datetime:
    """The release date: figures count what happened before the start of this month."""
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def months_between(start: datetime, until: datetime) -> list[str]:
    """Calendar months meeting [start, until), oldest first."""
    months = []
    year, month = start.year, start.month
    while datetime(year, month, 1, tzinfo=UTC) < until:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _back(at: datetime, months: int) -> datetime:
    """`at` moved back by whole months (the first of a month stays the first)."""
    index = at.year * 12 + at.month - 1 - months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


# ---- the tree of figures ---------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One figure of the tree: a window, a year, a quarter or a month."""

    key: str
    level: str  # "window", "year", "quarter", "month", or "rest" (a window minus another)
    label: str
    months: tuple[str, ...]
    children: tuple[str, ...] = ()


Tree = dict[str, Node]


def _calendar(months: list[str], tree: Tree) -> list[str]:
    """Year, quarter and month nodes over `months`; returns the year keys, oldest first."""
    years: dict[str, dict[str, list[str]]] = {}
    for month in months:
        year, number = month[:4], int(month[5:])
        quarter = f"{year}-Q{(number + 2) // 3}"
        years.setdefault(year, {}).setdefault(quarter, []).append(month)
    for year, quarters in years.items():
        for quarter, in_quarter in quarters.items():
            for month in in_quarter:
                tree[f"m{month}"] = Node(f"m{month}", "month", month, (month,))
            tree[f"q{quarter}"] = Node(
                f"q{quarter}",
                "quarter",
                quarter,
                tuple(in_quarter),
                tuple(f"m{m}" for m in in_quarter),
            )
        tree[f"y{year}"] = Node(
            f"y{year}",
            "year",
            year,
            tuple(m for q in quarters.values() for m in q),
            tuple(f"q{q}" for q in quarters),
        )
    return [f"y{y}" for y in years]


def window_start(cutoff: datetime, months: int) -> datetime:
    """The first day of a window: 1 January of the year `months` before the release."""
    return datetime(_back(cutoff, months).year, 1, 1, tzinfo=UTC)


def release_tree(cutoff: datetime) -> tuple[Tree, str]:
    """The tree of every figure the page can show at this release, and its root.

    The 60-month window holds the 24-month window and the older years; the 24-month
    window holds the 12-month window and the year before it; windows hold years.
    """
    tree: Tree = {}
    years = _calendar(months_between(window_start(cutoff, WINDOWS[-1]), cutoff), tree)
    inner: str | None = None
    for months in WINDOWS:
        first = str(window_start(cutoff, months).year)
        own = [
            y for y in years if y[1:] >= first and (inner is None or y not in _years(tree, inner))
        ]
        key = f"w{months}"
        children = ([inner] if inner else []) + own
        tree[key] = Node(
            key, "window", "", tuple(m for c in children for m in tree[c].months), tuple(children)
        )
        inner = key
    assert inner is not None
    return tree, inner


def _years(tree: Tree, key: str) -> set[str]:
    node = tree[key]
    if node.level == "year":
        return {key}
    return set().union(*(_years(tree, c) for c in node.children)) if node.children else set()


def period_tree(since: datetime, until: datetime) -> tuple[Tree, str]:
    """The tree for one period: the period, its years, quarters and months."""
    tree: Tree = {}
    months = months_between(since, until)
    years = _calendar(months, tree)
    tree["period"] = Node("period", "window", "", tuple(months), tuple(years))
    return tree, "period"


def chain_tree(cutoff: datetime) -> tuple[Tree, str]:
    """The nested windows alone, each split into the window inside it and the rest.

    Times are shown per window only, so their rule runs on this smaller tree."""
    tree: Tree = {}
    inner: str | None = None
    for months in WINDOWS:
        key = f"w{months}"
        span = tuple(months_between(window_start(cutoff, months), cutoff))
        children: tuple[str, ...] = ()
        if inner is not None:
            rest = tuple(m for m in span if m not in tree[inner].months)
            tree[f"r{months}"] = Node(f"r{months}", "rest", "", rest)
            children = (inner, f"r{months}")
        tree[key] = Node(key, "window", "", span, children)
        inner = key
    assert inner is not None
    return tree, inner


def _value(node: Node, counts: Mapping[str, int]) -> int:
    return sum(counts.get(m, 0) for m in node.months)


def _hide_below(tree: Tree, key: str, hidden: set[str]) -> None:
    hidden.add(key)
    for child in tree[key].children:
        _hide_below(tree, child, hidden)


def withhold_rows(tree: Tree, root: str, counts: Mapping[str, int], k: int) -> set[str]:
    """The nodes to withhold for one category's counts per month (the rule, top down)."""
    hidden: set[str] = set()
    if 0 < _value(tree[root], counts) < k:
        _hide_below(tree, root, hidden)
        return hidden
    todo = [root]
    while todo:
        node = tree[todo.pop()]
        if node.key in hidden:
            continue
        values = {c: _value(tree[c], counts) for c in node.children}
        small = set(hide_small_groups({c: n for c, n in values.items() if n}, k))
        if small:
            # Empty siblings of a withheld figure are withheld too, so that a withheld
            # figure does not say "at least one case".
            small |= {c for c, n in values.items() if not n}
        for child in small:
            _hide_below(tree, child, hidden)
        todo.extend(c for c in node.children if c not in hidden)
    return hidden


def _top_down(tree: Tree, root: str) -> list[str]:
    order, level = [], [root]
    while level:
        order += level
        level = [c for key in level for c in tree[key].children]
    return order


OTHERS = "\x00withheld"  # stands for the figures already withheld beside the ones in hand


def _repair_row(tree: Tree, root: str, counts: Mapping[str, int], hidden: set[str], k: int) -> bool:
    """Restore the rule in one category after figures were withheld for another reason.

    Under a shown figure the withheld ones must be none, or at least two holding none or
    at least `k` together: a lone withheld figure would equal its parent minus the rest.
    """
    changed = False
    for key in _top_down(tree, root):
        node = tree[key]
        held = [c for c in node.children if c in hidden]
        if key in hidden or not held:
            continue
        values = {c: _value(tree[c], counts) for c in node.children}
        held_sum = sum(values[c] for c in held)
        shown = {c: n for c, n in values.items() if c not in hidden}
        more = set(
            hide_small_groups({**{c: n for c, n in shown.items() if n}, OTHERS: held_sum}, k)
        )
        more = (more - {OTHERS}) if 0 < held_sum < k else set()
        more |= {c for c, n in shown.items() if not n}
        if len(held) + len(more) == 1:
            if shown:
                more.add(min(shown, key=lambda c: (shown[c], c)))
            else:
                more.add(key)  # an only child equals its parent: withhold the parent too
        for child in more:
            _hide_below(tree, child, hidden)
            changed = True
    return changed


def withhold(
    tree: Tree, root: str, counts: Mapping[str, Mapping[str, int]], k: int = MIN_GROUP
) -> dict[str, set[str]]:
    """The nodes to withhold per category: the rule along each category and then
    across the categories of each period (a period's total may be known elsewhere),
    repeated until both hold."""
    hidden = {c: withhold_rows(tree, root, months, k) for c, months in counts.items()}
    order = _top_down(tree, root)
    changed = True
    while changed:
        changed = False
        for key in order:
            values = {c: _value(tree[key], counts[c]) for c in counts}
            held = sum(n for c, n in values.items() if key in hidden[c])
            if not 0 < held < k:
                continue
            shown = {c: n for c, n in values.items() if n and key not in hidden[c]}
            for category in set(hide_small_groups({**shown, OTHERS: held}, k)) - {OTHERS}:
                _hide_below(tree, key, hidden[category])
                changed = True
        for category, months in counts.items():
            changed |= _repair_row(tree, root, months, hidden[category], k)
    return hidden


# ---- what the page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class VolumeCell:
    """Cases of one category received in one period; `count` is None when withheld."""

    period: str
    category: str
    count: int | None
    shown: str


@dataclass(frozen=True)
class CategoryFigures:
    """Per-category figures for a period; None (and shown as withheld) where withheld."""

    category: str
    cases: int | None
    shown: str
    days_to_acknowledge: float | None
    days_to_close: float | None
    acknowledged_on_time: float | None
    feedback_on_time: float | None


@dataclass(frozen=True)
class Bucket:
    """Open cases of one age band."""

    age: str
    count: int | None
    shown: str


@dataclass(frozen=True)
class OutcomeCount:
    """Closed concerns with one outcome."""

    outcome: str
    count: int | None
    shown: str


@dataclass(frozen=True)
class MonthFigures:
    """Sums per category and month of receipt, as of the release."""

    cases: dict[str, dict[str, int]]
    # measure -> category -> month -> cases counted by that measure
    measured: dict[str, dict[str, dict[str, int]]]
    # measure -> category -> month -> the sum (days, or cases on time)
    sums: dict[str, dict[str, dict[str, float]]]


def _shown_count(n: int, withheld: bool) -> tuple[int | None, str]:
    return (None, WITHHELD) if withheld else (n, str(n))


def _view_nodes(tree: Tree, window: str, granularity: str) -> list[str]:
    years = sorted(_years(tree, window))
    if granularity == "year":
        return years
    quarters = [q for y in years for q in tree[y].children]
    if granularity == "quarter":
        return quarters
    return [m for q in quarters for m in tree[q].children]


def _volume_cells(
    tree: Tree,
    window: str,
    granularity: str,
    cases: Mapping[str, Mapping[str, int]],
    hidden: Mapping[str, set[str]],
    labels: Mapping[str, str],
) -> list[VolumeCell]:
    cells = []
    for key in _view_nodes(tree, window, granularity):
        for category in sorted(cases):
            n = _value(tree[key], cases[category])
            if n or key in hidden[category]:
                value, shown = _shown_count(n, key in hidden[category])
                cells.append(
                    VolumeCell(tree[key].label, labels.get(category, category), value, shown)
                )
    return cells


def _mean(
    figures: MonthFigures, measure: str, category: str, node: Node, ratio_of: str | None = None
) -> float | None:
    months = node.months
    total = sum(figures.sums[measure].get(category, {}).get(m, 0.0) for m in months)
    base = ratio_of or measure
    n = sum(figures.measured[base].get(category, {}).get(m, 0) for m in months)
    if not n:
        return None
    return round(total / n, 3 if ratio_of else 1)


def _category_rows(
    tree: Tree,
    window: str,
    figures: MonthFigures,
    hidden: Mapping[str, set[str]],
    times_tree: tuple[Tree, str],
    labels: Mapping[str, str],
) -> list[CategoryFigures]:
    chain, chain_root = times_tree
    rows = []
    for category in sorted(figures.cases, key=lambda c: labels.get(c, c)):
        months = figures.cases[category]
        n = _value(tree[window], months)
        if not n and window not in hidden[category]:
            continue
        label = labels.get(category, category)
        if window in hidden[category]:
            rows.append(CategoryFigures(label, None, WITHHELD, None, None, None, None))
            continue
        node = chain[window]

        def allowed(measure: str, category: str = category) -> bool:
            counts = figures.measured[measure].get(category, {})
            return window not in withhold_rows(chain, chain_root, counts, MIN_GROUP)

        rows.append(
            CategoryFigures(
                category=label,
                cases=n,
                shown=str(n),
                days_to_acknowledge=_mean(figures, "acknowledge", category, node)
                if allowed("acknowledge")
                else None,
                days_to_close=_mean(figures, "close", category, node) if allowed("close") else None,
                acknowledged_on_time=_mean(figures, "ack_ok", category, node, "acknowledge")
                if allowed("acknowledge")
                else None,
                feedback_on_time=_mean(figures, "feedback_ok", category, node, "feedback")
                if allowed("feedback")
                else None,
            )
        )
    return rows


def _outcome_rows(
    chain: tuple[Tree, str], window: str, closed: Mapping[str, Mapping[str, int]]
) -> list[OutcomeCount]:
    tree, root = chain
    rows = []
    for outcome in sorted(closed):
        n = _value(tree[window], closed[outcome])
        withheld = window in withhold_rows(tree, root, closed[outcome], MIN_GROUP)
        if not n and not withheld:
            continue
        value, shown = _shown_count(n, withheld)
        label = OUTCOME_LABELS[Outcome(outcome)] if outcome else "Unknown"
        rows.append(OutcomeCount(label, value, shown))
    return rows


# ---- queries ---------------------------------------------------------------------------


def _days(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _month_label(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _check_period(since: datetime, until: datetime) -> None:
    if since >= until:
        raise ValidationError("Period: the start must be before the end.", field="since")


def month_figures(*, session: Session, since: datetime, until: datetime) -> MonthFigures:
    """Concerns received in [since, until) per category and month, with what had
    happened to them by `until`: acknowledged, closed, answered, and on time."""
    before = until

    def by(condition: Any, value: Any = 1) -> Any:
        return func.sum(sql_case((condition, value), else_=0))

    acked = col(Case.acknowledged_at).is_not(None) & (col(Case.acknowledged_at) < before)
    closed = col(Case.closed_at).is_not(None) & (col(Case.closed_at) < before)
    fed = (
        col(Case.feedback_at).is_not(None)
        & col(Case.feedback_due_at).is_not(None)
        & (col(Case.feedback_at) < before)
    )
    month = _month_label(session, col(Case.received_at)).label("month")
    query = (
        sa_select(
            col(Case.category),
            month,
            func.count(),
            by(acked),
            by(acked, _days(session, col(Case.acknowledged_at), col(Case.received_at))),
            by(acked & (col(Case.acknowledged_at) <= col(Case.ack_due_at))),
            by(closed),
            by(closed, _days(session, col(Case.closed_at), col(Case.received_at))),
            by(fed),
            by(fed & (col(Case.feedback_at) <= col(Case.feedback_due_at))),
        )
        .where(
            col(Case.kind) == CaseKind.concern.value,
            col(Case.received_at) >= since,
            col(Case.received_at) < until,
        )
        .group_by(col(Case.category), month)
    )
    cases: dict[str, dict[str, int]] = defaultdict(dict)
    measured: dict[str, dict[str, dict[str, int]]] = {m: defaultdict(dict) for m in MEASURES}
    sums: dict[str, dict[str, dict[str, float]]] = {m: defaultdict(dict) for m in MEASURES}
    for (
        category,
        month_text,
        n,
        n_ack,
        ack_days,
        ack_ok,
        n_closed,
        close_days,
        n_fed,
        fed_ok,
    ) in session.execute(query).all():
        key = str(month_text)
        cases[category][key] = int(n)
        for measure, count, total in (
            ("acknowledge", n_ack, ack_days),
            ("close", n_closed, close_days),
            ("ack_ok", n_ack, ack_ok),
            ("feedback", n_fed, fed_ok),
            ("feedback_ok", n_fed, fed_ok),
        ):
            measured[measure][category][key] = int(count or 0)
            sums[measure][category][key] = float(total or 0)
    return MonthFigures(
        dict(cases),
        {m: dict(v) for m, v in measured.items()},
        {m: dict(v) for m, v in sums.items()},
    )


def closed_by_outcome(
    *, session: Session, since: datetime, until: datetime
) -> dict[str, dict[str, int]]:
    """Concerns closed in [since, until) per outcome and month of closing."""
    month = _month_label(session, col(Case.closed_at)).label("month")
    query = (
        sa_select(col(Case.outcome), month, func.count())
        .where(
            col(Case.kind) == CaseKind.concern.value,
            col(Case.status) == CaseStatus.closed.value,
            col(Case.closed_at) >= since,
            col(Case.closed_at) < until,
        )
        .group_by(col(Case.outcome), month)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for outcome, month_text, n in session.execute(query).all():
        found[outcome or ""][str(month_text)] = int(n)
    return dict(found)


# ---- the commands ----------------------------------------------------------------------


def volumes(
    *,
    session: Session,
    actor: Actor,
    since: datetime,
    until: datetime,
    granularity: str = "month",
) -> list[VolumeCell]:
    """Concerns received per category and month (or quarter, year) of one period, with
    the small-group rule applied to the period, its periods and its categories."""
    _require(actor)
    _check_period(since, until)
    if granularity not in GRANULARITIES:
        raise ValidationError("Group by: choose month, quarter or year.", field="granularity")
    tree, root = period_tree(since, until)
    figures = month_figures(session=session, since=since, until=until)
    hidden = withhold(tree, root, figures.cases)
    labels = category_labels(session=session)
    return _volume_cells(tree, root, granularity, figures.cases, hidden, labels)


def category_figures(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[CategoryFigures]:
    """Volume, mean days to acknowledge and close, and deadlines met, per category."""
    _require(actor)
    _check_period(since, until)
    tree, root = period_tree(since, until)
    figures = month_figures(session=session, since=since, until=until)
    hidden = withhold(tree, root, figures.cases)
    single: Tree = {root: Node(root, "window", "", tree[root].months)}
    labels = category_labels(session=session)
    return _category_rows(tree, root, figures, hidden, (single, root), labels)


def backlog(*, session: Session, actor: Actor, now: datetime | None = None) -> list[Bucket]:
    """Concerns open at `now` by age band (across categories), under the small-group rule."""
    _require(actor)
    now = now or utcnow()
    counts: dict[str, int] = {}
    for label, low, high in AGE_BUCKETS:
        conditions = [
            col(Case.kind) == CaseKind.concern.value,
            col(Case.received_at) <= now - timedelta(days=low),
            col(Case.received_at) < now,
            col(Case.closed_at).is_(None) | (col(Case.closed_at) >= now),
        ]
        if high is not None:
            conditions.append(col(Case.received_at) > now - timedelta(days=high))
        query = select(func.count()).select_from(Case).where(*conditions)
        counts[label] = int(session.exec(query).one())
    hidden = hide_small_groups({b: n for b, n in counts.items() if n}, MIN_GROUP)
    if hidden:
        hidden = {**hidden, **{b: WITHHELD for b, n in counts.items() if not n}}
    return [Bucket(b, *_shown_count(n, b in hidden)) for b, n in counts.items()]


def outcomes(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[OutcomeCount]:
    """Outcomes of concerns closed in the period, under the small-group rule."""
    _require(actor)
    _check_period(since, until)
    closed = closed_by_outcome(session=session, since=since, until=until)
    tree: Tree = {"period": Node("period", "window", "", tuple(months_between(since, until)))}
    return _outcome_rows((tree, "period"), "period", closed)


InsightsReport = tuple[list[VolumeCell], list[CategoryFigures], list[Bucket], list[OutcomeCount]]
for _cls in (VolumeCell, CategoryFigures, Bucket, OutcomeCount):
    register(_cls)


def release_figures(
    *,
    cutoff: datetime,
    figures: MonthFigures,
    closed: Mapping[str, Mapping[str, int]],
    labels: Mapping[str, str],
    views: Iterable[tuple[int, str]],
) -> dict[tuple[int, str], tuple[list[VolumeCell], list[CategoryFigures], list[OutcomeCount]]]:
    """The page's figures for each (window in months, grouping) from one release's sums.

    Suppression is decided once, on the tree of every figure of every view, so the
    views cannot be played against each other."""
    tree, root = release_tree(cutoff)
    chain = chain_tree(cutoff)
    hidden = withhold(tree, root, figures.cases)
    result = {}
    for months, granularity in views:
        window = f"w{months}"
        result[(months, granularity)] = (
            _volume_cells(tree, window, granularity, figures.cases, hidden, labels),
            _category_rows(tree, window, figures, hidden, chain, labels),
            _outcome_rows(chain, window, closed),
        )
    return result


def cases_data_version(*, session: Session) -> str:
    """A fingerprint of the cases: every case command appends an event, intake adds a
    case, retention purges; one index lookup each."""
    case_t, event_t = Case.__table__, CaseEvent.__table__  # type: ignore[attr-defined]
    figures = [
        session.execute(sa_select(func.max(event_t.c.id))).scalar_one(),
        session.execute(sa_select(func.max(case_t.c.id))).scalar_one(),
        session.execute(sa_select(func.count(case_t.c.purged_at))).scalar_one(),
    ]
    return ":".join(str(f or 0) for f in figures)


def insights_report(
    *,
    session: Session,
    actor: Actor,
    months: int,
    granularity: str,
    now: datetime | None = None,
) -> InsightsReport:
    """Every figure of the Case insights page for a window of `months` (12, 24 or 60),
    as released at the start of this month; stored until a case changes."""
    _require(actor)
    if months not in WINDOWS:
        raise ValidationError("Period: choose 12, 24 or 60 months.", field="months")
    if granularity not in GRANULARITIES:
        raise ValidationError("Group by: choose month, quarter or year.", field="granularity")
    cutoff = released_until(now or utcnow())

    def compute() -> InsightsReport:
        since = window_start(cutoff, WINDOWS[-1])
        figures = month_figures(session=session, since=since, until=cutoff)
        closed = closed_by_outcome(session=session, since=since, until=cutoff)
        views = release_figures(
            cutoff=cutoff,
            figures=figures,
            closed=closed,
            labels=category_labels(session=session),
            views=[(months, granularity)],
        )
        cells, rows, results = views[(months, granularity)]
        return cells, rows, backlog(session=session, actor=actor, now=cutoff), results

    # Figures are the same for every permitted reader (no per-person scope), so one
    # stored report serves them all.
    return cached(
        session=session,
        key=f"case-insights:{months}:{granularity}",
        version=f"{cutoff:%Y-%m}:{cases_data_version(session=session)}",
        compute=compute,
    )
