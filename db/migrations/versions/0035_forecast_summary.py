"""forecast summary: the weighted pipeline, won and lost sums and counts and won cycle
seconds per pipeline, owner, currency and month, filled from the deals already there;
covering indexes for conversion and time in stage

Revision ID: 0035_forecast_summary
Revises: 0034_contact_email2_index
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlmodel import Session

from db.pipeline.summary import rebuild_forecast_summary

revision: str = "0035_forecast_summary"
down_revision: str | None = "0034_contact_email2_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast_month",
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("lost_reason_id", sa.Integer(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("default_cents", sa.BigInteger(), nullable=False),
        sa.Column("override_weight", sa.BigInteger(), nullable=False),
        sa.Column("cycle_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "pipeline_id", "owner_id", "currency", "status", "month", "stage_id", "lost_reason_id"
        ),
    )
    op.create_index(
        "ix_deal_pipeline_created",
        "deal",
        ["pipeline_id", "created_at", "currency", "status", "owner_id"],
        unique=False,
    )
    op.create_index(
        "ix_stage_change_deal_visit",
        "stage_change",
        ["deal_id", "changed_at", "from_stage_id", "to_stage_id", "seconds_in_from"],
        unique=False,
    )
    # Existing deals: each counted once, by the function every command uses.
    with Session(bind=op.get_bind()) as session:
        rebuild_forecast_summary(session)
        session.flush()


def downgrade() -> None:
    op.drop_index("ix_stage_change_deal_visit", table_name="stage_change")
    op.drop_index("ix_deal_pipeline_created", table_name="deal")
    op.drop_table("forecast_month")
