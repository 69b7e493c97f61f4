"""audit speed: interactions indexed by person, purpose, direction and time

Revision ID: 0014_audit_speed
Revises: 0013_limits
Create Date: 2026-11-23 05:00:00.000000
"""

from collections.abc import Sequence

import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0014_audit_speed"
down_revision: str | None = "0013_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interaction_contact_purpose",
        "interaction",
        ["contact_id", "purpose", "direction", "occurred_at", "channel"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_contact_purpose", table_name="interaction")
