"""The migrations build exactly the schema the models describe, on every backend."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from db.core.migrate import upgrade
from tests.conftest import backends, drop_postgres_schema, fresh_engine


@pytest.mark.parametrize("backend", backends())
def test_migrations_produce_exactly_the_models_schema(backend: str, tmp_path: Path) -> None:
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()
