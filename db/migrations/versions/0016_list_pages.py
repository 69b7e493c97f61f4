"""list pages: contacts, deals, tasks and cases counted and ordered from their indexes

Revision ID: 0016_list_pages
Revises: 0015_moments
Create Date: 2026-11-23 05:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_list_pages"
down_revision: str | None = "0015_moments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_contact_live_owner_name",
        "contact",
        ["merged_into_id", "erased_at", "owner_id", "family_name", "given_name", "id"],
        unique=False,
    )
    op.create_index(
        "ix_contact_live_name",
        "contact",
        ["merged_into_id", "erased_at", "family_name", "given_name", "id"],
        unique=False,
    )
    op.create_index(
        "ix_deal_owner_status_updated", "deal", ["owner_id", "status", "updated_at"], unique=False
    )
    op.create_index("ix_deal_status_updated", "deal", ["status", "updated_at"], unique=False)
    op.create_index(
        "ix_deal_owner_status_activity",
        "deal",
        ["owner_id", "status", "last_activity_at"],
        unique=False,
    )
    op.create_index("ix_task_open_due", "task", ["done_at", "due_on"], unique=False)
    op.create_index(
        "ix_case_record_open_due",
        "case_record",
        ["status", "purged_at", "sla_due_at"],
        unique=False,
    )
    # The new owner index begins with the old one's columns.
    op.drop_index("ix_deal_owner_status", table_name="deal")


def downgrade() -> None:
    op.create_index("ix_deal_owner_status", "deal", ["owner_id", "status"], unique=False)
    op.drop_index("ix_case_record_open_due", table_name="case_record")
    op.drop_index("ix_task_open_due", table_name="task")
    op.drop_index("ix_deal_owner_status_activity", table_name="deal")
    op.drop_index("ix_deal_status_updated", table_name="deal")
    op.drop_index("ix_deal_owner_status_updated", table_name="deal")
    op.drop_index("ix_contact_live_name", table_name="contact")
    op.drop_index("ix_contact_live_owner_name", table_name="contact")
