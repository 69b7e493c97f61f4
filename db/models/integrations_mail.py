"""Tables of connected mailboxes: their settings and state, what the sync logged, and
the senders it did not know."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow
from db.models.people import Purpose


class MailSecurity(StrEnum):
    """How the connection to the IMAP server is protected."""

    tls = "tls"  # TLS from the first byte (port 993)
    starttls = "starttls"  # plain connection upgraded with STARTTLS (port 143)
    plain = "plain"  # no encryption: only to a server on this machine


class FolderRole(StrEnum):
    """Which folder of a mailbox: what arrives, or what was sent."""

    inbox = "inbox"
    sent = "sent"


class MailLinkStatus(StrEnum):
    """What the sync did with a message for one contact."""

    logged = "logged"
    # Outbound marketing the consent check refused, logged with an override reason so
    # the consent audit lists it (it was already sent).
    overridden = "overridden"
    # Not logged: the check refused even with an override (an objection), or the
    # message could not be logged at all; the reason says why.
    refused = "refused"


class SenderStatus(StrEnum):
    """What a person decided about an unknown sender."""

    open = "open"
    ignored = "ignored"
    created = "created"


class MailboxBase(SQLModel):
    name: str = Field(max_length=100)
    address: str = Field(max_length=254)
    host: str = Field(max_length=253)
    port: int = Field(default=993)
    security: MailSecurity = Field(default=MailSecurity.tls, max_length=10)
    username: str = Field(max_length=254)
    # Where the password is read from at sync time; the password itself is never stored.
    password_env: str | None = Field(default=None, max_length=100)
    password_file: str | None = Field(default=None, max_length=255)
    # A person's own mailbox: only they and administrators manage it. None: shared.
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    # Why mail in Sent was sent, unless it says it is a mailing (List-Unsubscribe).
    sent_purpose: Purpose = Field(default=Purpose.service, max_length=16)
    enabled: bool = Field(default=True)


class Mailbox(MailboxBase, table=True):
    """A connected IMAP mailbox, with how its last sync went and who holds it now."""

    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("address"))

    id: int | None = Field(default=None, primary_key=True)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The lease: one worker at a time syncs a mailbox, until `lease_until`.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class MailboxCreate(MailboxBase):
    pass


class MailboxUpdate(SQLModel):
    name: str | None = None
    address: str | None = None
    host: str | None = None
    port: int | None = None
    security: MailSecurity | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    owner_id: int | None = None
    sent_purpose: Purpose | None = None
    enabled: bool | None = None


class MailFolder(SQLModel, table=True):
    """Where the sync of one folder stands: its UIDVALIDITY and the last UID done."""

    __tablename__ = "mail_folder"
    __table_args__ = (UniqueConstraint("mailbox_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", ondelete="CASCADE")
    role: FolderRole = Field(max_length=8)
    name: str = Field(max_length=200)
    uidvalidity: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailMessageContact(SQLModel, table=True):
    """One message for one contact, once: the unique key is what stops a message seen
    in two mailboxes (or twice in one) from being logged twice."""

    __tablename__ = "mail_message_contact"
    __table_args__ = (UniqueConstraint("message_key", "contact_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the Message-ID (or, without one, of the message's headers and text).
    message_key: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    # Never deleted with the mailbox: these keys are what keeps a message logged once.
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True)
    role: FolderRole = Field(max_length=8)
    status: MailLinkStatus = Field(default=MailLinkStatus.logged, max_length=10)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id")
    # Why the consent check refused it (status refused).
    reason: str | None = Field(default=None, max_length=1000)
    subject: str = Field(default="", max_length=200)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MailUnknownSender(SQLModel, table=True):
    """Someone who wrote to a mailbox and is not a contact: a person decides."""

    __tablename__ = "mail_unknown_sender"
    __table_args__ = (UniqueConstraint("mailbox_id", "email"),)

    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int = Field(foreign_key="mailbox.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=200)
    messages: int = Field(default=0)
    last_subject: str = Field(default="", max_length=200)
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: SenderStatus = Field(default=SenderStatus.open, max_length=8, index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
