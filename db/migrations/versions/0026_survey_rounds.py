"""surveys: email rounds (resumed, never repeated) and action plans kept for their group

Revision ID: 0026_survey_rounds
Revises: 0021_auth_attempts
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0026_survey_rounds"
down_revision: str | None = "0021_auth_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_round", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("mail_round_done", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mailed_round", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("survey_action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_action", schema=None) as batch_op:
        batch_op.drop_column("department")
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_column("mailed_round")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("mail_round_done")
        batch_op.drop_column("mail_round")
