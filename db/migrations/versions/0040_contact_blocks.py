"""the blocks each contact falls into for duplicate matching, so a refresh after a change
finds the changed contacts' candidates by index

Revision ID: 0040_contact_blocks
Revises: 0039_response_manager
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_contact_blocks"
down_revision: str | None = "0039_response_manager"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_block",
        sa.Column("key_hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("rank", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", "contact_id"),
    )
    with op.batch_alter_table("contact_block", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_block_contact_id"), ["contact_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_block", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_block_contact_id"))
    op.drop_table("contact_block")
