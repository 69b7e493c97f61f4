"""case work: feedback marked on messages, unread markers, saved queue views,
evidence attachments and each category's intake questions

Revision ID: 0027_case_work
Revises: 0026_survey_rounds
Create Date: 2026-12-03 15:16:52.758775
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0027_case_work"
down_revision: str | None = "0026_survey_rounds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", db.core.types.CleanString(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt", db.core.types.CleanString(length=200), nullable=False),
        sa.Column("kind", db.core.types.CleanString(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category"],
            ["case_category.key"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_question_category"), ["category"], unique=False)

    op.create_table(
        "case_saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", db.core.types.CleanString(length=60), nullable=False),
        sa.Column("filters", db.core.types.CleanText(), nullable=False),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name", name="uq_case_saved_view_user_name"),
    )
    with op.batch_alter_table("case_saved_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_saved_view_user_id"), ["user_id"], unique=False)

    op.create_table(
        "case_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filename", db.core.types.CleanString(length=120), nullable=False),
        sa.Column("content_type", db.core.types.CleanString(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("from_reporter", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_attachment_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_read",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id"),
    )
    with op.batch_alter_table("case_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_read_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("feedback", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reporter_at", db.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("answers", db.core.types.CleanText(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_case_record_reporter_at"), ["reporter_at"], unique=False
        )

    # A message that stopped the feedback clock before feedback became an explicit mark
    # was, by the rule of the time, the feedback: mark it so.
    op.execute(
        "UPDATE case_event SET feedback = true WHERE kind = 'message_to_reporter' AND "
        "EXISTS (SELECT 1 FROM case_record c WHERE c.id = case_event.case_id "
        "AND c.feedback_at = case_event.occurred_at)"
    )
    # The reporter last replied at their latest message.
    op.execute(
        "UPDATE case_record SET reporter_at = (SELECT max(e.occurred_at) FROM case_event e "
        "WHERE e.case_id = case_record.id AND e.actor_id IS NULL "
        "AND e.kind = 'message_from_reporter') WHERE kind = 'concern'"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_record_reporter_at"))
        batch_op.drop_column("answers")
        batch_op.drop_column("reporter_at")

    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_column("feedback")

    with op.batch_alter_table("case_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_read_user_id"))

    op.drop_table("case_read")
    with op.batch_alter_table("case_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_attachment_case_id"))

    op.drop_table("case_attachment")
    with op.batch_alter_table("case_saved_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_saved_view_user_id"))

    op.drop_table("case_saved_view")
    with op.batch_alter_table("case_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_question_category"))

    op.drop_table("case_question")
