"""voice of customers and citizens: contact surveys; closed surveys' tallies

Revision ID: 0009_voice
Revises: 0008_experience
Create Date: 2026-11-22 22:17:15.842119
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0009_voice"
down_revision: str | None = "0008_experience"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "audience_kind",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="employees",
            )
        )
        batch_op.add_column(
            sa.Column(
                "audience_contact_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("audience_tag", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True)
        )
        batch_op.add_column(sa.Column("audience_organisation_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        # Surveys closed before this revision are reported from their answers until
        # summed (nothing is lost: tallies are a cache of the responses).
        batch_op.add_column(
            sa.Column("tallied", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "survey_tally",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("option", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("favourable", sa.Integer(), nullable=False),
        sa.Column("neutral", sa.Integer(), nullable=False),
        sa.Column("unfavourable", sa.Integer(), nullable=False),
        sa.Column("promoters", sa.Integer(), nullable=False),
        sa.Column("detractors", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("d_n", sa.Integer(), nullable=False),
        sa.Column("d_sx", sa.Float(), nullable=False),
        sa.Column("d_sy", sa.Float(), nullable=False),
        sa.Column("d_sxy", sa.Float(), nullable=False),
        sa.Column("d_sxx", sa.Float(), nullable=False),
        sa.Column("d_syy", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["survey_question.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("survey_id", "department", "team", "question_id", "option"),
    )

    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_invitation_cut", ["survey_id", "department", "team"], unique=False
        )
        batch_op.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch_op.alter_column("employee_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_survey_invitation_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_unique_constraint(
            "uq_survey_invitation_survey_id_contact_id", ["survey_id", "contact_id"]
        )
        batch_op.create_foreign_key(
            "fk_survey_invitation_contact_id", "contact", ["contact_id"], ["id"]
        )

    # The response table keeps no rowid on SQLite (no hidden insertion order), also
    # when batch mode rebuilds it.
    with op.batch_alter_table(
        "survey_response", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("submitted_at", db.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_survey_response_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_response_cut", ["survey_id", "department", "team"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_survey_response_contact_id", "contact", ["contact_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "survey_response", schema=None, table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        batch_op.drop_constraint("fk_survey_response_contact_id", type_="foreignkey")
        batch_op.drop_index("ix_survey_response_cut")
        batch_op.drop_index(batch_op.f("ix_survey_response_contact_id"))
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("contact_id")

    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_survey_invitation_contact_id", type_="foreignkey")
        batch_op.drop_index("ix_survey_invitation_cut")
        batch_op.drop_constraint("uq_survey_invitation_survey_id_contact_id", type_="unique")
        batch_op.drop_index(batch_op.f("ix_survey_invitation_contact_id"))
        batch_op.alter_column("employee_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("contact_id")

    op.drop_table("survey_tally")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("tallied")
        batch_op.drop_column("anonymous")
        batch_op.drop_column("audience_organisation_id")
        batch_op.drop_column("audience_tag")
        batch_op.drop_column("audience_contact_kind")
        batch_op.drop_column("audience_kind")
