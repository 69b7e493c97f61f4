"""surveys open and close at set times, and remind those who have not answered, by themselves

Revision ID: 0030_survey_schedule
Revises: 0029_stage_added_at
Create Date: 2026-12-04 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.core.types

revision: str = "0030_survey_schedule"
down_revision: str | None = "0029_stage_added_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = ("opens_at", "closes_at", "opened_at")


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        for name in WHEN:
            batch_op.add_column(
                sa.Column(name, db.core.types.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.add_column(sa.Column("remind_after_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("remind_every_days", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("remind_max", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        for name in (*WHEN, "remind_after_days", "remind_every_days", "remind_max"):
            batch_op.drop_column(name)
        batch_op.drop_column("reminders_sent")
