"""Alembic, configured in code: no alembic.ini at the top level."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at db/migrations, bound to `engine` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on `engine`."""
    command.upgrade(alembic_config(engine), revision)


def make_revision(engine: Engine, message: str) -> None:
    """Autogenerate a migration from the difference between the models and `engine`."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
