"""public limits: counters per hour or minute instead of a row per submission

Revision ID: 0019_public_limits
Revises: 0017_survey_releases
Create Date: 2026-12-03 12:00:00.000000

The old table kept the moment of every submission (equal to the case's received_at) and
the browser session's id shared by every form. Its rows are only a brake on floods, good
for an hour at most, so the table is rebuilt empty rather than converted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0019_public_limits"
down_revision: str | None = "0017_survey_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _drop() -> None:
    op.drop_table("public_submission")


def upgrade() -> None:
    _drop()
    op.create_table(
        "public_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("visitor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("bucket", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("public_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_public_submission_bucket"), ["bucket"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_submission_form"), ["form"], unique=False)
        batch_op.create_index(batch_op.f("ix_public_submission_visitor"), ["visitor"], unique=False)


def downgrade() -> None:
    _drop()
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
