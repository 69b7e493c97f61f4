"""a contact's second email is indexed like the first, so matching a message's addresses
against both is an index lookup

Revision ID: 0034_contact_email2_index
Revises: 0033_experience_summary
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034_contact_email2_index"
down_revision: str | None = "0033_experience_summary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_email2"), ["email2"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_email2"))
