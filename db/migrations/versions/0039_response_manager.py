"""a survey response keeps its (generalised) line manager, for cuts by manager hierarchy

Revision ID: 0039_response_manager
Revises: 0038_survey_copied_from
Create Date: 2026-12-04 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0039_response_manager"
down_revision: str | None = "0038_survey_copied_from"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "manager",
                sqlmodel.sql.sqltypes.AutoString(length=254),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_response", schema=None) as batch_op:
        batch_op.drop_column("manager")
