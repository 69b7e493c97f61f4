"""a period's interactions by time: indexed by direction and time, covering the person
and the channel, for the team outcomes of People and outcomes

Revision ID: 0042_interaction_direction_time
Revises: 0041_survey_mail_wording
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0042_interaction_direction_time"
down_revision: str | None = "0041_survey_mail_wording"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_interaction_direction_time",
        "interaction",
        ["direction", "occurred_at", "contact_id", "channel"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_direction_time", table_name="interaction")
