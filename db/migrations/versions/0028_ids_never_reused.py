"""ids are never reused: AUTOINCREMENT on SQLite for every table an import item names

Revision ID: 0028_ids_never_reused
Revises: 0027_case_work
Create Date: 2026-12-03 15:30:00.000000

SQLite without AUTOINCREMENT gives a new row the highest id + 1, so deleting the newest
contact (a reverted import does) hands its id to the next contact, and an older import's
items, a merge's audit entry or a stored report would then name someone else. SQLite can
only add AUTOINCREMENT by rebuilding the table (Alembic's batch mode). PostgreSQL's ids
come from sequences, which never go back: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_ids_never_reused"
down_revision: str | None = "0027_case_work"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables an import batch's items point at (db/imports/batches.py's _ENTITIES).
TABLES = ("organisation", "contact", "interaction", "deal", "stage_change", "employee")


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # Rebuilding drops the old table, and with foreign keys on, dropping it would first
    # delete its rows and so cascade to others (a contact's tags). SQLite changes the
    # foreign_keys setting only outside a transaction: end the one the migrations run in,
    # rebuild with them off, check every reference still holds, and turn them back on.
    raw = bind.connection.dbapi_connection
    assert raw is not None
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        for name in TABLES:
            with op.batch_alter_table(
                name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
            ):
                pass
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"The rebuilt tables broke {len(broken)} references.")
        raw.commit()
    except BaseException:
        raw.rollback()  # so that the setting below is not a no-op inside a transaction
        raise
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
