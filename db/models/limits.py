"""Submissions to the public pages, kept briefly to enforce the rate limits."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime


class PublicSubmission(SQLModel, table=True):
    """One accepted submission on a public form; deleted once older than an hour.

    Holds no content and no link to what was submitted: only which form, a random
    id of the browser session (never a cookie, IP address or account) and when.
    """

    __tablename__ = "public_submission"

    id: int | None = Field(default=None, primary_key=True)
    form: str = Field(max_length=32, index=True)
    visitor: str = Field(max_length=64, index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
