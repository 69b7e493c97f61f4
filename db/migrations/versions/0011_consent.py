"""consent checkpoints, refusals and the covering ledger history index

Revision ID: 0011_consent
Revises: 0010_scale
Create Date: 2026-11-22 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0011_consent"
down_revision: str | None = "0010_scale"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_event_contact_purpose_time")
        batch_op.create_index(
            "ix_consent_event_history",
            [
                "contact_id",
                "purpose_id",
                "occurred_at",
                "seq",
                "channel",
                "action",
                "expires_at",
                "notice_id",
            ],
            unique=False,
        )
    op.create_table(
        "consent_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("verified_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_by_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_seq", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_checkpoint_seq"), ["seq"], unique=False)
    with op.batch_alter_table("privacy_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refusal_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
            )
        )
        batch_op.add_column(sa.Column("refusal_notified_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_request", schema=None) as batch_op:
        batch_op.drop_column("refusal_notified_on")
        batch_op.drop_column("refusal_reason")
    with op.batch_alter_table("consent_checkpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_checkpoint_seq"))
    op.drop_table("consent_checkpoint")
    with op.batch_alter_table("consent_event", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_event_history")
        batch_op.create_index(
            "ix_consent_event_contact_purpose_time",
            ["contact_id", "purpose_id", "occurred_at"],
            unique=False,
        )
