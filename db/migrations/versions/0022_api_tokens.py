"""API tokens (only a hash of each secret) and their calls per minute, for the HTTP API

Revision ID: 0022_api_tokens
Revises: 0021_auth_attempts
Create Date: 2026-12-03 15:27:38.836657
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0022_api_tokens"
down_revision: str | None = "0021_auth_attempts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", db.core.types.CleanString(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("prefix", db.core.types.CleanString(length=16), nullable=False),
        sa.Column("secret_hash", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_token_secret_hash"), ["secret_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "api_call_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("minute", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_call_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_api_call_count_token_minute", ["token_id", "minute"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_call_count", schema=None) as batch_op:
        batch_op.drop_index("ix_api_call_count_token_minute")

    op.drop_table("api_call_count")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_token_secret_hash"))
        batch_op.drop_index(batch_op.f("ix_api_token_name"))

    op.drop_table("api_token")
