"""a wave remembers the survey it was copied from, so results compare with that wave

Revision ID: 0038_survey_copied_from
Revises: 0035_forecast_summary
Create Date: 2026-12-04 18:40:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_survey_copied_from"
down_revision: str | None = "0035_forecast_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copied_from_id", sa.Integer(), nullable=True))
    # Waves copied before this column existed: the audit log kept where each came from.
    bind = op.get_bind()
    copies = bind.execute(
        sa.text(
            "SELECT entity_id, details FROM audit_event "
            "WHERE action = 'survey.copy' AND entity = 'survey'"
        )
    ).all()
    for entity_id, details in copies:
        source = json.loads(details or "{}").get("from")
        if entity_id is None or not isinstance(source, int):
            continue
        bind.execute(
            sa.text("UPDATE survey SET copied_from_id = :source WHERE id = :id"),
            {"source": source, "id": int(entity_id)},
        )


def downgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("copied_from_id")
