"""scale: stored results of heavy reports; contacts indexed by their latest change; the Board's cards by stage

Revision ID: 0010_scale
Revises: 0009_voice
Create Date: 2026-11-22 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0010_scale"
down_revision: str | None = "0009_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_cache",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_contact_updated_at"), "contact", ["updated_at"], unique=False)
    op.create_index(
        "ix_deal_stage_status_close",
        "deal",
        ["stage_id", "status", "expected_close", "id"],
        unique=False,
    )

    op.create_index(
        "ix_deal_board_totals",
        "deal",
        ["pipeline_id", "status", "stage_id", "currency", "amount", "owner_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_deal_board_totals", table_name="deal")
    op.drop_index("ix_deal_stage_status_close", table_name="deal")
    op.drop_index(op.f("ix_contact_updated_at"), table_name="contact")
    op.drop_table("report_cache")
