"""API tokens: an administrator gives one to a user; a call with it acts as that user.

The token carries the user's roles and team, so every rule of db/ applies to what it
does. Only a SHA-256 hash of the secret is stored, and it is shown once, when made. A
token expires (RAPPORT_API_TOKEN_DAYS unless told otherwise) and can be revoked; a token
of a deactivated user stops working with the user. Each token's calls are counted per
minute in the database (so every replica shares the limit, RAPPORT_API_PER_MINUTE) and
every call is written to the audit log under the token's name.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, DomainError, NotFound, ValidationError
from db.core.normalise import clean_text
from db.core.settings import get_settings
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.integrations_api import ApiCallCount, ApiToken

TOKEN_PREFIX = "rpt_"
NAME_MAX = 80
SHOWN_PREFIX = 12  # "rpt_" and 8 random characters: enough to tell tokens apart
DAYS_MAX = 3650


class TokenRefused(DomainError):
    """The call's token is missing, unknown, revoked or expired (HTTP 401)."""


class RateLimited(DomainError):
    """The token made too many calls this minute (HTTP 429); `retry_after` in seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def secret_hash(token: str) -> str:
    """The stored form of a token: SHA-256 of its text."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is the only time the token's text is available."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class TokenRow:
    """A token as the list shows it: never its secret."""

    id: int
    name: str
    username: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def status(self) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "active"


def create_token(
    *,
    session: Session,
    name: str,
    username: str,
    actor: Actor,
    days: int | None = None,
) -> NewToken:
    """Make a token for `username` that lasts `days` (admin only; commits)."""
    require_role(actor, Role.admin, doing="create API tokens")
    cleaned = clean_text(name, field="name", label="Name", max_length=NAME_MAX)
    if not cleaned:
        raise ValidationError("Name: say what the token is for, e.g. 'phone system'.", field="name")
    lifetime = get_settings().api_token_days if days is None else days
    if not 1 <= lifetime <= DAYS_MAX:
        raise ValidationError(f"Days: choose between 1 and {DAYS_MAX}.", field="days")
    user = get_user_by_username(session=session, username=username)
    if user is None:
        raise ValidationError(f"User: there is no user {username.strip()!r}.", field="user")
    if not user.is_active:
        raise ValidationError(
            f"User: {user.username} is deactivated; a token would not work.", field="user"
        )
    if session.exec(select(ApiToken.id).where(ApiToken.name == cleaned)).first() is not None:
        raise Conflict(f"Name: a token called {cleaned!r} already exists; choose another name.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        name=cleaned,
        user_id=user.id or 0,
        prefix=secret[:SHOWN_PREFIX],
        secret_hash=secret_hash(secret),
        created_at=now,
        created_by_id=actor.id,
        expires_at=now + timedelta(days=lifetime),
    )
    session.add(token)
    try:
        session.flush()
    except IntegrityError as err:  # two admins naming tokens alike at the same moment
        session.rollback()
        raise Conflict(
            f"Name: a token called {cleaned!r} already exists; choose another name."
        ) from err
    record(
        session,
        actor,
        "api_token.create",
        "api_token",
        entity_id=token.id,
        details={"name": cleaned, "user": user.username, "days": lifetime},
    )
    session.commit()
    return NewToken(token=token, secret=secret)


def list_tokens(*, session: Session, actor: Actor) -> list[TokenRow]:
    """Every token, newest first, with its user and status (admin only; no secrets)."""
    require_role(actor, Role.admin, doing="see API tokens")
    rows = session.exec(
        select(ApiToken, User.username)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    ).all()
    return [
        TokenRow(
            id=token.id or 0,
            name=token.name,
            username=username,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )
        for token, username in rows
    ]


def revoke_token(*, session: Session, name: str, actor: Actor) -> ApiToken:
    """Revoke a token by its name, at once for every replica (admin only; commits)."""
    require_role(actor, Role.admin, doing="revoke API tokens")
    token = session.exec(select(ApiToken).where(ApiToken.name == name.strip())).first()
    if token is None:
        raise NotFound(f"There is no API token called {name.strip()!r}.")
    if token.revoked_at is not None:
        raise Conflict(f"The token {token.name!r} was already revoked.")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    session.add(token)
    record(
        session,
        actor,
        "api_token.revoke",
        "api_token",
        entity_id=token.id,
        details={"name": token.name},
    )
    session.commit()
    return token


REFUSED = (
    "This call needs a valid API token: send 'Authorization: Bearer <token>'. "
    "An administrator creates tokens (manage.py api-token create)."
)


def authenticate(
    *, session: Session, token: str | None, now: datetime | None = None
) -> tuple[ApiToken, User]:
    """The token and the user it acts as, or TokenRefused saying why (commits).

    Counts the call against the token's rate limit first, and raises RateLimited past it.
    """
    now = now or utcnow()
    if not token or not token.startswith(TOKEN_PREFIX):
        raise TokenRefused(REFUSED)
    found = session.exec(select(ApiToken).where(ApiToken.secret_hash == secret_hash(token))).first()
    if found is None:
        raise TokenRefused(REFUSED)
    user = session.get(User, found.user_id)
    why = None
    if found.revoked_at is not None:
        why, message = "revoked", f"The API token {found.name!r} was revoked; ask for a new one."
    elif found.expires_at <= now:
        why, message = (
            "expired",
            f"The API token {found.name!r} expired on {found.expires_at:%d %b %Y}; "
            "ask for a new one.",
        )
    elif user is None or not user.is_active:
        why, message = (
            "user deactivated",
            f"The API token {found.name!r} acts for a deactivated user; ask for a new one.",
        )
    if why is not None:
        # A known token used after it stopped working is worth a line in the audit log.
        record(
            session,
            user,
            "api.refused",
            "api_token",
            entity_id=found.id,
            details={"token": found.name, "why": why},
        )
        session.commit()
        raise TokenRefused(message)
    assert user is not None
    _count_call(session, found, now)
    session.commit()
    return found, user


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _count_call(session: Session, token: ApiToken, now: datetime) -> None:
    """Count one call this minute and refuse past the limit (in the caller's transaction)."""
    minute = _minute(now)
    session.execute(
        delete(ApiCallCount).where(
            col(ApiCallCount.token_id) == token.id, col(ApiCallCount.minute) < minute
        )
    )
    bumped = session.execute(
        update(ApiCallCount)
        .where(col(ApiCallCount.token_id) == token.id, col(ApiCallCount.minute) == minute)
        .values(count=ApiCallCount.count + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        # Two replicas racing here each add a row for the minute; the counts are summed.
        session.add(ApiCallCount(token_id=token.id or 0, minute=minute, count=1))
        session.flush()
    used = session.exec(
        select(func.coalesce(func.sum(ApiCallCount.count), 0)).where(
            col(ApiCallCount.token_id) == token.id, col(ApiCallCount.minute) == minute
        )
    ).one()
    token.last_used_at = now
    session.add(token)
    limit = get_settings().api_per_minute
    if int(used) > limit:
        session.commit()  # the refused call counts too, so a flood stays refused
        wait = max(1, 60 - now.second)
        raise RateLimited(
            f"Too many calls: this token may make {limit} a minute. Wait {wait} seconds "
            "and try again.",
            retry_after=wait,
        )


def audit_call(
    *,
    session: Session,
    token: ApiToken,
    user: User | None,
    method: str,
    route: str,
    status: int,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one API call to the audit log under the token's name (commits)."""
    record(
        session,
        user,
        "api.call",
        "api_token",
        entity_id=token.id,
        details={"token": token.name, "method": method, "route": route, "status": status}
        | (details or {}),
    )
    session.commit()
