"""limits: the public forms' submission counter

Revision ID: 0013_limits
Revises: 0012_imports2
Create Date: 2026-11-22 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0013_limits"
down_revision: str | None = "0012_imports2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("visitor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("public_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_submission_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_submission_form"), ["form"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_submission_visitor"), ["visitor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("public_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_public_submission_visitor"))
        batch_op.drop_index(batch_op.f("ix_public_submission_form"))
        batch_op.drop_index(batch_op.f("ix_public_submission_at"))
    op.drop_table("public_submission")
