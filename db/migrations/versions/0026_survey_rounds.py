"""surveys: email rounds (resumed, never repeated), action plans kept for their group, a
question library

Revision ID: 0026_survey_rounds
Revises: 0025_self_service
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.core.types

revision: str = "0026_survey_rounds"
down_revision: str | None = "0025_self_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_library_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("section", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("factor", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("choices", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
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
    op.drop_table("survey_library_question")
    with op.batch_alter_table("survey_action", schema=None) as batch_op:
        batch_op.drop_column("department")
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_column("mailed_round")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("mail_round_done")
        batch_op.drop_column("mail_round")
