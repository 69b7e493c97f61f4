"""Forecast and pipeline reports: aggregated in SQL, combined by the formulas in db/metrics."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor, require_role
from db.auth.visibility import owner_filter
from db.core.errors import ValidationError
from db.core.report_cache import cached, register
from db.models.auth import Role, User
from db.models.pipeline import Deal, DealStatus, LostReason, Stage, StageChange
from db.pipeline.metrics import (
    FunnelStep,
    average,
    days_in_stage,
    fill_months,
    funnel,
    funnel_steps,
    months_between,
    sales_velocity,
    win_rate,
)


@dataclass(frozen=True)
class ForecastFilter:
    """Which deals a report covers: a period, a currency and optionally a pipeline/owner/team."""

    since: date
    until: date
    currency: str = "GBP"
    pipeline_id: int | None = None
    owner_id: int | None = None
    team: str | None = None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _month(session: Session, column: Any, *, timestamp: bool) -> Any:
    if _dialect(session) == "postgresql":
        value = column.op("AT TIME ZONE")(literal_column("'UTC'")) if timestamp else column
        return func.to_char(value, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _days_between(session: Session, start: Any, end: Any) -> Any:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _scope(actor: Actor, flt: ForecastFilter) -> list[Any]:
    if flt.since > flt.until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    conditions: list[Any] = [col(Deal.currency) == flt.currency]
    scope = owner_filter(actor, Deal.owner_id)
    if scope is not None:
        conditions.append(scope)
    if flt.pipeline_id:
        conditions.append(col(Deal.pipeline_id) == flt.pipeline_id)
    if flt.owner_id:
        conditions.append(col(Deal.owner_id) == flt.owner_id)
    if flt.team:
        conditions.append(
            col(Deal.owner_id).in_(sa_select(col(User.id)).where(col(User.team) == flt.team))
        )
    return conditions


def _end(flt: ForecastFilter) -> datetime:
    """The first instant after the period (its last day is included)."""
    return _start(flt.until + timedelta(days=1))


def _closed_in(flt: ForecastFilter) -> list[Any]:
    return [col(Deal.closed_at) >= _start(flt.since), col(Deal.closed_at) < _end(flt)]


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class MonthRow:
    """One month of the forecast: weighted open pipeline, unweighted, and won revenue."""

    month: str
    weighted: Decimal
    open_amount: Decimal
    won: Decimal


def pipeline_data_version(*, session: Session) -> tuple[str, int, int]:
    """A cheap fingerprint of the deals and their history: every command that changes a
    deal bumps one of these (edits touch updated_at; create, move, win, lose and reopen
    add a stage change), in every server process. Three index lookups (one aggregate per
    query, so SQLite answers each from its index)."""
    deal, change = Deal.__table__, StageChange.__table__  # type: ignore[attr-defined]
    updated = session.execute(sa_select(func.max(deal.c.updated_at))).scalar_one()
    last_deal = session.execute(sa_select(func.max(deal.c.id))).scalar_one()
    last_change = session.execute(sa_select(func.max(change.c.id))).scalar_one()
    return (str(updated or ""), int(last_deal or 0), int(last_change or 0))


def stage_settings_version(*, session: Session) -> str:
    """A fingerprint of every stage's settings: a new stage or a changed probability
    changes the funnel and the weighted pipeline (a few dozen rows)."""
    stages = session.execute(
        sa_select(
            col(Stage.id), col(Stage.position), col(Stage.probability), col(Stage.is_active)
        ).order_by(col(Stage.id))
    ).all()
    return hashlib.sha256(repr([tuple(r) for r in stages]).encode()).hexdigest()[:16]


def by_close_month(*, session: Session, actor: Actor, flt: ForecastFilter) -> list[MonthRow]:
    """Weighted pipeline (Σ amount × probability of open deals) by expected close month,
    beside won revenue by the month it closed."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    conditions = _scope(actor, flt)
    probability = func.coalesce(col(Deal.probability_override), col(Stage.probability))
    month = _month(session, col(Deal.expected_close), timestamp=False)
    open_rows = session.execute(
        sa_select(
            month,
            func.sum(col(Deal.amount) * probability / 100.0),
            func.sum(col(Deal.amount)),
        )
        .join(Stage, col(Stage.id) == col(Deal.stage_id))
        .where(
            *conditions,
            col(Deal.status) == DealStatus.open,
            col(Deal.expected_close) >= flt.since,
            col(Deal.expected_close) <= flt.until,
        )
        .group_by(month)
    ).all()
    closed_month = _month(session, col(Deal.closed_at), timestamp=True)
    won_rows = session.execute(
        sa_select(closed_month, func.sum(col(Deal.amount)))
        .where(*conditions, col(Deal.status) == DealStatus.won, *_closed_in(flt))
        .group_by(closed_month)
    ).all()
    months = months_between(flt.since, flt.until)
    weighted = dict(fill_months(months, {m: _money(w) for m, w, _ in open_rows}))
    unweighted = dict(fill_months(months, {m: _money(a) for m, _, a in open_rows}))
    won = dict(fill_months(months, {m: _money(v) for m, v in won_rows}))
    return [MonthRow(m, weighted[m], unweighted[m], won[m]) for m in months]


@dataclass(frozen=True)
class Outcomes:
    """Closed deals of a period and the figures derived from them."""

    won_count: int
    lost_count: int
    won_value: Decimal
    lost_value: Decimal
    win_rate_count: Decimal | None
    win_rate_value: Decimal | None
    average_won: Decimal | None
    average_cycle_days: Decimal | None
    open_count: int
    velocity: Decimal | None


def outcomes(*, session: Session, actor: Actor, flt: ForecastFilter) -> Outcomes:
    """Win rate by count and value, average won size and cycle, and sales velocity."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    conditions = _scope(actor, flt)
    cycle = _days_between(session, col(Deal.created_at), col(Deal.closed_at))
    rows = session.execute(
        sa_select(
            col(Deal.status),
            func.count(),
            func.sum(col(Deal.amount)),
            func.sum(case((col(Deal.status) == DealStatus.won, cycle), else_=0)),
        )
        .where(*conditions, col(Deal.status) != DealStatus.open, *_closed_in(flt))
        .group_by(col(Deal.status))
    ).all()
    found = {
        str(status): (int(n), _money(total), float(days or 0)) for status, n, total, days in rows
    }
    won_n, won_v, won_days = found.get(DealStatus.won.value, (0, Decimal("0.00"), 0.0))
    lost_n, lost_v, _ = found.get(DealStatus.lost.value, (0, Decimal("0.00"), 0.0))
    open_count = int(
        session.execute(
            sa_select(func.count())
            .select_from(Deal)
            .where(*conditions, col(Deal.status) == DealStatus.open)
        ).scalar_one()
    )
    rate = win_rate(won_n, lost_n)
    avg_won = average(won_v, won_n)
    cycle_days = average(won_days, won_n)
    return Outcomes(
        won_count=won_n,
        lost_count=lost_n,
        won_value=won_v,
        lost_value=lost_v,
        win_rate_count=rate,
        win_rate_value=win_rate(won_v, lost_v),
        average_won=avg_won,
        average_cycle_days=cycle_days,
        open_count=open_count,
        velocity=sales_velocity(open_count, avg_won, rate, cycle_days),
    )


def conversion_funnel(
    *, session: Session, actor: Actor, flt: ForecastFilter, pipeline_id: int
) -> list[FunnelStep]:
    """Stage-to-stage conversion of a pipeline's deals created in the period."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    conditions = [
        *_scope(actor, flt),
        col(Deal.pipeline_id) == pipeline_id,
        col(Deal.created_at) >= _start(flt.since),
        col(Deal.created_at) < _end(flt),
    ]
    stages = session.execute(
        sa_select(col(Stage.position), col(Stage.name), col(Stage.added_at))
        .where(col(Stage.pipeline_id) == pipeline_id, col(Stage.is_active))
        .order_by(col(Stage.position))
    ).all()
    won_condition = col(Deal.status) == DealStatus.won
    won = int(
        session.execute(
            sa_select(func.count()).select_from(Deal).where(*conditions, won_condition)
        ).scalar_one()
    )
    if all(added_at is None for _, _, added_at in stages):
        # Every stage is as old as the pipeline: each deal's furthest stage says it all.
        furthest_per_deal = (
            sa_select(col(StageChange.deal_id), func.max(col(Stage.position)).label("furthest"))
            .join(Stage, col(Stage.id) == col(StageChange.to_stage_id))
            .join(Deal, col(Deal.id) == col(StageChange.deal_id))
            .where(*conditions, col(Deal.status) != DealStatus.won)
            .group_by(col(StageChange.deal_id))
            .subquery()
        )
        furthest = {
            int(position): int(n)
            for position, n in session.execute(
                sa_select(furthest_per_deal.c.furthest, func.count()).group_by(
                    furthest_per_deal.c.furthest
                )
            ).all()
        }
        return funnel([(int(p), str(n)) for p, n, _ in stages], furthest, won)
    # A stage added to a running pipeline was reached only by deals that moved to it or
    # past it after it existed, or were won after it existed; none moved earlier could.
    reached = []
    for position, name, added_at in stages:
        moved_past = (
            sa_select(col(StageChange.id))
            .join(Stage, col(Stage.id) == col(StageChange.to_stage_id))
            .where(
                col(StageChange.deal_id) == col(Deal.id),
                col(Stage.position) >= position,
                *([] if added_at is None else [col(StageChange.changed_at) >= added_at]),
            )
            .exists()
        )
        won_since = (
            won_condition
            if added_at is None
            else and_(won_condition, col(Deal.closed_at) >= added_at)
        )
        count = session.execute(
            sa_select(func.count())
            .select_from(Deal)
            .where(*conditions, or_(won_since, and_(~won_condition, moved_past)))
        ).scalar_one()
        reached.append((str(name), int(count)))
    return funnel_steps(reached, won)


@dataclass(frozen=True)
class StageTime:
    """Average cumulative days deals spent in a stage, over the deals that left it."""

    stage: str
    deals: int
    average_days: Decimal | None


def time_in_stage(
    *, session: Session, actor: Actor, flt: ForecastFilter, pipeline_id: int
) -> list[StageTime]:
    """Per stage: Σ of every visit's time ÷ deals that visited (visits ended in the period)."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    conditions = [*_scope(actor, flt), col(Deal.pipeline_id) == pipeline_id]
    rows = session.execute(
        sa_select(
            col(StageChange.from_stage_id),
            func.sum(col(StageChange.seconds_in_from)),
            func.count(func.distinct(col(StageChange.deal_id))),
        )
        .join(Deal, col(Deal.id) == col(StageChange.deal_id))
        .where(
            *conditions,
            col(StageChange.from_stage_id).is_not(None),
            col(StageChange.changed_at) >= _start(flt.since),
            col(StageChange.changed_at) < _end(flt),
        )
        .group_by(col(StageChange.from_stage_id))
    ).all()
    totals = {int(stage_id): (int(seconds or 0), int(deals)) for stage_id, seconds, deals in rows}
    stages = session.execute(
        sa_select(col(Stage.id), col(Stage.name))
        .where(col(Stage.pipeline_id) == pipeline_id, col(Stage.is_active))
        .order_by(col(Stage.position))
    ).all()
    result = []
    for stage_id, name in stages:
        seconds, deals = totals.get(int(stage_id), (0, 0))
        result.append(StageTime(str(name), deals, days_in_stage(seconds, deals)))
    return result


@dataclass(frozen=True)
class LostRow:
    """Deals lost for one reason in the period."""

    reason: str
    deals: int
    value: Decimal


def lost_reasons(*, session: Session, actor: Actor, flt: ForecastFilter) -> list[LostRow]:
    """Lost deals of the period by reason, most frequent first."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    rows = session.execute(
        sa_select(col(LostReason.label), func.count(), func.sum(col(Deal.amount)))
        .join(LostReason, col(LostReason.id) == col(Deal.lost_reason_id))
        .where(*_scope(actor, flt), col(Deal.status) == DealStatus.lost, *_closed_in(flt))
        .group_by(col(LostReason.label))
        .order_by(func.count().desc(), col(LostReason.label))
    ).all()
    return [LostRow(str(label), int(n), _money(v)) for label, n, v in rows]


@register
@dataclass(frozen=True)
class ForecastReport:
    """Every figure of the Forecast page for one filter."""

    months: list[MonthRow]
    outcome: Outcomes
    steps: list[FunnelStep]
    times: list[StageTime]
    lost: list[LostRow]


for _cls in (MonthRow, Outcomes, FunnelStep, StageTime, LostRow):
    register(_cls)


def forecast_report(*, session: Session, actor: Actor, flt: ForecastFilter) -> ForecastReport:
    """The whole forecast for `flt`, from the report cache while no deal has changed."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    pipeline_id = flt.pipeline_id or 0

    def compute() -> ForecastReport:
        return ForecastReport(
            months=by_close_month(session=session, actor=actor, flt=flt),
            outcome=outcomes(session=session, actor=actor, flt=flt),
            steps=conversion_funnel(session=session, actor=actor, flt=flt, pipeline_id=pipeline_id),
            times=time_in_stage(session=session, actor=actor, flt=flt, pipeline_id=pipeline_id),
            lost=lost_reasons(session=session, actor=actor, flt=flt),
        )

    _scope(actor, flt)  # refuses a reversed period before anything is stored
    key = (
        f"forecast:{actor.id}:{flt.since}:{flt.until}:{flt.currency}:{flt.pipeline_id}:"
        f"{flt.owner_id}:{flt.team}"
    )
    # Today is part of the version: open deals and cycle times are counted up to now.
    version = ":".join(
        str(v)
        for v in (
            date.today(),
            *pipeline_data_version(session=session),
            stage_settings_version(session=session),
        )
    )
    return cached(session=session, key=key[:200], version=version, compute=compute)
