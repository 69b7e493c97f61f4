"""Tables of the self-service pages: personal preference links and emailed codes."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class PreferenceLink(SQLModel, table=True):
    """A personal link to a contact's preference centre: only the token's SHA-256 is kept.

    No visit is recorded on it: the ledger events made through it cite it as evidence,
    nothing else does."""

    __tablename__ = "preference_link"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class EmailedCode(SQLModel, table=True):
    """A code emailed to prove control of an address: to make a data-subject request
    (`request_id` is None until it is confirmed) or to download a released answer.

    The address and what was asked are kept only until the code is used or expires."""

    __tablename__ = "emailed_code"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=16)
    # SHA-256 of the browser session's ticket: the code works only where it was asked for.
    ticket_hash: str = Field(max_length=64, unique=True, index=True)
    code_hash: str = Field(max_length=64)
    email: str | None = Field(default=None, max_length=254)
    kind: str | None = Field(default=None, max_length=16)
    details: str | None = Field(default=None, max_length=2000)
    request_id: int | None = Field(default=None, foreign_key="privacy_request.id")
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
