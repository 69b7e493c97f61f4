"""Backups while the app runs: SQLite's online backup API, or a logical export.

SQLite: `backup` copies the live database page by page through SQLite's backup API,
which gives a consistent copy even while others write. PostgreSQL: `backup` writes a
logical export (every table's rows as JSON lines, gzip-compressed) from one
repeatable-read snapshot, so it is consistent too. `restore` loads either kind into an
empty database (migrated to the same revision for a logical export).
"""

import base64
import datetime as dt
import decimal
import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

import db.models  # noqa: F401  (every table on the metadata)
from db.core.errors import Conflict, ValidationError
from db.core.migrate import current_heads

SQLITE_MAGIC = b"SQLite format 3\x00"
FORMAT = "rapport-logical-export-1"
# Exported in key order, never in the order stored: their keys are random, so the file
# carries no sequence that could be matched against invitations or the audit log.
UNORDERED_TABLES = frozenset({"survey_response", "survey_answer"})


def _sqlite_path(engine: Engine) -> str:
    database = make_url(str(engine.url)).database
    if not database:
        raise ValidationError("Backup: this SQLite database has no file.", field="database")
    return database


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return {"$t": type(value).__name__, "v": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$t": "decimal", "v": str(value)}
    if isinstance(value, bytes):
        return {"$t": "bytes", "v": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "$t" in value:
        kind, raw = value["$t"], value["v"]
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if kind == "date":
            return dt.date.fromisoformat(raw)
        if kind == "time":
            return dt.time.fromisoformat(raw)
        if kind == "decimal":
            return decimal.Decimal(raw)
        if kind == "bytes":
            return base64.b64decode(raw)
    return value


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for comparing a database with its backup."""
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }


def backup(engine: Engine, target: Path) -> dict[str, int]:
    """Write a consistent backup of the live database to `target`; returns row counts."""
    if target.exists():
        raise Conflict(f"Backup: {target} exists already; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine), timeout=30)
        destination = sqlite3.connect(str(target))
        try:
            with destination:
                source.backup(destination, pages=1024)
        finally:
            destination.close()
            source.close()
        from db.core.engine import make_engine

        copy = make_engine(f"sqlite:///{target}")
        try:
            return table_counts(copy)
        finally:
            copy.dispose()
    return _logical_export(engine, target)


def _logical_export(engine: Engine, target: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        heads = sorted(current_heads(engine))
        with gzip.open(target, "wt", encoding="utf-8") as out:
            out.write(json.dumps({"format": FORMAT, "revisions": heads}) + "\n")
            for table in SQLModel.metadata.sorted_tables:
                columns = [c.name for c in table.columns]
                n = 0
                query = select(table)
                if table.name in UNORDERED_TABLES:
                    query = query.order_by(*table.primary_key.columns)
                result = connection.execution_options(yield_per=5000).execute(query)
                for row in result:
                    values = [_encode(v) for v in row]
                    out.write(
                        json.dumps({"t": table.name, "r": dict(zip(columns, values, strict=True))})
                        + "\n"
                    )
                    n += 1
                counts[table.name] = n
            out.write(json.dumps({"counts": counts}) + "\n")
        connection.rollback()
    return counts


def restore(engine: Engine, source: Path) -> dict[str, int]:
    """Load a backup into an empty database; returns the row counts restored."""
    if not source.exists():
        raise ValidationError(f"Restore: there is no file {source}.", field="path")
    with source.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    if magic == SQLITE_MAGIC:
        return _restore_sqlite_file(engine, source)
    return _restore_logical(engine, source)


def _require_empty(engine: Engine) -> None:
    existing = table_counts(engine) if _has_tables(engine) else {}
    if any(existing.values()):
        raise Conflict("Restore: the target database is not empty; restore into a new one.")


def _has_tables(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(engine).get_table_names())


def _restore_sqlite_file(engine: Engine, source: Path) -> dict[str, int]:
    if engine.dialect.name != "sqlite":
        raise ValidationError(
            "Restore: a SQLite backup restores into SQLite; for PostgreSQL, make a logical "
            "export from a running Rapport with `manage.py backup` on that database.",
            field="path",
        )
    _require_empty(engine)
    engine.dispose()
    origin = sqlite3.connect(str(source))
    destination = sqlite3.connect(_sqlite_path(engine), timeout=30)
    try:
        with destination:
            origin.backup(destination)
    finally:
        destination.close()
        origin.close()
    engine.dispose()
    return table_counts(engine)


def _restore_logical(engine: Engine, source: Path) -> dict[str, int]:
    tables: dict[str, Table] = {t.name: t for t in SQLModel.metadata.sorted_tables}
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        if header.get("format") != FORMAT:
            raise ValidationError("Restore: this file is not a Rapport backup.", field="path")
        heads = sorted(current_heads(engine))
        if heads != header["revisions"]:
            raise Conflict(
                f"Restore: the backup is at revision {header['revisions']} but the database "
                f"is at {heads}; run `manage.py migrate` to the same revision first."
            )
        _require_empty(engine)
        expected: dict[str, int] = {}
        with engine.begin() as connection:
            batch: list[dict[str, Any]] = []
            current: str | None = None
            for line in handle:
                item = json.loads(line)
                if "counts" in item:
                    expected = item["counts"]
                    continue
                if item["t"] != current and batch and current:
                    connection.execute(insert(tables[current]), batch)
                    batch = []
                current = item["t"]
                batch.append({k: _decode(v) for k, v in item["r"].items()})
                if len(batch) >= 5000:
                    connection.execute(insert(tables[current]), batch)
                    batch = []
            if batch and current:
                connection.execute(insert(tables[current]), batch)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection, tables.values())
    restored = table_counts(engine)
    if expected and any(restored.get(name, 0) != n for name, n in expected.items()):
        raise Conflict("Restore: the row counts differ from the backup's; the file is damaged.")
    return restored


def _reset_sequences(connection: Any, tables: Any) -> None:
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto"
                and column.type.python_type is int
                and len(table.primary_key.columns) == 1
            ):
                connection.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:t, :c), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    ),
                    {"t": table.name, "c": column.name},
                )
