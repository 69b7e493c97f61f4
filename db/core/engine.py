"""The engine, built once per database URL, and sessions on it."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from db.core.settings import get_settings
from db.core.types import storable_text


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer commits; busy_timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _clean(value: Any) -> Any:
    return storable_text(value) if type(value) is str else value


def _clean_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> tuple[str, Any]:
    """Clean every text parameter, typed or not (raw SQL, function results, look-ups).

    Columns clean their own values (db.core.types.CleanString); this catches what reaches
    PostgreSQL without a column's type, so no text can make it refuse a statement.
    """
    # A batch of many rows (a list of rows), or one row: a dict, as psycopg's named
    # parameters are, also for a batch of insertmanyvalues.
    if executemany and isinstance(parameters, list | tuple):
        return statement, [_clean_row(row) for row in parameters]
    return statement, _clean_row(parameters)


def _clean_row(row: Any) -> Any:
    if isinstance(row, dict):
        return {key: _clean(value) for key, value in row.items()}
    if isinstance(row, list | tuple):
        return type(row)(_clean(value) for value in row)
    return row


def make_engine(url: str) -> Engine:
    """Build an engine for a URL, with the per-dialect settings Rapport needs."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        _prepare_sqlite_file(url)
        engine = create_engine(
            url,
            # Errors never quote a statement's parameters: they hold what people typed
            # (a concern's text, a reporter's contact details), and errors reach the log.
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 5},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if backend == "postgresql":
        # Keep any libpq options given in the URL (e.g. a search_path) and add UTC.
        options = " ".join(
            filter(None, [str(make_url(url).query.get("options", "")), "-c timezone=UTC"])
        )
        engine = create_engine(
            url,
            hide_parameters=True,  # as for SQLite: no typed text in errors or the log
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"connect_timeout": 5, "options": options},
        )
        event.listen(engine, "before_cursor_execute", _clean_parameters, retval=True)
        return engine
    raise RuntimeError(
        f"Unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://…"
    )


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for `url` (default: RAPPORT_DATABASE_URL)."""
    key = url or get_settings().database_url
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = make_engine(key)
    return engine


def reset_engines() -> None:
    """Dispose every cached engine (tests and the restore command use this)."""
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose objects stay readable after commit; rolled back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
