"""sign-in attempts: failures under unknown usernames are counted like an account's

Revision ID: 0021_auth_attempts
Revises: 0020_case_exclusions
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.core.types

revision: str = "0021_auth_attempts"
down_revision: str | None = "0020_case_exclusions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_attempt",
        sa.Column("name_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name_hash"),
    )
    with op.batch_alter_table("sign_in_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sign_in_attempt_last_failed_at"), ["last_failed_at"], unique=False
        )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_failed_at", db.core.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("last_failed_at")
    with op.batch_alter_table("sign_in_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_attempt_last_failed_at"))
    op.drop_table("sign_in_attempt")
