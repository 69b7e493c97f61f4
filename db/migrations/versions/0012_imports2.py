"""imports2: deals keep an external reference; organisations can be merged

Revision ID: 0012_imports2
Revises: 0011_consent
Create Date: 2026-11-22 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = "0012_imports2"
down_revision: str | None = "0011_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("external_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_deal_external_ref"), ["external_ref"], unique=False)
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_organisation_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_organisation_merged_into_id", "organisation", ["merged_into_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_organisation_merged_into_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_organisation_merged_into_id"))
        batch_op.drop_column("merged_into_id")
    with op.batch_alter_table("deal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_external_ref"))
        batch_op.drop_column("external_ref")
