"""Shared fixtures: settings for fast tests, and a database per backend."""

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property-based tests stay fast: a modest number of examples, no per-example deadline
# (the first example of a test pays for imports and table creation). Tests that use a
# database fixture reuse it across examples and compare row counts per example.
# - "rapport" (local runs): new examples each run, failures kept in .hypothesis/ and
#   replayed first next time.
# - "ci": the same examples on every run of the same commit (derandomize), so whether CI
#   passes depends on the change, never on chance; no example database.
# - "thorough": explores widely; run it before a submission, and turn what it finds into
#   @example regressions. RAPPORT_HYPOTHESIS_PROFILE=thorough make test
# Every profile prints the blob that reproduces a failure (@reproduce_failure).
hypothesis_settings.register_profile(
    "rapport",
    max_examples=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile(
    "ci", hypothesis_settings.get_profile("rapport"), derandomize=True, database=None
)
hypothesis_settings.register_profile(
    "thorough", hypothesis_settings.get_profile("rapport"), max_examples=1000
)
hypothesis_settings.load_profile(
    os.environ.get("RAPPORT_HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "rapport")
)

# Settings must be in place before db/ or streamlit read them.
os.environ["RAPPORT_BCRYPT_ROUNDS"] = "4"
os.environ.setdefault("RAPPORT_COOKIE_KEY", secrets.token_urlsafe(48))
os.environ.pop("RAPPORT_ORG_NAME", None)

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import db.models  # noqa: E402,F401  (registers every table)
from db.core.engine import make_engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL", "").strip()


def pytest_configure(config: pytest.Config) -> None:
    """In CI, PostgreSQL is required: a missing URL is a failure, not a skip."""
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true but RAPPORT_TEST_POSTGRES_URL is not set.")


def backends() -> list[str]:
    """The databases integration tests run on."""
    return ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def postgres_schema_engine(schema: str) -> Engine:
    """An engine whose connections live in their own schema of the test database."""
    url = make_url(POSTGRES_URL)
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = make_engine(url.render_as_string(hide_password=False))
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    return engine


def drop_postgres_schema(engine: Engine, schema: str) -> None:
    """Remove a test schema and everything in it."""
    engine.dispose()
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def fresh_engine(backend: str, tmp_path: Path) -> tuple[Engine, str | None]:
    """An empty database of `backend`; returns the engine and the PG schema, if any."""
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'rapport.db'}"), None
    schema = f"rapport_test_{secrets.token_hex(6)}"
    return postgres_schema_engine(schema), schema


@pytest.fixture(scope="session", params=backends())
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database with every table, once per backend for the whole run."""
    backend = request.param
    built, schema = fresh_engine(backend, tmp_path_factory.mktemp(backend))
    SQLModel.metadata.create_all(built)
    yield built
    if schema:
        drop_postgres_schema(built, schema)
    else:
        built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a clean database; every table is emptied afterwards."""
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
