"""stages added to a running pipeline remember when, so the funnel counts only deals that
could have passed them

Revision ID: 0029_stage_added_at
Revises: 0028_ids_never_reused
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.core.types

revision: str = "0029_stage_added_at"
down_revision: str | None = "0028_ids_never_reused"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("added_at", db.core.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("stage", schema=None) as batch_op:
        batch_op.drop_column("added_at")
