"""case exclusions name who made them; reviewers release case content to access requests

Revision ID: 0020_case_exclusions
Revises: 0019_public_limits
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0020_case_exclusions"
down_revision: str | None = "0019_public_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_exclusion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excluded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_case_exclusion_excluded_by_id", "app_user", ["excluded_by_id"], ["id"]
        )
    op.create_table(
        "case_release",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=False),
        sa.Column("released_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_record.id"]),
        sa.ForeignKeyConstraint(["released_by_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["privacy_request.id"]),
        sa.PrimaryKeyConstraint("request_id", "case_id"),
    )
    with op.batch_alter_table("case_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_release_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_release_case_id"))
    op.drop_table("case_release")
    with op.batch_alter_table("case_exclusion", schema=None) as batch_op:
        batch_op.drop_constraint("fk_case_exclusion_excluded_by_id", type_="foreignkey")
        batch_op.drop_column("excluded_by_id")
