"""Tables of the consent area: purposes, notices, the consent ledger, data-subject
requests and the suppression list of erased people."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow
from db.models.audit import GENESIS_HASH


class LawfulBasis(StrEnum):
    """Why processing for a purpose is lawful."""

    consent = "consent"
    soft_opt_in = "soft_opt_in"
    legitimate_interest = "legitimate_interest"
    contract = "contract"
    legal_obligation = "legal_obligation"


class ConsentChannel(StrEnum):
    """The channel a consent covers; `any` covers (or revokes) every channel."""

    email = "email"
    phone = "phone"
    sms = "sms"
    post = "post"
    any = "any"


class ConsentAction(StrEnum):
    """What the person did."""

    grant = "grant"
    withdraw = "withdraw"
    object = "object"


class ConsentSource(StrEnum):
    """How the consent event was collected."""

    web_form = "web_form"
    paper = "paper"
    phone = "phone"
    import_ = "import"
    self_service = "self_service"


class ConsentPurposeBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=2000)
    lawful_basis: LawfulBasis = Field(default=LawfulBasis.consent, max_length=24)
    refresh_months: int = Field(default=24, ge=1, le=120)
    # Purposes that permit direct marketing: marketing interactions are checked
    # against them, and an objection under any of them is absolute.
    covers_marketing: bool = Field(default=False)


class ConsentPurpose(ConsentPurposeBase, table=True):
    __tablename__ = "consent_purpose"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class ConsentPurposeCreate(ConsentPurposeBase):
    pass


class ConsentPurposeUpdate(SQLModel):
    name: str | None = None
    description: str | None = None
    lawful_basis: LawfulBasis | None = None
    refresh_months: int | None = None
    covers_marketing: bool | None = None


class Notice(SQLModel, table=True):
    """One version of the wording people were shown; never edited once used."""

    __tablename__ = "consent_notice"
    __table_args__ = (UniqueConstraint("purpose_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose_id: int = Field(foreign_key="consent_purpose.id", index=True)
    version: int
    wording: str = Field(max_length=10000)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class ConsentEventCreate(SQLModel):
    contact_id: int
    purpose_id: int
    channel: ConsentChannel
    action: ConsentAction
    notice_id: int | None = None
    source: ConsentSource
    evidence: str | None = None
    occurred_at: datetime


class ConsentEvent(SQLModel, table=True):
    """One consent action; append-only and chained by SHA-256 like the audit log."""

    __tablename__ = "consent_event"
    __table_args__ = (
        # No index on action: audits read most of the ledger, where a scan beats an
        # index lookup per row (measured 4x faster at a million events on SQLite).
        # Covering: the audit's per-person lookups (state at a moment, later events, the
        # latest per channel) read the index alone, never the table (stale consent went
        # from 44 s to a few at a million events on SQLite).
        Index(
            "ix_consent_event_history",
            "contact_id",
            "purpose_id",
            "occurred_at",
            "seq",
            "channel",
            "action",
            "expires_at",
            "notice_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    contact_id: int = Field(foreign_key="contact.id")
    purpose_id: int = Field(foreign_key="consent_purpose.id")
    channel: ConsentChannel = Field(max_length=8)
    action: ConsentAction = Field(max_length=8)
    notice_id: int | None = Field(default=None, foreign_key="consent_notice.id")
    source: ConsentSource = Field(max_length=16)
    # Free text may name the person, so the chain covers its digest, not the text:
    # erasure blanks the note and the chain still verifies.
    evidence: str | None = Field(default=None, max_length=2000)
    evidence_digest: str = Field(max_length=64)
    recorded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=64)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Fixed when the grant is recorded, from the purpose's refresh period then in force.
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    request_id: int | None = Field(default=None, foreign_key="privacy_request.id")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ConsentHead(SQLModel, table=True):
    """The ledger chain's last link: one row, updated first to serialise writers."""

    __tablename__ = "consent_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0)
    last_hash: str = Field(default=GENESIS_HASH, max_length=64)


class ConsentCheckpoint(SQLModel, table=True):
    """A point up to which the ledger chain was verified: later audits walk only what
    follows it. Each is also written to the audit log, whose own chain vouches for it."""

    __tablename__ = "consent_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    hash: str = Field(max_length=64)
    verified_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    verified_by_name: str = Field(max_length=64)
    # How the run that wrote it checked: "full" from the first event, or "incremental".
    mode: str = Field(max_length=16)
    from_seq: int
    audit_seq: int | None = None


class RequestKind(StrEnum):
    """The data-subject rights a person may exercise."""

    access = "access"
    rectification = "rectification"
    erasure = "erasure"
    objection = "objection"
    restriction = "restriction"
    # Art. 20: the data the person provided, in a structured, machine-readable format.
    portability = "portability"


class RequestStatus(StrEnum):
    """Where a data-subject request stands."""

    open = "open"
    completed = "completed"
    refused = "refused"


class PrivacyRequestCreate(SQLModel):
    kind: RequestKind
    contact_id: int
    received_on: date
    notes: str | None = None


class PrivacyRequest(SQLModel, table=True):
    """A data-subject request and its deadline."""

    __tablename__ = "privacy_request"
    __table_args__ = (Index("ix_privacy_request_status_due", "status", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: RequestKind = Field(max_length=16, index=True)
    # None for a request made on the public page by someone Rapport holds nothing on
    # (or whose address several contacts share, until the privacy officer chooses).
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    received_on: date = Field(index=True)
    notes: str | None = Field(default=None, max_length=2000)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    verification_method: str | None = Field(default=None, max_length=200)
    verification_note: str | None = Field(default=None, max_length=1000)
    # Requests made by the person on the public page: the reference they follow it by,
    # the address they proved they control, and when the answer was released to them.
    reference: str | None = Field(default=None, max_length=16, unique=True, index=True)
    requester_email: str | None = Field(default=None, max_length=254)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_on: date
    extended_due_on: date | None = None
    extension_reason: str | None = Field(default=None, max_length=1000)
    extension_notified_on: date | None = None
    status: RequestStatus = Field(default=RequestStatus.open, max_length=16)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    outcome: str | None = Field(default=None, max_length=2000)
    # Art. 12(4): a refusal gives reasons and tells the person they may complain to a
    # supervisory authority (and seek a judicial remedy); both are recorded.
    refusal_reason: str | None = Field(default=None, max_length=2000)
    refusal_notified_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)

    @property
    def deadline(self) -> date:
        """The date the answer is due, counting any recorded extension."""
        return self.extended_due_on or self.due_on


class Suppression(SQLModel, table=True):
    """A SHA-256 of an erased person's normalised identifier: refuses re-imports."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("kind", "digest"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    digest: str = Field(max_length=64, index=True)
    request_id: int | None = Field(default=None, foreign_key="privacy_request.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
