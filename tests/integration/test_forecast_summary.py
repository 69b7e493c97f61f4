"""The forecast summary stays equal to a full recomputation from the deals after any
sequence of changes (create, move, win, lose, reopen, re-date, re-price, re-own, change
pipeline, import, revert an import, a refused stale edit, a stage's new probability), and
the forecast read from it equals the figures computed from every deal afresh."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.auth.visibility import can_read
from db.core.errors import DomainError
from db.core.migrate import alembic_config, upgrade
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.imports.batches import list_batches, revert_batch, run_import
from db.models.auth import User
from db.models.pipeline import (
    Deal,
    DealCreate,
    DealStatus,
    DealUpdate,
    ForecastMonth,
    LostReason,
    Pipeline,
    Stage,
)
from db.pipeline.commands import (
    change_owner,
    change_pipeline,
    create_deal,
    lose_deal,
    move_deal,
    reassign_deals,
    reopen_deal,
    update_deal,
    win_deal,
)
from db.pipeline.forecast import ForecastFilter, by_close_month, lost_reasons, outcomes
from db.pipeline.metrics import average, months_between, sales_velocity, win_rate
from db.pipeline.setup import StageSpec, add_lost_reason, create_pipeline, update_stage
from db.pipeline.summary import rebuild_forecast_summary, recomputed_summary, stored_summary
from tests.conftest import backends, drop_postgres_schema, fresh_engine

OWNERS = ("admin", "manager", "sales", "sales2")
STAGES = ("Lead", "Qualified", "Proposal")
TODAY = utcnow().date()
CENT = Decimal("0.01")


@dataclass
class World:
    session: Session
    pipelines: list[Pipeline]
    reason: int

    def user(self, name: str) -> User:
        found = get_user_by_username(session=self.session, username=name)
        assert found is not None
        return found

    def deal(self, index: int) -> Deal | None:
        ids = sorted(self.session.exec(select(Deal.id)).all())
        return self.session.get(Deal, ids[index % len(ids)]) if ids else None


@pytest.fixture
def world(session: Session) -> World:
    seed_users(session=session)
    pipelines = [
        create_pipeline(
            session=session,
            name="New business",
            currency="GBP",
            stages=[StageSpec(n, p) for n, p in zip(STAGES, (10, 40, 60), strict=True)],
            actor=OPERATOR,
        ),
        create_pipeline(
            session=session,
            name="Renewals",
            currency="EUR",
            stages=[StageSpec("Talk", 30), StageSpec("Offer", 70)],
            actor=OPERATOR,
        ),
    ]
    reason = add_lost_reason(session=session, label="Price too high", actor=OPERATOR).id or 0
    return World(session, pipelines, reason)


def _ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days, minutes=1)


def _stage(world: World, pipeline_id: int, index: int) -> int:
    stages = world.session.exec(
        select(Stage.id).where(Stage.pipeline_id == pipeline_id).order_by(col(Stage.position))
    ).all()
    return stages[index % len(stages)] or 0


amounts = st.integers(min_value=0, max_value=5_000_000).map(lambda c: Decimal(c) / 100)
overrides = st.one_of(st.none(), st.integers(min_value=0, max_value=100))
closes = st.one_of(st.none(), st.integers(min_value=-400, max_value=400))
back = st.integers(min_value=0, max_value=500)
index = st.integers(min_value=0, max_value=50)


def _close(offset: int | None) -> date | None:
    return None if offset is None else TODAY + timedelta(days=offset)


def op_create(
    world: World,
    p: int,
    owner: str,
    amount: Decimal,
    override: Any,
    close: Any,
    days: int,
    eur: bool,
) -> None:
    """A deal made `days` ago in the `p`-th pipeline, in its currency or in EUR."""
    pipeline = world.pipelines[p % 2]
    create_deal(
        session=world.session,
        deal_in=DealCreate(
            title="Care records",
            pipeline_id=pipeline.id or 0,
            owner_id=world.user(owner).id,
            amount=amount,
            currency="EUR" if eur else pipeline.currency,
            probability_override=override,
            expected_close=_close(close),
        ),
        actor=world.user("admin"),
        at=_ago(days),
    )


def _on(action: Callable[[World, Deal], object]) -> Callable[..., None]:
    def run(world: World, i: int, *args: Any) -> None:
        deal = world.deal(i)
        if deal is not None:
            action(world, deal, *args)  # type: ignore[call-arg]

    return run


def _common(world: World, deal: Deal) -> dict[str, Any]:
    return {
        "session": world.session,
        "deal_id": deal.id or 0,
        "version": deal.version,
        "actor": world.user("admin"),
    }


OPS: dict[str, tuple[Callable[..., None], Any]] = {
    "create": (
        op_create,
        st.tuples(index, st.sampled_from(OWNERS), amounts, overrides, closes, back, st.booleans()),
    ),
    "move": (
        _on(
            lambda w, d, s, days: move_deal(
                **_common(w, d), stage_id=_stage(w, d.pipeline_id, s), at=_ago(days)
            )
        ),
        st.tuples(index, index, back),
    ),
    "win": (
        _on(lambda w, d, a, days: win_deal(**_common(w, d), amount=a, at=_ago(days))),
        st.tuples(index, amounts, back),
    ),
    "lose": (
        _on(
            lambda w, d, days: lose_deal(
                **_common(w, d), reason_id=w.reason, note=None, at=_ago(days)
            )
        ),
        st.tuples(index, back),
    ),
    "reopen": (_on(lambda w, d: reopen_deal(**_common(w, d))), st.tuples(index)),
    "update": (
        _on(
            lambda w, d, a, o, c, eur: update_deal(
                **_common(w, d),
                patch=DealUpdate(
                    amount=a,
                    probability_override=o,
                    expected_close=_close(c),
                    currency="EUR" if eur else "GBP",
                ),
            )
        ),
        st.tuples(index, amounts, overrides, closes, st.booleans()),
    ),
    "owner": (
        _on(lambda w, d, o: change_owner(**_common(w, d), owner_id=w.user(o).id or 0)),
        st.tuples(index, st.sampled_from(OWNERS)),
    ),
    "reassign": (
        lambda w, picks, o: reassign_deals(
            session=w.session,
            deal_ids=sorted({d.id or 0 for i in picks if (d := w.deal(i)) is not None}),
            owner_id=w.user(o).id or 0,
            actor=w.user("admin"),
        ),
        st.tuples(st.lists(index, min_size=1, max_size=4), st.sampled_from(OWNERS)),
    ),
    "pipeline": (
        _on(
            lambda w, d, p: change_pipeline(
                **_common(w, d), pipeline_id=w.pipelines[p % 2].id or 0, stage_id=None
            )
        ),
        st.tuples(index, index),
    ),
    "stale": (
        _on(
            lambda w, d, s: move_deal(
                **{**_common(w, d), "version": d.version - 1},
                stage_id=_stage(w, d.pipeline_id, s),
            )
        ),
        st.tuples(index, index),
    ),
    "probability": (
        lambda w, s, p: update_stage(
            session=w.session,
            stage_id=(stage := w.session.get(Stage, _stage(w, w.pipelines[0].id or 0, s))).id or 0,
            spec=StageSpec(stage.name, p),
            position=stage.position,
            actor=OPERATOR,
        ),
        st.tuples(index, st.integers(min_value=0, max_value=100)),
    ),
    "import": (
        lambda w, rows: run_import(
            session=w.session,
            actor=w.user("admin"),
            kind="deals",
            filename="d.csv",
            update_by="external_ref",
            data=(
                "external_ref,title,pipeline,stage,amount,expected_close,owner,lost_reason\n"
                + "".join(
                    f"x{ref},Imported,New business,{stage},{amount},"
                    f"{_close(close) or ''},{owner},Price too high\n"
                    for ref, stage, amount, close, owner in rows
                )
            ).encode(),
        ),
        st.tuples(
            st.lists(
                st.tuples(
                    st.integers(min_value=0, max_value=6),
                    st.sampled_from([*STAGES, "Won", "Lost"]),
                    amounts,
                    closes,
                    st.sampled_from(OWNERS),
                ),
                min_size=1,
                max_size=4,
            )
        ),
    ),
    "revert": (
        lambda w: [
            revert_batch(session=w.session, batch_id=b.id or 0, actor=w.user("admin"))
            for b in list_batches(session=w.session, actor=w.user("admin"))[:1]
            if b.reverted_at is None
        ],
        st.tuples(),
    ),
}

steps = st.lists(
    st.sampled_from(sorted(OPS)).flatmap(lambda name: st.tuples(st.just(name), OPS[name][1])),
    min_size=1,
    max_size=20,
)


def _expected(world: World, actor: User, flt: ForecastFilter) -> tuple[Any, Any, Any]:
    """The forecast's figures computed from every deal, without the summary."""
    session = world.session
    probability = {s.id: s.probability for s in session.exec(select(Stage)).all()}
    labels = {r.id: r.label for r in session.exec(select(LostReason)).all()}
    teams = {u.id: u.team for u in session.exec(select(User)).all()}
    start = datetime.combine(flt.since, time.min, tzinfo=UTC)
    end = datetime.combine(flt.until + timedelta(days=1), time.min, tzinfo=UTC)
    deals = [
        d
        for d in session.exec(select(Deal)).all()
        if d.currency == flt.currency
        and d.pipeline_id == flt.pipeline_id
        and can_read(session=session, actor=actor, owner_id=d.owner_id)
        and flt.owner_id in (None, d.owner_id)
        and flt.team in (None, teams.get(d.owner_id))
    ]
    months = {m: [Decimal(0), Decimal(0), Decimal(0)] for m in months_between(flt.since, flt.until)}
    won, lost, cycle, lost_by = [], [], 0, {}
    for d in deals:
        if d.status == DealStatus.open:
            if d.expected_close and flt.since <= d.expected_close <= flt.until:
                p = d.probability_override
                p = probability[d.stage_id] if p is None else p
                months[f"{d.expected_close:%Y-%m}"][0] += d.amount * p / 100
                months[f"{d.expected_close:%Y-%m}"][1] += d.amount
        elif d.closed_at is not None and start <= d.closed_at < end:
            if d.status == DealStatus.won:
                won.append(d.amount)
                months[f"{d.closed_at.astimezone(UTC):%Y-%m}"][2] += d.amount
                cycle += (d.closed_at - d.created_at) // timedelta(seconds=1)
            else:
                lost.append(d.amount)
                if d.lost_reason_id in labels:
                    row = lost_by.setdefault(labels[d.lost_reason_id], [0, Decimal(0)])
                    row[0] += 1
                    row[1] += d.amount
    month_rows = [(m, *(v.quantize(CENT) for v in values)) for m, values in sorted(months.items())]
    open_count = sum(1 for d in deals if d.status == DealStatus.open)
    rate = win_rate(len(won), len(lost))
    avg_won = average(sum(won, Decimal(0)), len(won))
    days = average(Decimal(cycle) / 86400, len(won))
    figures = (
        len(won),
        len(lost),
        sum(won, Decimal(0)).quantize(CENT),
        sum(lost, Decimal(0)).quantize(CENT),
        rate,
        win_rate(sum(won, Decimal(0)), sum(lost, Decimal(0))),
        days,
        open_count,
        sales_velocity(open_count, avg_won, rate, days),
    )
    reasons = sorted(
        ((k, n, v.quantize(CENT)) for k, (n, v) in lost_by.items()), key=lambda r: (-r[1], r[0])
    )
    return month_rows, figures, reasons


def _reported(world: World, actor: User, flt: ForecastFilter) -> tuple[Any, Any, Any]:
    session = world.session
    months = by_close_month(session=session, actor=actor, flt=flt)
    result = outcomes(session=session, actor=actor, flt=flt)
    figures = (
        result.won_count,
        result.lost_count,
        result.won_value,
        result.lost_value,
        result.win_rate_count,
        result.win_rate_value,
        result.average_cycle_days,
        result.open_count,
        result.velocity,
    )
    reasons = [
        (r.reason, r.deals, r.value) for r in lost_reasons(session=session, actor=actor, flt=flt)
    ]
    return [(m.month, m.weighted, m.open_amount, m.won) for m in months], figures, reasons


def _filters(world: World) -> list[ForecastFilter]:
    first = TODAY.replace(day=1)
    whole = (
        first.replace(year=first.year - 2),
        first.replace(year=first.year + 2) - timedelta(days=1),
    )
    # A period that starts and ends inside a month: the edges come from the deals.
    part = (TODAY - timedelta(days=200), TODAY + timedelta(days=45))
    sales = world.user("sales").id
    return [
        ForecastFilter(
            since=since, until=until, currency=p.currency, pipeline_id=p.id, owner_id=o, team=t
        )
        for since, until in (whole, part)
        for p in world.pipelines
        for o, t in ((None, None), (sales, None), (None, "North"))
    ]


@given(steps=steps)
def test_the_summary_equals_a_full_recomputation_after_any_sequence_of_changes(
    world: World, steps: list[tuple[str, tuple[Any, ...]]]
) -> None:
    session = world.session
    for name, args in steps:
        try:
            OPS[name][0](world, *args)
        except DomainError:
            session.rollback()
        session.expire_all()
        assert stored_summary(session) == recomputed_summary(session), (name, args)
    for actor in (world.user("admin"), world.user("sales")):
        for flt in _filters(world):
            assert _reported(world, actor, flt) == _expected(world, actor, flt), flt


def test_a_stage_s_new_probability_reweighs_its_open_deals_at_once(world: World) -> None:
    session = world.session
    pipeline = world.pipelines[0]
    op_create(world, 0, "sales", Decimal("1000"), None, 10, 3, False)
    flt = ForecastFilter(since=TODAY, until=TODAY + timedelta(days=40), pipeline_id=pipeline.id)
    admin = world.user("admin")
    assert sum(m.weighted for m in by_close_month(session=session, actor=admin, flt=flt)) == 100
    lead = _stage(world, pipeline.id or 0, 0)
    update_stage(
        session=session, stage_id=lead, spec=StageSpec("Lead", 35), position=1, actor=OPERATOR
    )
    assert sum(m.weighted for m in by_close_month(session=session, actor=admin, flt=flt)) == 350


def test_money_sums_to_the_cent_however_many_deals_add_up(world: World) -> None:
    """Cents are whole numbers in the summary: 0.10 + 0.20 is 0.30 on every database."""
    for amount in ("0.10", "0.20", "1234567.89", "0.01"):
        op_create(world, 0, "sales", Decimal(amount), 33, 5, 2, False)
    flt = ForecastFilter(
        since=TODAY, until=TODAY + timedelta(days=40), pipeline_id=world.pipelines[0].id
    )
    months = by_close_month(session=world.session, actor=world.user("admin"), flt=flt)
    assert sum(m.open_amount for m in months) == Decimal("1234568.20")
    # 1234568.20 × 33 % = 407407.506 → 407407.51 (exact, not a float's 407407.50999…)
    assert sum(m.weighted for m in months) == Decimal("407407.51")


@pytest.mark.parametrize("backend", backends())
def test_the_migration_fills_the_summary_from_the_deals_already_there(
    backend: str, tmp_path: Any
) -> None:
    engine: Engine
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            seed_users(session=session)
            here = World(session, [], 0)
            here.pipelines = [
                create_pipeline(
                    session=session,
                    name=name,
                    currency=currency,
                    stages=[StageSpec("Lead", 20), StageSpec("Offer", 60)],
                    actor=OPERATOR,
                )
                for name, currency in (("New business", "GBP"), ("Renewals", "EUR"))
            ]
            here.reason = add_lost_reason(session=session, label="Price", actor=OPERATOR).id or 0
            for n in range(6):
                op_create(here, n, OWNERS[n % 4], Decimal(100 + n), None, n * 20, n, n == 5)
            deal = here.deal(1)
            assert deal is not None
            win_deal(**_common(here, deal), amount=Decimal("80"), at=_ago(0))
            expected = stored_summary(session)
            assert expected == recomputed_summary(session) and expected
        command.downgrade(alembic_config(engine), "0034_contact_email2_index")
        upgrade(engine)
        with Session(engine) as session:
            assert stored_summary(session) == expected
            # The repair gives the same answer again.
            session.execute(delete(ForecastMonth))
            assert rebuild_forecast_summary(session) == 6
            assert stored_summary(session) == expected
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()
