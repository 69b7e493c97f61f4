"""The forecast summary (`forecast_month`): each deal's share of it, and keeping it exact.

A deal adds to exactly one row: an open deal to its expected close month and stage, a won
or lost deal to the UTC month it closed (a lost one under its reason). Every command that
changes a deal takes the deal's facts before and after the change and calls
`apply_deal_delta` in the same transaction, so the summary never disagrees with the deals:
a rolled-back change rolls its delta back too. The benchmark seeder and the backfill add
deals a batch at a time through `apply_deal_deltas`, the same function.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from db.models.pipeline import Deal, DealStatus, ForecastMonth

KEY = ("pipeline_id", "owner_id", "currency", "status", "month", "stage_id", "lost_reason_id")
MEASURES = ("deals", "amount_cents", "default_cents", "override_weight", "cycle_seconds")
Key = tuple[int, int, str, str, str, int, int]
Measures = tuple[int, int, int, int, int]
# Rows per statement when a batch of deals is added (seeder, backfill, import revert).
_CHUNK = 500


@dataclass(frozen=True)
class DealFacts:
    """What of a deal the forecast reads: enough to find its row and its share."""

    pipeline_id: int
    owner_id: int
    currency: str
    status: str
    stage_id: int
    amount: Decimal
    probability_override: int | None
    expected_close: date | None
    closed_at: datetime | None
    created_at: datetime
    lost_reason_id: int | None


FACT_COLUMNS = tuple(f.name for f in fields(DealFacts))


def _normal(name: str, value: Any) -> Any:
    if name == "status":
        return DealStatus(value).value
    if name == "amount":
        return Decimal(str(value or 0)).quantize(Decimal("0.01"))
    return value


def facts_of(deal: Deal | Mapping[str, Any]) -> DealFacts:
    """The forecast's facts of a deal (a row, or a mapping of its columns)."""
    if isinstance(deal, Mapping):
        return DealFacts(**{n: _normal(n, deal[n]) for n in FACT_COLUMNS})
    return DealFacts(**{n: _normal(n, getattr(deal, n)) for n in FACT_COLUMNS})


def facts_after(before: DealFacts, values: Mapping[str, Any]) -> DealFacts:
    """`before` with the changed columns among `values` (others are ignored)."""
    return replace(before, **{k: _normal(k, v) for k, v in values.items() if k in FACT_COLUMNS})


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def share(facts: DealFacts) -> tuple[Key, Measures]:
    """The summary row a deal belongs to, and what it adds there."""
    cents = int(facts.amount * 100)
    base = (facts.pipeline_id, facts.owner_id, facts.currency, facts.status)
    if facts.status == DealStatus.open.value:
        month = f"{facts.expected_close:%Y-%m}" if facts.expected_close else ""
        override = facts.probability_override
        key: Key = (*base, month, facts.stage_id, 0)
        if override is None:
            return key, (1, cents, cents, 0, 0)
        return key, (1, cents, 0, cents * int(override), 0)
    closed = _utc(facts.closed_at) if facts.closed_at else None
    month = f"{closed:%Y-%m}" if closed else ""
    if facts.status == DealStatus.won.value:
        cycle = (closed - _utc(facts.created_at)) // timedelta(seconds=1) if closed else 0
        return (*base, month, 0, 0), (1, cents, 0, 0, cycle)
    return (*base, month, 0, facts.lost_reason_id or 0), (1, cents, 0, 0, 0)


def add_shares(
    totals: dict[Key, list[int]], facts: Iterable[DealFacts], sign: int = 1
) -> dict[Key, list[int]]:
    """Add (or with sign -1 take away) each deal's share into `totals`, by row."""
    for one in facts:
        key, measures = share(one)
        row = totals.setdefault(key, [0] * len(MEASURES))
        for index, value in enumerate(measures):
            row[index] += sign * value
    return totals


def _table() -> Table:
    table = ForecastMonth.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def _row(key: Key, measures: Sequence[int]) -> dict[str, Any]:
    return {**dict(zip(KEY, key, strict=True)), **dict(zip(MEASURES, measures, strict=True))}


def _upsert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    table = _table()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(list(rows))
    session.execute(
        statement.on_conflict_do_update(
            index_elements=list(KEY),
            set_={m: table.c[m] + statement.excluded[m] for m in MEASURES},
        )
    )


def apply_deal_deltas(
    session: Session, changes: Iterable[tuple[DealFacts | None, DealFacts | None]]
) -> None:
    """Move each deal's share from its row before a change to its row after it (None: the
    deal did not exist before, or no longer does), in the caller's transaction."""
    totals: dict[Key, list[int]] = {}
    for before, after in changes:
        if before is not None:
            add_shares(totals, [before], -1)
        if after is not None:
            add_shares(totals, [after])
    # Sorted, so two transactions lock the rows they share in the same order.
    changed = sorted((k, v) for k, v in totals.items() if any(v))
    for start in range(0, len(changed), _CHUNK):
        chunk = changed[start : start + _CHUNK]
        _upsert(session, [_row(k, v) for k, v in chunk])
        emptied = [_row(k, v) for k, v in chunk if v[0] < 0]
        if emptied:
            table = _table()
            keys = (and_(*(table.c[c] == row[c] for c in KEY)) for row in emptied)
            session.execute(delete(table).where(table.c.deals == 0, or_(*keys)))


def apply_deal_delta(session: Session, before: DealFacts | None, after: DealFacts | None) -> None:
    """One deal's change (`before` None: created; `after` None: deleted) in the summary."""
    apply_deal_deltas(session, [(before, after)])


def deal_facts(session: Session, conditions: Sequence[Any] = ()) -> Iterable[DealFacts]:
    """The facts of the deals matching `conditions`, read in one query."""
    deal = Deal.__table__  # type: ignore[attr-defined]
    query = select(*(deal.c[n] for n in FACT_COLUMNS)).where(*conditions)
    for row in session.execute(query).mappings():
        yield facts_of(dict(row))


def rebuild_forecast_summary(session: Session) -> int:
    """Recompute the whole summary from the deals (a backfill or a repair); returns the
    number of deals counted. Does not commit."""
    session.execute(delete(_table()))
    every = list(deal_facts(session))
    apply_deal_deltas(session, ((None, facts) for facts in every))
    return len(every)


def stored_summary(session: Session) -> dict[Key, Measures]:
    """Every row of the summary that counts a deal, as stored."""
    table = _table()
    found: dict[Key, Measures] = {}
    for row in session.execute(select(table).where(table.c.deals != 0)).mappings():
        key = tuple(row[c] for c in KEY)
        found[key] = tuple(int(row[m]) for m in MEASURES)  # type: ignore[assignment]
    return found


def recomputed_summary(session: Session) -> dict[Key, Measures]:
    """What the summary should hold, folded from every deal afresh."""
    totals = add_shares({}, deal_facts(session))
    return {k: tuple(v) for k, v in totals.items() if v[0]}  # type: ignore[misc]
