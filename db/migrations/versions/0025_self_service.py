"""self-service: preference links, emailed codes, public data-subject requests

Revision ID: 0025_self_service
Revises: 0024_integrations_events
Create Date: 2026-12-03 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types

revision: str = "0025_self_service"
down_revision: str | None = "0024_integrations_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preference_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("preference_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_preference_link_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_preference_link_token_hash"), ["token_hash"], unique=True
        )

    op.create_table(
        "emailed_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", db.core.types.CleanString(length=16), nullable=False),
        sa.Column("ticket_hash", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("code_hash", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("email", db.core.types.CleanString(length=254), nullable=True),
        sa.Column("kind", db.core.types.CleanString(length=16), nullable=True),
        sa.Column("details", db.core.types.CleanString(length=2000), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["privacy_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("emailed_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emailed_code_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emailed_code_ticket_hash"), ["ticket_hash"], unique=True
        )

    with op.batch_alter_table("privacy_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verification_note", db.core.types.CleanString(length=1000), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reference", db.core.types.CleanString(length=16), nullable=True)
        )
        batch_op.add_column(
            sa.Column("requester_email", db.core.types.CleanString(length=254), nullable=True)
        )
        batch_op.add_column(
            sa.Column("released_at", db.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.alter_column("contact_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_privacy_request_reference"), ["reference"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_request_reference"))
        batch_op.alter_column("contact_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("released_at")
        batch_op.drop_column("requester_email")
        batch_op.drop_column("reference")
        batch_op.drop_column("verification_note")
    with op.batch_alter_table("emailed_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emailed_code_ticket_hash"))
        batch_op.drop_index(batch_op.f("ix_emailed_code_expires_at"))
    op.drop_table("emailed_code")
    with op.batch_alter_table("preference_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_preference_link_token_hash"))
        batch_op.drop_index(batch_op.f("ix_preference_link_contact_id"))
    op.drop_table("preference_link")
