"""mailboxes: connected IMAP mailboxes, their folders' cursors, the message keys that log
each message once per contact, and unknown senders

Revision ID: 0023_mailboxes
Revises: 0022_api_tokens
Create Date: 2026-12-03 15:23:53.216062
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
from alembic import op
from sqlalchemy.dialects import postgresql

import db.core.types  # noqa: F401  (autogenerate writes db.core.types.UTCDateTime)

revision: str = "0023_mailboxes"
down_revision: str | None = "0022_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str, exists: bool = False) -> sa.types.TypeEngine[str]:
    """An enum column type; on PostgreSQL a type made earlier is reused, not made again."""
    return sa.Enum(*values, name=name).with_variant(
        postgresql.ENUM(*values, name=name, create_type=not exists), "postgresql"
    )


def upgrade() -> None:
    op.create_table(
        "mailbox",
        sa.Column("name", db.core.types.CleanString(length=100), nullable=False),
        sa.Column("address", db.core.types.CleanString(length=254), nullable=False),
        sa.Column("host", db.core.types.CleanString(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column(
            "security", _enum("tls", "starttls", "plain", name="mailsecurity"), nullable=False
        ),
        sa.Column("username", db.core.types.CleanString(length=254), nullable=False),
        sa.Column("password_env", db.core.types.CleanString(length=100), nullable=True),
        sa.Column("password_file", db.core.types.CleanString(length=255), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column(
            "sent_purpose",
            _enum("service", "sales", "marketing", "care", name="purpose", exists=True),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", db.core.types.CleanString(length=500), nullable=True),
        sa.Column("last_error_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", db.core.types.CleanString(length=100), nullable=True),
        sa.Column("lease_until", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["app_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "mail_folder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("inbox", "sent", name="folderrole"), nullable=False),
        sa.Column("name", db.core.types.CleanString(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox_id", "role"),
    )
    op.create_table(
        "mail_unknown_sender",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("email", db.core.types.CleanString(length=254), nullable=False),
        sa.Column("display_name", db.core.types.CleanString(length=200), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("last_subject", db.core.types.CleanString(length=200), nullable=False),
        sa.Column("first_seen_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status", _enum("open", "ignored", "created", name="senderstatus"), nullable=False
        ),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", db.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
        ),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mailbox_id", "email"),
    )
    with op.batch_alter_table("mail_unknown_sender", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_unknown_sender_mailbox_id"), ["mailbox_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mail_unknown_sender_status"), ["status"], unique=False)

    op.create_table(
        "mail_message_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", db.core.types.CleanString(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("inbox", "sent", name="folderrole", exists=True), nullable=False),
        sa.Column(
            "status",
            _enum("logged", "overridden", "refused", name="maillinkstatus"),
            nullable=False,
        ),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("reason", db.core.types.CleanString(length=1000), nullable=True),
        sa.Column("subject", db.core.types.CleanString(length=200), nullable=False),
        sa.Column("occurred_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", db.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interaction.id"],
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailbox.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key", "contact_id"),
    )
    with op.batch_alter_table("mail_message_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_message_contact_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_mail_message_contact_mailbox_id"), ["mailbox_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_message_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_message_contact_mailbox_id"))
        batch_op.drop_index(batch_op.f("ix_mail_message_contact_contact_id"))

    op.drop_table("mail_message_contact")
    with op.batch_alter_table("mail_unknown_sender", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_unknown_sender_status"))
        batch_op.drop_index(batch_op.f("ix_mail_unknown_sender_mailbox_id"))

    op.drop_table("mail_unknown_sender")
    op.drop_table("mail_folder")
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_owner_id"))

    op.drop_table("mailbox")
    if op.get_bind().dialect.name == "postgresql":
        for name in ("mailsecurity", "folderrole", "senderstatus", "maillinkstatus"):
            op.execute(f"DROP TYPE IF EXISTS {name}")
