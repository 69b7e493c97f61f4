"""Tables of the people area: organisations, contacts, interactions and tasks."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class ContactKind(StrEnum):
    """What a contact is to the organisation."""

    customer = "customer"
    prospect = "prospect"
    citizen = "citizen"
    patient = "patient"
    partner = "partner"
    supplier = "supplier"


class Channel(StrEnum):
    """How an interaction happened."""

    email = "email"
    phone = "phone"
    meeting = "meeting"
    chat = "chat"
    sms = "sms"
    social = "social"
    letter = "letter"
    web = "web"
    in_person = "in_person"


class Direction(StrEnum):
    """Who started the interaction."""

    inbound = "inbound"
    outbound = "outbound"


class Purpose(StrEnum):
    """Why the interaction happened (marketing is checked against consent)."""

    service = "service"
    sales = "sales"
    marketing = "marketing"
    care = "care"


class Sentiment(StrEnum):
    """How it went, as judged by the person logging it."""

    positive = "positive"
    neutral = "neutral"
    negative = "negative"


class OrganisationBase(SQLModel):
    name: str = Field(max_length=200, index=True)
    domain: str | None = Field(default=None, max_length=253, index=True)
    industry: str | None = Field(default=None, max_length=100)
    size: str | None = Field(default=None, max_length=20)
    street: str | None = Field(default=None, max_length=200)
    locality: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, max_length=20)
    region: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)


class Organisation(OrganisationBase, table=True):
    # Ids are never reused (an import's items and stored reports name rows by id).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    # A merged-away duplicate keeps its row as a tombstone pointing to the survivor.
    merged_into_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)


class OrganisationCreate(OrganisationBase):
    owner_id: int | None = None


class OrganisationUpdate(SQLModel):
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    size: str | None = None
    street: str | None = None
    locality: str | None = None
    postcode: str | None = None
    region: str | None = None
    country: str | None = None
    owner_id: int | None = None


class ContactBase(SQLModel):
    kind: ContactKind = Field(default=ContactKind.customer, max_length=16, index=True)
    given_name: str = Field(default="", max_length=100)
    family_name: str = Field(default="", max_length=100, index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    job_title: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254, index=True)
    email2: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)
    mobile: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=200)
    street2: str | None = Field(default=None, max_length=200)
    locality: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, max_length=20, index=True)
    region: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2)
    date_of_birth: date | None = None
    identifier: str | None = Field(default=None, max_length=64, index=True)
    external_ref: str | None = Field(default=None, max_length=100, index=True)
    preferred_channel: Channel | None = Field(default=None, max_length=16)
    notes: str | None = Field(default=None, max_length=5000)


class Contact(ContactBase, table=True):
    __table_args__ = (
        # The contacts list: live contacts (of a team, or everyone's), counted and sorted
        # by name from an index alone, before a page of rows is read.
        Index(
            "ix_contact_live_owner_name",
            "merged_into_id",
            "erased_at",
            "owner_id",
            "family_name",
            "given_name",
            "id",
        ),
        Index(
            "ix_contact_live_name", "merged_into_id", "erased_at", "family_name", "given_name", "id"
        ),
        # Ids are never reused (an import's items and stored reports name rows by id).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    # A merged-away duplicate keeps its row as a tombstone pointing to the survivor.
    merged_into_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Indexed: the stored duplicate pairs are keyed on the latest change (one lookup).
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)

    @property
    def full_name(self) -> str:
        """Given and family name, as people read it."""
        return " ".join(p for p in (self.given_name, self.family_name) if p).strip()


class ContactCreate(ContactBase):
    owner_id: int | None = None
    tags: list[str] = []


class ContactUpdate(SQLModel):
    kind: ContactKind | None = None
    given_name: str | None = None
    family_name: str | None = None
    organisation_id: int | None = None
    job_title: str | None = None
    email: str | None = None
    email2: str | None = None
    phone: str | None = None
    mobile: str | None = None
    street: str | None = None
    street2: str | None = None
    locality: str | None = None
    postcode: str | None = None
    region: str | None = None
    country: str | None = None
    date_of_birth: date | None = None
    identifier: str | None = None
    external_ref: str | None = None
    preferred_channel: Channel | None = None
    notes: str | None = None
    owner_id: int | None = None


class ContactTag(SQLModel, table=True):
    __tablename__ = "contact_tag"

    contact_id: int = Field(foreign_key="contact.id", primary_key=True, ondelete="CASCADE")
    tag: str = Field(max_length=40, primary_key=True, index=True)


class InteractionBase(SQLModel):
    contact_id: int = Field(foreign_key="contact.id")
    channel: Channel = Field(max_length=16)
    direction: Direction = Field(max_length=8)
    purpose: Purpose = Field(max_length=16)
    subject: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=20000)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sentiment: Sentiment = Field(default=Sentiment.neutral, max_length=8)
    deal_id: int | None = Field(default=None, index=True)
    case_id: int | None = Field(default=None, index=True)


class Interaction(InteractionBase, table=True):
    """A touch point with a contact; a record of what happened, not edited afterwards."""

    __table_args__ = (
        Index("ix_interaction_contact_time", "contact_id", "occurred_at"),
        Index("ix_interaction_purpose_time", "purpose", "occurred_at"),
        # The first answer after an inbound contact (responsiveness, team outcomes) is one
        # seek here; (contact, time) read every later interaction of the person to find it.
        Index("ix_interaction_contact_direction_time", "contact_id", "direction", "occurred_at"),
        # A period's interactions by time, covering who and on which channel: team outcomes
        # read a wave's inbound contacts (and count its interactions) from here instead of
        # searching every customer of every team (first visit of People and outcomes at
        # scale 10: the team figures from 1.4 s to 0.5 s of CPU).
        Index("ix_interaction_direction_time", "direction", "occurred_at", "contact_id", "channel"),
        # Covering: the consent audit asks, for each of hundreds of thousands of opt-outs,
        # what marketing the person was sent afterwards and on which channel. This answers
        # from the index alone, where (contact, time) read every later message's row
        # (opt-out latency went from 0.9 s to 0.3 s at scale 10 on SQLite; the list of
        # unanswered people, which now reads it too, from 2.1 s to 0.9 s).
        Index(
            "ix_interaction_contact_purpose",
            "contact_id",
            "purpose",
            "direction",
            "occurred_at",
            "channel",
        ),
        # Negative moments of a period, the people they touched, without reading the
        # period's other interactions (flagged contacts at scale 10: 1.2 s to 0.06 s).
        Index("ix_interaction_sentiment_time", "sentiment", "occurred_at", "contact_id"),
        # Ids are never reused (an import's items and stored reports name rows by id).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set when a consent check was overridden; the consent audit reports these.
    override_reason: str | None = Field(default=None, max_length=1000)


class InteractionCreate(InteractionBase):
    override_reason: str | None = None


class TaskBase(SQLModel):
    title: str = Field(max_length=200)
    due_on: date = Field(index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    deal_id: int | None = Field(default=None, index=True)


class Task(TaskBase, table=True):
    # Open tasks by due date: the overdue lists on Home walk it in order.
    __table_args__ = (Index("ix_task_open_due", "done_at", "due_on"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class TaskCreate(TaskBase):
    owner_id: int | None = None
