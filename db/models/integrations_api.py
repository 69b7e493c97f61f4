"""Tables of the HTTP API: the tokens administrators give out, and the calls per minute
each token made (its rate limit, counted in the database so every replica shares it)."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class ApiToken(SQLModel, table=True):
    """A bearer token that acts as one user; only a hash of the secret is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    # The token's first characters, shown in lists so a person can tell tokens apart;
    # far too short to guess the rest from.
    prefix: str = Field(max_length=16)
    # SHA-256 of the whole token: it holds 256 random bits, so a fast hash is enough
    # (nothing to brute-force), and it lets a call find its token by one index look-up.
    secret_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiCallCount(SQLModel, table=True):
    """How many calls one token made in one minute (past minutes are deleted)."""

    __tablename__ = "api_call_count"
    __table_args__ = (Index("ix_api_call_count_token_minute", "token_id", "minute"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="api_token.id", ondelete="CASCADE")
    minute: datetime = Field(sa_type=UTCDateTime)
    count: int = Field(default=1)
