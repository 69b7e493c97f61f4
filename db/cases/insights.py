"""Aggregates over cases for reviewers and managers: counts and times, never content.

Small numbers identify people, so every figure drawn from fewer than three cases is
withheld here, in the query layer, and reported as "fewer than 3" instead.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, cast, func
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.cases.common import category_labels
from db.core.errors import ValidationError
from db.core.report_cache import cached, register
from db.core.types import utcnow
from db.models.auth import Role
from db.models.cases import OUTCOME_LABELS, Case, CaseEvent, CaseKind, CaseStatus, Outcome

MIN_GROUP = 3
FEWER = "fewer than 3"
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 7 days", 0, 7),
    ("7–30 days", 7, 30),
    ("30–90 days", 30, 90),
    ("over 90 days", 90, None),
)


def _require(actor: Actor) -> None:
    require_role(actor, Role.reviewer, Role.manager, doing="see case insights")


def _shown(count: int) -> tuple[int | None, str]:
    if count < MIN_GROUP:
        return None, FEWER
    return count, str(count)


GRANULARITIES = ("month", "quarter", "year")


def _period_label(session: Session, column: Any, granularity: str) -> Any:
    """SQL text naming the month ("2026-03"), quarter ("2026-Q1") or year ("2026")."""
    if granularity not in GRANULARITIES:
        raise ValidationError("Group by: choose month, quarter or year.", field="granularity")
    if session.get_bind().dialect.name == "postgresql":
        pattern = {"month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[granularity]
        return func.to_char(column, pattern)
    if granularity == "quarter":
        month = cast(func.strftime("%m", column), Integer)
        return func.strftime("%Y", column) + "-Q" + cast((month + 2) // 3, String)
    return func.strftime("%Y-%m" if granularity == "month" else "%Y", column)


def _days(session: Session, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _period(since: datetime, until: datetime) -> list[Any]:
    if since >= until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    return [
        col(Case.kind) == CaseKind.concern.value,
        col(Case.received_at) >= since,
        col(Case.received_at) < until,
    ]


@dataclass(frozen=True)
class VolumeCell:
    """Cases of one category received in one period; `count` is None when withheld."""

    period: str
    category: str
    count: int | None
    shown: str


def volumes(
    *,
    session: Session,
    actor: Actor,
    since: datetime,
    until: datetime,
    granularity: str = "month",
) -> list[VolumeCell]:
    """Concerns received per category and month (or quarter, year); cells under 3 are withheld.

    No totals across categories are returned: with them, a withheld cell could be
    worked out by subtraction.
    """
    _require(actor)
    period = _period_label(session, col(Case.received_at), granularity).label("period")
    query = (
        sa_select(period, col(Case.category), func.count())
        .where(*_period(since, until))
        .group_by(period, col(Case.category))
        .order_by(period, col(Case.category))
    )
    labels = category_labels(session=session)
    cells = []
    for period_text, category, count in session.execute(query).all():
        value, shown = _shown(int(count))
        cells.append(VolumeCell(str(period_text), labels.get(category, category), value, shown))
    return cells


@dataclass(frozen=True)
class CategoryFigures:
    """Per-category figures for a period; all None (and shown as fewer than 3) when small."""

    category: str
    cases: int | None
    shown: str
    days_to_acknowledge: float | None
    days_to_close: float | None
    acknowledged_on_time: float | None
    feedback_on_time: float | None


def category_figures(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[CategoryFigures]:
    """Volume, mean days to acknowledge and close, and SLA compliance, per category."""
    _require(actor)
    ack_days = _days(session, col(Case.acknowledged_at), col(Case.received_at))
    close_days = _days(session, col(Case.closed_at), col(Case.received_at))
    acked = col(Case.acknowledged_at).is_not(None)
    ack_on_time = sql_case((col(Case.acknowledged_at) <= col(Case.ack_due_at), 1), else_=0)
    fed = col(Case.feedback_at).is_not(None) & col(Case.feedback_due_at).is_not(None)
    feedback_on_time = sql_case((col(Case.feedback_at) <= col(Case.feedback_due_at), 1), else_=0)
    query = (
        sa_select(
            col(Case.category),
            func.count(),
            func.avg(ack_days),
            func.avg(close_days),
            func.sum(sql_case((acked, 1), else_=0)),
            func.sum(sql_case((acked, ack_on_time), else_=0)),
            func.sum(sql_case((fed, 1), else_=0)),
            func.sum(sql_case((fed, feedback_on_time), else_=0)),
        )
        .where(*_period(since, until))
        .group_by(col(Case.category))
        .order_by(col(Case.category))
    )
    labels = category_labels(session=session)
    rows = []
    for category, count, ack_avg, close_avg, n_ack, ack_ok, n_fed, fed_ok in session.execute(
        query
    ).all():
        value, shown = _shown(int(count))
        label = labels.get(category, category)
        if value is None:
            rows.append(CategoryFigures(label, None, shown, None, None, None, None))
            continue
        rows.append(
            CategoryFigures(
                category=label,
                cases=value,
                shown=shown,
                days_to_acknowledge=None if ack_avg is None else round(float(ack_avg), 1),
                days_to_close=None if close_avg is None else round(float(close_avg), 1),
                acknowledged_on_time=round(int(ack_ok) / int(n_ack), 3) if n_ack else None,
                feedback_on_time=round(int(fed_ok) / int(n_fed), 3) if n_fed else None,
            )
        )
    return rows


@dataclass(frozen=True)
class Bucket:
    """Open cases of one age band."""

    age: str
    count: int | None
    shown: str


def backlog(*, session: Session, actor: Actor, now: datetime | None = None) -> list[Bucket]:
    """Open concerns by age band (across categories); bands under 3 are withheld."""
    _require(actor)
    now = now or utcnow()
    buckets = []
    for label, low, high in AGE_BUCKETS:
        conditions = [
            col(Case.kind) == CaseKind.concern.value,
            col(Case.status) != CaseStatus.closed.value,
            col(Case.received_at) <= now - timedelta(days=low),
        ]
        if high is not None:
            conditions.append(col(Case.received_at) > now - timedelta(days=high))
        count = int(session.exec(select(func.count()).select_from(Case).where(*conditions)).one())
        value, shown = (0, "0") if count == 0 else _shown(count)
        buckets.append(Bucket(label, value, shown))
    return buckets


@dataclass(frozen=True)
class OutcomeCount:
    """Closed concerns with one outcome."""

    outcome: str
    count: int | None
    shown: str


def outcomes(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[OutcomeCount]:
    """Outcomes of concerns closed in the period; outcomes under 3 are withheld."""
    _require(actor)
    if since >= until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    query = (
        select(Case.outcome, func.count())
        .where(
            col(Case.kind) == CaseKind.concern.value,
            col(Case.status) == CaseStatus.closed.value,
            col(Case.closed_at) >= since,
            col(Case.closed_at) < until,
        )
        .group_by(col(Case.outcome))
        .order_by(col(Case.outcome))
    )
    rows = []
    for outcome, count in session.exec(query).all():
        value, shown = _shown(int(count))
        label = OUTCOME_LABELS[Outcome(outcome)] if outcome else "Unknown"
        rows.append(OutcomeCount(label, value, shown))
    return rows


InsightsReport = tuple[list[VolumeCell], list[CategoryFigures], list[Bucket], list[OutcomeCount]]
for _cls in (VolumeCell, CategoryFigures, Bucket, OutcomeCount):
    register(_cls)


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
    *, session: Session, actor: Actor, months: int, granularity: str
) -> InsightsReport:
    """Every figure of the Case insights page for the last `months`, stored until a case
    changes (or the hour turns: ages and periods are counted from now)."""
    _require(actor)
    now = utcnow()
    since = now - timedelta(days=round(30.44 * months))

    def compute() -> InsightsReport:
        return (
            volumes(session=session, actor=actor, since=since, until=now, granularity=granularity),
            category_figures(session=session, actor=actor, since=since, until=now),
            backlog(session=session, actor=actor, now=now),
            outcomes(session=session, actor=actor, since=since, until=now),
        )

    # Figures are the same for every permitted reader (no per-person scope), so one
    # stored report serves them all.
    return cached(
        session=session,
        key=f"case-insights:{months}:{granularity}",
        version=f"{now:%Y-%m-%d %H}:{cases_data_version(session=session)}",
        compute=compute,
    )
