"""moments: interactions indexed by sentiment and time

Revision ID: 0015_moments
Revises: 0014_audit_speed
Create Date: 2026-11-23 05:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_moments"
down_revision: str | None = "0014_audit_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interaction_sentiment_time",
        "interaction",
        ["sentiment", "occurred_at", "contact_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_sentiment_time", table_name="interaction")
