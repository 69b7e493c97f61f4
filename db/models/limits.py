"""Counters of the public pages' submissions, kept briefly to enforce the rate limits."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime

# The `visitor` of the counter that all browser sessions share.
EVERYONE = "*"


class PublicSubmission(SQLModel, table=True):
    """One use of a public form by a browser session in a clock hour (count 1), or how
    often everyone used it in one minute (`visitor` is EVERYONE); deleted once that hour
    or minute is past.

    Holds no content, no link to what was submitted and no moment of a submission: only
    the form, a one-way key of (form, browser session, hour, ordinal) — never a cookie,
    IP address or account, and never the same for two rows — the start of the hour or
    minute, and a count.
    """

    __tablename__ = "public_submission"

    id: int | None = Field(default=None, primary_key=True)
    form: str = Field(max_length=32, index=True)
    visitor: str = Field(max_length=64, index=True)
    bucket: datetime = Field(sa_type=UTCDateTime, index=True)
    count: int = Field(default=1)
