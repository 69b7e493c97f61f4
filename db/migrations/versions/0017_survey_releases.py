"""survey releases: reports show respondent counts released in steps of the threshold,
and invitations remember whether HR downloaded a working link for them

Revision ID: 0017_survey_releases
Revises: 0016_list_pages
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017_survey_releases"
down_revision: str | None = "0016_list_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_release",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("through_download", sa.Integer(), nullable=False),
        sa.Column("at_close", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("survey_id", "department", "team"),
    )
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        # Links issued before this revision went out as mail-merge downloads or emails;
        # which is not recorded, so none is counted as downloaded.
        batch_op.add_column(
            sa.Column("link_downloaded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Surveys already under way or closed start from what they hold now: their first
    # release (closed surveys' tallies were summed from the same answers).
    op.execute(
        "INSERT INTO survey_release "
        "(survey_id, department, team, responses, through_download, at_close) "
        "SELECT survey_id, department, team, COUNT(*), 0, COUNT(*) FROM survey_response "
        "GROUP BY survey_id, department, team"
    )


def downgrade() -> None:
    with op.batch_alter_table("survey_invitation", schema=None) as batch_op:
        batch_op.drop_column("link_downloaded")
    op.drop_table("survey_release")
