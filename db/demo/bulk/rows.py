"""What every bulk seeder shares: the world being built, and chunked inserts by table."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlmodel import Session, SQLModel

CHUNK = 5000


@dataclass
class World:
    """What the bulk seeders share: the generator, the scale and the ids made so far."""

    rng: random.Random
    scale: float
    owner_ids: list[int]
    team_of: dict[int, str | None]
    ids: dict[str, list[int]]


BulkSeeder = Callable[[Session, World], dict[str, int]]


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel class, for inserts that skip the ORM."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def bulk_insert(session: Session, model: type[SQLModel], rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in chunks with executemany; returns how many."""
    table = table_of(model)
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            session.execute(insert(table), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
        count += len(chunk)
    session.commit()
    return count


def new_ids(session: Session, model: type[SQLModel], before: int) -> list[int]:
    """Ids of the rows of `model` inserted after id `before`, in order."""
    table = table_of(model)
    return list(
        session.execute(
            select(table.c.id).where(table.c.id > before).order_by(table.c.id)
        ).scalars()
    )


def max_id(session: Session, model: type[SQLModel]) -> int:
    """The largest id of `model` so far (0 for an empty table)."""
    table = table_of(model)
    return int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
