"""Forecast and pipeline reports, combined by the formulas in db/metrics.

The weighted pipeline, won revenue, win rates, cycle and velocity are read from the
summary that every change to a deal keeps (`db/pipeline/summary.py`), with the deals of
any month the period covers only in part added from the deals themselves; conversion and
time in stage are aggregated from the stage history in SQL."""

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor, require_role
from db.auth.visibility import owner_filter
from db.core.errors import ValidationError
from db.core.report_cache import cached, register
from db.models.auth import Role, User
from db.models.pipeline import Deal, DealStatus, ForecastMonth, LostReason, Stage, StageChange
from db.pipeline.metrics import (
    FunnelStep,
    average,
    days_in_stage,
    funnel,
    funnel_steps,
    months_between,
    sales_velocity,
    win_rate,
)
from db.pipeline.summary import MEASURES, add_shares, deal_facts


@dataclass(frozen=True)
class ForecastFilter:
    """Which deals a report covers: a period, a currency and optionally a pipeline/owner/team."""

    since: date
    until: date
    currency: str = "GBP"
    pipeline_id: int | None = None
    owner_id: int | None = None
    team: str | None = None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _scope(actor: Actor, flt: ForecastFilter, table: Any = Deal) -> list[Any]:
    """The filter's conditions on deals, or on the summary rows (`table`), which carry the
    same pipeline, owner and currency columns."""
    if flt.since > flt.until:
        raise ValidationError("Period: the start must be before the end.", field="since")
    owner = col(table.owner_id)
    conditions: list[Any] = [col(table.currency) == flt.currency]
    scope = owner_filter(actor, owner)
    if scope is not None:
        conditions.append(scope)
    if flt.pipeline_id:
        conditions.append(col(table.pipeline_id) == flt.pipeline_id)
    if flt.owner_id:
        conditions.append(owner == flt.owner_id)
    if flt.team:
        conditions.append(owner.in_(sa_select(col(User.id)).where(col(User.team) == flt.team)))
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


# (status, month, stage id, lost reason id) → the summary's measures, in `MEASURES` order.
Totals = dict[tuple[str, str, int, int], list[int]]


def _periods(flt: ForecastFilter) -> tuple[list[str], list[tuple[date, date]]]:
    """The period's whole months, and the parts of months it covers only in part."""
    whole: list[str] = []
    parts: list[tuple[date, date]] = []
    for month in months_between(flt.since, flt.until):
        first = date(int(month[:4]), int(month[5:]), 1)
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        low, high = max(first, flt.since), min(last, flt.until)
        if (low, high) == (first, last):
            whole.append(month)
        else:
            parts.append((low, high))
    return whole, parts


def _totals(session: Session, actor: Actor, flt: ForecastFilter) -> Totals:
    """The summary's rows for the period's whole months, plus the shares of the deals in
    the months it covers only in part (read from the deals themselves)."""
    totals: Totals = {}
    whole, parts = _periods(flt)
    if whole:
        summary = ForecastMonth.__table__  # type: ignore[attr-defined]
        rows = session.execute(
            sa_select(
                summary.c.status,
                summary.c.month,
                summary.c.stage_id,
                summary.c.lost_reason_id,
                *(func.sum(summary.c[m]) for m in MEASURES),
            )
            .where(
                *_scope(actor, flt, ForecastMonth),
                summary.c.month >= whole[0],
                summary.c.month <= whole[-1],
            )
            .group_by(
                summary.c.status, summary.c.month, summary.c.stage_id, summary.c.lost_reason_id
            )
        ).all()
        for status, month, stage_id, reason_id, *measures in rows:
            totals[(str(status), str(month), int(stage_id), int(reason_id))] = [
                int(m or 0) for m in measures
            ]
    closed = [DealStatus.won.value, DealStatus.lost.value]
    for low, high in parts:
        # Two queries, each along its index (status, expected close / closed at).
        in_part = [
            and_(
                col(Deal.status) == DealStatus.open,
                col(Deal.expected_close) >= low,
                col(Deal.expected_close) <= high,
            ),
            and_(
                col(Deal.status).in_(closed),
                col(Deal.closed_at) >= _start(low),
                col(Deal.closed_at) < _start(high + timedelta(days=1)),
            ),
        ]
        shares: dict[Any, list[int]] = {}
        for part in in_part:
            add_shares(shares, deal_facts(session, [*_scope(actor, flt), part]))
        for (_, _, _, status, month, stage_id, reason_id), measures in shares.items():
            row = totals.setdefault((status, month, stage_id, reason_id), [0] * len(MEASURES))
            for index, value in enumerate(measures):
                row[index] += value
    return totals


def _sum(totals: Totals, status: DealStatus, measure: str) -> int:
    index = MEASURES.index(measure)
    return sum(v[index] for (s, _, _, _), v in totals.items() if s == status.value)


def _cents(value: int) -> Decimal:
    return _money(Decimal(value) / 100)


def by_close_month(
    *, session: Session, actor: Actor, flt: ForecastFilter, totals: Totals | None = None
) -> list[MonthRow]:
    """Weighted pipeline (Σ amount × probability of open deals) by expected close month,
    beside won revenue by the month it closed."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    totals = _totals(session, actor, flt) if totals is None else totals
    stages = {k[2] for k in totals if k[0] == DealStatus.open.value}
    probability = dict(
        session.execute(
            sa_select(col(Stage.id), col(Stage.probability)).where(col(Stage.id).in_(stages))
        ).all()
    )
    # In cent-percents: amount in cents × a whole percentage.
    weights: dict[str, int] = {}
    amounts: dict[str, int] = {}
    won: dict[str, int] = {}
    for (status, month, stage_id, _), (_, cents, default, override, _) in totals.items():
        if status == DealStatus.open.value:
            weights[month] = weights.get(month, 0) + default * probability[stage_id] + override
            amounts[month] = amounts.get(month, 0) + cents
        elif status == DealStatus.won.value:
            won[month] = won.get(month, 0) + cents
    return [
        MonthRow(
            m,
            _money(Decimal(weights.get(m, 0)) / 10000),
            _cents(amounts.get(m, 0)),
            _cents(won.get(m, 0)),
        )
        for m in months_between(flt.since, flt.until)
    ]


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


def outcomes(
    *, session: Session, actor: Actor, flt: ForecastFilter, totals: Totals | None = None
) -> Outcomes:
    """Win rate by count and value, average won size and cycle, and sales velocity."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    totals = _totals(session, actor, flt) if totals is None else totals
    won_n, lost_n = _sum(totals, DealStatus.won, "deals"), _sum(totals, DealStatus.lost, "deals")
    won_v = _cents(_sum(totals, DealStatus.won, "amount_cents"))
    lost_v = _cents(_sum(totals, DealStatus.lost, "amount_cents"))
    won_days = Decimal(_sum(totals, DealStatus.won, "cycle_seconds")) / 86400
    summary = ForecastMonth.__table__  # type: ignore[attr-defined]
    open_count = int(
        session.execute(
            sa_select(func.coalesce(func.sum(summary.c.deals), 0)).where(
                *_scope(actor, flt, ForecastMonth), summary.c.status == DealStatus.open.value
            )
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
        # Every stage's position written into the query (a few dozen stages), so the
        # history is read from its covering index alone, without a look-up per change.
        positions = dict(session.execute(sa_select(col(Stage.id), col(Stage.position))).all())
        position = case(positions, value=col(StageChange.to_stage_id), else_=None)
        furthest_per_deal = (
            sa_select(col(StageChange.deal_id), func.max(position).label("furthest"))
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


def lost_reasons(
    *, session: Session, actor: Actor, flt: ForecastFilter, totals: Totals | None = None
) -> list[LostRow]:
    """Lost deals of the period by reason, most frequent first."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    totals = _totals(session, actor, flt) if totals is None else totals
    by_reason: dict[int, list[int]] = {}
    for (status, _, _, reason_id), (deals, cents, *_) in totals.items():
        if status == DealStatus.lost.value:
            row = by_reason.setdefault(reason_id, [0, 0])
            row[0] += deals
            row[1] += cents
    labels = dict(
        session.execute(
            sa_select(col(LostReason.id), col(LostReason.label)).where(
                col(LostReason.id).in_(by_reason)
            )
        ).all()
    )
    rows = [
        LostRow(str(labels[reason_id]), deals, _cents(cents))
        for reason_id, (deals, cents) in by_reason.items()
        if reason_id in labels and deals
    ]
    return sorted(rows, key=lambda r: (-r.deals, r.reason))


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


def _in_own_session(
    session: Session,
    report: Callable[..., list[StageTime]],
    actor: Actor,
    flt: ForecastFilter,
    pipeline_id: int,
) -> list[StageTime]:
    """Run a stage report on a new session of the same database (committed data only)."""
    with Session(session.get_bind()) as own:
        return report(session=own, actor=actor, flt=flt, pipeline_id=pipeline_id)


def forecast_report(*, session: Session, actor: Actor, flt: ForecastFilter) -> ForecastReport:
    """The whole forecast for `flt`, from the report cache while no deal has changed."""
    require_role(actor, Role.admin, Role.manager, Role.sales, doing="see the forecast")
    pipeline_id = flt.pipeline_id or 0

    def compute() -> ForecastReport:
        # The two reports read from the stage history are the slow part, and neither
        # needs the other: time in stage is read on a connection of its own meanwhile.
        with ThreadPoolExecutor(max_workers=1) as pool:
            times = pool.submit(_in_own_session, session, time_in_stage, actor, flt, pipeline_id)
            steps = conversion_funnel(
                session=session, actor=actor, flt=flt, pipeline_id=pipeline_id
            )
            totals = _totals(session, actor, flt)  # read once for the three built on it
            return ForecastReport(
                months=by_close_month(session=session, actor=actor, flt=flt, totals=totals),
                outcome=outcomes(session=session, actor=actor, flt=flt, totals=totals),
                steps=steps,
                times=times.result(),
                lost=lost_reasons(session=session, actor=actor, flt=flt, totals=totals),
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
