"""Writing many new rows at once: COPY on PostgreSQL, one executemany elsewhere.

psycopg's multi-row INSERT has the driver rewrite every chunk's placeholders in Python,
which was most of a 100k-row import's time on PostgreSQL; COPY streams the rows in the
server's own format instead. Values go through each column's own bind processing first,
exactly as an INSERT would send them (text cleaned of what PostgreSQL cannot store, enums
by name, datetimes in UTC), so both paths store the same thing.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType
from sqlmodel import Session


def uses_copy(session: Session) -> bool:
    """Whether this session's database takes rows by COPY (PostgreSQL with psycopg 3)."""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(array)`, one parameter rather than
    a thousand that the driver rewrites and the server parses, with the same index use."""
    wanted = list(values)
    if session.get_bind().dialect.name == "postgresql":
        kind = String() if isinstance(column.type, NullType) else column.type  # lower(name)
        array = bindparam(None, wanted, type_=ARRAY(kind))
        found: ColumnElement[bool] = column == any_(array)
        return found
    return column.in_(wanted)  # type: ignore[no-any-return]


def new_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` ids from the table's own sequence (PostgreSQL), never given before."""
    if count == 0:
        return []
    return list(
        session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        ).scalars()
    )


def sqlite_last_id(session: Session, table: str) -> int:
    """The highest id SQLite ever gave in `table`, deleted rows included (AUTOINCREMENT
    keeps it in sqlite_sequence), so ids given after it are never a deleted row's."""
    given = session.execute(
        text("SELECT seq FROM sqlite_sequence WHERE name = :name"), {"name": table}
    ).scalar()
    live = session.execute(text(f"SELECT max(id) FROM {table}")).scalar()  # noqa: S608
    return max(int(given or 0), int(live or 0))


def add_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts of column values; missing columns take their defaults)."""
    if not rows:
        return
    if not uses_copy(session):
        session.execute(insert(table), list(rows))
        return
    names = list(dict.fromkeys(name for row in rows for name in row))
    # COPY, unlike an INSERT, leaves a column no row names to the server, which knows
    # nothing of the Python-side defaults: send those too.
    names += [c.name for c in table.c if c.default is not None and c.name not in names]
    dialect = session.get_bind().dialect
    processors = [table.c[name].type.bind_processor(dialect) for name in names]
    defaults = {name: _python_default(table, name) for name in names}
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    statement = f"COPY {dialect.identifier_preparer.quote(table.name)} ({columns}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:
            values = []
            for name, process in zip(names, processors, strict=True):
                value = row[name] if name in row else defaults[name]
                values.append(
                    process(value) if process is not None and value is not None else value
                )
            copy.write_row(values)


def _python_default(table: Table, name: str) -> Any:
    """The value an INSERT would give a column a row leaves out (its Python-side default)."""
    default: Any = table.c[name].default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg
