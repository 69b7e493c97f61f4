"""Stored results of heavy reports, each tagged with the fingerprint of the data it read."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class ReportCache(SQLModel, table=True):
    """One computed report (a forecast for one filter, the duplicate pairs for one user).

    A row is valid only while `version` equals the fingerprint of the tables it was
    computed from; the commands that change those tables change the fingerprint, so a
    stale row is recomputed, in every server process, without anyone clearing it.
    """

    __tablename__ = "report_cache"

    key: str = Field(primary_key=True, max_length=200)
    version: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContactBlock(SQLModel, table=True):
    """One block a live contact falls into for duplicate matching (derived from the
    contact, derived again when it changes), so that after a change the matcher finds a
    changed contact's candidates by an index instead of blocking the whole table again.
    Blocks are found by a 64-bit digest of their key (an integer index builds and
    searches much faster than one on text); `key` itself confirms it. `rank` orders a
    crowded block's members as the matcher does (family name, given name)."""

    __tablename__ = "contact_block"

    key_hash: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    # No foreign key: merging moves every reference to a contact, and these rows are
    # derived again instead (a deleted contact's rows are never read: not live).
    contact_id: int = Field(primary_key=True, index=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
    rank: str = Field(sa_column=Column(Text, nullable=False))
