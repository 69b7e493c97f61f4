"""HR's wording of a survey's invitation and reminder emails, per language

Revision ID: 0041_survey_mail_wording
Revises: 0040_contact_blocks
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.core.types

revision: str = "0041_survey_mail_wording"
down_revision: str | None = "0040_contact_blocks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_mail_wording",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("updated_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("survey_id", "language", "kind"),
    )


def downgrade() -> None:
    op.drop_table("survey_mail_wording")
