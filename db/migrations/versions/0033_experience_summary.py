"""experience speed: interactions indexed by person, direction and time

Revision ID: 0033_experience_summary
Revises: 0031_survey_languages
Create Date: 2026-12-04 16:05:00.000000
"""

from collections.abc import Sequence

import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0033_experience_summary"
down_revision: str | None = "0031_survey_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interaction_contact_direction_time",
        "interaction",
        ["contact_id", "direction", "occurred_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_contact_direction_time", table_name="interaction")
