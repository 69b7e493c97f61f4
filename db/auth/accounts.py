"""Users, roles, passwords, sign-in with lockout, and server-side sessions."""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import bcrypt
from sqlalchemy import Table, and_, case, delete, func, literal, null, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR, Actor, Operator, require_role
from db.auth.audit import record
from db.core.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    NotFound,
    ValidationError,
)
from db.core.normalise import EMAIL_MAX
from db.core.settings import get_settings
from db.core.types import UTCDateTime, utcnow
from db.models.auth import (
    AuthSession,
    Role,
    SignInAttempt,
    User,
    UserCreate,
    UserRole,
    UserUpdate,
)

PASSWORD_MIN_LENGTH = 12
# The demo world's password, published in the README: refused for every account on an
# installation that is not a demo (RAPPORT_DEMO=0).
PUBLISHED_DEMO_PASSWORD = "rapport-demo-2026"
# bcrypt only reads the first 72 bytes; longer passwords would silently be cut.
PASSWORD_MAX_BYTES = 72
# Every character is at least one byte, so no accepted password is longer than this.
PASSWORD_MAX_LENGTH = PASSWORD_MAX_BYTES
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 120
TEAM_MAX = 80
USERNAME_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9._-]{{1,{USERNAME_MAX - 1}}}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_password(password: str, *, username: str = "") -> None:
    """Refuse a password that breaks the policy, saying what to change."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationError(
            f"Password: use at least {PASSWORD_MIN_LENGTH} characters "
            f"(this one has {len(password)}). A few unrelated words make a good one.",
            field="password",
        )
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        raise ValidationError(
            f"Password: use at most {PASSWORD_MAX_BYTES} bytes (about "
            f"{PASSWORD_MAX_BYTES} letters without accents).",
            field="password",
        )
    if password.strip() != password:
        raise ValidationError("Password: remove the spaces at the start or end.", field="password")
    if username and username.lower() in password.lower():
        raise ValidationError("Password: do not include your username.", field="password")
    if password == PUBLISHED_DEMO_PASSWORD and not get_settings().demo:
        raise ValidationError(
            "Password: that is the published demo password; choose another.", field="password"
        )


def hash_password(password: str) -> str:
    """A bcrypt hash of the password at the configured cost."""
    rounds = get_settings().bcrypt_rounds
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode()


def check_password(password: str, password_hash: str) -> bool:
    """True when `password` matches the stored bcrypt hash."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def _normalise_username(username: str) -> str:
    return username.strip().lower()


def _validate_profile(*, display_name: str, email: str, team: str | None) -> None:
    if not display_name.strip():
        raise ValidationError("Name: enter the person's name.", field="display_name")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise ValidationError(
            f"Name: use at most {DISPLAY_NAME_MAX} characters.", field="display_name"
        )
    if not EMAIL_PATTERN.match(email.strip()) or len(email) > EMAIL_MAX:
        raise ValidationError("Email: enter an address like name@example.org.", field="email")
    if team is not None and len(team) > TEAM_MAX:
        raise ValidationError(f"Team: use at most {TEAM_MAX} characters.", field="team")


def _validate_roles(roles: list[Role] | list[str]) -> list[Role]:
    if not roles:
        raise ValidationError("Roles: choose at least one role.", field="roles")
    try:
        return sorted({Role(r) for r in roles})
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationError(f"Roles: choose from {allowed}.", field="roles") from exc


def get_user(*, session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    return user


def get_user_by_username(*, session: Session, username: str) -> User | None:
    """The user with this username (case-insensitive), if any."""
    name = _normalise_username(username)
    return session.exec(select(User).where(User.username == name)).first()


def create_user(*, session: Session, user_in: UserCreate, actor: Actor) -> User:
    """Create a user with roles (admin only); the password must meet the policy."""
    require_role(actor, Role.admin, doing="create users")
    username = _normalise_username(user_in.username)
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            "Username: use 2 to 64 lower-case letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit.",
            field="username",
        )
    _validate_profile(display_name=user_in.display_name, email=user_in.email, team=user_in.team)
    roles = _validate_roles(user_in.roles)
    validate_password(user_in.password, username=username)
    if get_user_by_username(session=session, username=username) is not None:
        raise Conflict(f"Username: {username!r} is taken; choose another.")
    user = User(
        username=username,
        display_name=user_in.display_name.strip(),
        email=user_in.email.strip().lower(),
        team=(user_in.team or "").strip() or None,
        password_hash=hash_password(user_in.password),
    )
    user.role_links = [UserRole(role=r.value) for r in roles]
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user.create",
        "user",
        entity_id=user.id,
        details={"username": username, "roles": [r.value for r in roles], "team": user.team},
    )
    session.commit()
    return user


def update_user(
    *, session: Session, user_id: int, patch: UserUpdate, version: int, actor: Actor
) -> User:
    """Change a user's name, email or team (admin only), checking the version."""
    require_role(actor, Role.admin, doing="edit users")
    user = get_user(session=session, user_id=user_id)
    _check_version(user, version)
    changes = patch.model_dump(exclude_unset=True)
    merged = {"display_name": user.display_name, "email": user.email, "team": user.team}
    merged.update(changes)
    _validate_profile(
        display_name=merged["display_name"] or "", email=merged["email"] or "", team=merged["team"]
    )
    if "email" in changes:
        changes["email"] = changes["email"].strip().lower()
    user.sqlmodel_update(changes)
    return _saved(session, actor, user, "user.update", changes)


def _saved(
    session: Session,
    actor: Actor,
    user: User,
    action: str,
    details: dict[str, Any] | None = None,
    *,
    sign_out: bool = False,
) -> User:
    """Store a change to a user with a new version and its audit entry, and commit.

    `sign_out` ends every session of theirs (a deactivation, a reset password).
    """
    user.version += 1
    session.add(user)
    if sign_out:
        _revoke_all(session=session, user_id=user.id)
    record(session, actor, action, "user", entity_id=user.id, details=details)
    session.commit()
    return user


def _unlocked(user: User) -> None:
    """Forget failed sign-ins and any lockout."""
    user.failed_logins = 0
    user.locked_until = None


def _check_version(user: User, version: int) -> None:
    if user.version != version:
        raise Conflict(
            f"{user.username} was changed by someone else since you opened it; reload and "
            "make your change again."
        )


def set_roles(*, session: Session, user_id: int, roles: list[Role], actor: Actor) -> User:
    """Replace a user's roles (admin only); the last active admin keeps admin."""
    require_role(actor, Role.admin, doing="change roles")
    user = get_user(session=session, user_id=user_id)
    new_roles = _validate_roles(roles)
    if Role.admin in user.roles and Role.admin not in new_roles:
        _refuse_removing_last_admin(session=session, user=user)
    before = sorted(r.value for r in user.roles)
    user.role_links = [UserRole(role=r.value) for r in new_roles]
    user.version += 1
    session.add(user)
    record(
        session,
        actor,
        "user.roles",
        "user",
        entity_id=user.id,
        details={"before": before, "after": [r.value for r in new_roles]},
    )
    session.commit()
    session.refresh(user)
    return user


def _refuse_removing_last_admin(*, session: Session, user: User) -> None:
    admins = session.exec(
        select(func.count())
        .select_from(UserRole)
        .join(User, col(User.id) == col(UserRole.user_id))
        .where(UserRole.role == Role.admin.value, col(User.is_active).is_(True))
        .where(col(User.id) != user.id)
    ).one()
    if admins == 0:
        raise Conflict(
            f"{user.username} is the last active administrator; make someone else an "
            "administrator first."
        )


def deactivate_user(*, session: Session, user_id: int, actor: Actor) -> User:
    """Stop a user signing in and end their sessions (admin only)."""
    require_role(actor, Role.admin, doing="deactivate users")
    user = get_user(session=session, user_id=user_id)
    if isinstance(actor, User) and actor.id == user.id:
        raise Conflict("You cannot deactivate your own account; ask another administrator.")
    if Role.admin in user.roles:
        _refuse_removing_last_admin(session=session, user=user)
    user.is_active = False
    return _saved(session, actor, user, "user.deactivate", sign_out=True)


def reactivate_user(*, session: Session, user_id: int, actor: Actor) -> User:
    """Let a deactivated user sign in again (admin only)."""
    require_role(actor, Role.admin, doing="reactivate users")
    user = get_user(session=session, user_id=user_id)
    user.is_active = True
    _unlocked(user)
    return _saved(session, actor, user, "user.reactivate")


def unlock_user(*, session: Session, user_id: int, actor: Actor) -> User:
    """Lift a sign-in lockout before its cooldown ends (admin only)."""
    require_role(actor, Role.admin, doing="unlock accounts")
    user = get_user(session=session, user_id=user_id)
    _unlocked(user)
    return _saved(session, actor, user, "user.unlock")


def reset_password(*, session: Session, user_id: int, new_password: str, actor: Actor) -> User:
    """Set a new password for someone (admin only); their sessions end."""
    require_role(actor, Role.admin, doing="reset passwords")
    user = get_user(session=session, user_id=user_id)
    validate_password(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    _unlocked(user)
    return _saved(session, actor, user, "user.password_reset", sign_out=True)


def change_own_password(
    *,
    session: Session,
    actor: User,
    current_password: str,
    new_password: str,
    keep_session: str | None = None,
) -> User:
    """Change the signed-in user's password after checking the current one."""
    user = get_user(session=session, user_id=actor.id or 0)
    if not check_password(current_password, user.password_hash):
        raise ValidationError(
            "Current password: that is not your current password.", field="current_password"
        )
    if new_password == current_password:
        raise ValidationError(
            "New password: choose a password different from the current one.",
            field="new_password",
        )
    validate_password(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.version += 1
    session.add(user)
    # Other browsers signed in as this user are signed out; this one stays.
    _revoke_all(session=session, user_id=user.id, except_hash=_token_hash(keep_session))
    record(session, user, "user.password_change", "user", entity_id=user.id)
    session.commit()
    return user


def list_users(*, session: Session, actor: Actor) -> list[User]:
    """Every user, by username (admin only)."""
    require_role(actor, Role.admin, doing="list users")
    return list(session.exec(select(User).order_by(col(User.username))).all())


def locked_users(*, session: Session, actor: Actor) -> list[User]:
    """Users whose sign-in is locked right now (admin only)."""
    require_role(actor, Role.admin, doing="list locked accounts")
    return list(
        session.exec(
            select(User).where(col(User.locked_until) > utcnow()).order_by(col(User.username))
        ).all()
    )


def count_users(*, session: Session) -> int:
    """How many users exist (used to decide whether a database is empty)."""
    return int(session.exec(select(func.count()).select_from(User)).one())


# --- signing in -----------------------------------------------------------------


@lru_cache(maxsize=32)
def _dummy_hash(rounds: int) -> str:
    """A real bcrypt hash at the configured cost, checked when the username is unknown.

    It costs what a real account's check costs, so the time a refusal takes does not
    tell which usernames exist.
    """
    return bcrypt.hashpw(b"rapport-timing-equaliser", bcrypt.gensalt(rounds=rounds)).decode()


def _hash_cost(password_hash: str) -> int | None:
    """The cost a bcrypt hash was made at ("$2b$12$..." -> 12), if readable."""
    parts = password_hash.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


def _equalised_check(password: str, password_hash: str | None) -> bool:
    """Check a password in the time a hash at the configured cost takes.

    A username without an account is checked against a dummy hash at that cost. A hash
    made at a lower cost (before the cost was raised) is topped up with dummy checks at
    its cost, its cost + 1, ... up to the configured one: bcrypt's work doubles with each
    step, so the total is what one check at the configured cost takes.
    """
    rounds = get_settings().bcrypt_rounds
    if password_hash is None:
        check_password(password, _dummy_hash(rounds))
        return False
    cost = _hash_cost(password_hash) or rounds
    matches = check_password(password, password_hash)
    for step in range(max(cost, 4), rounds):
        check_password(password, _dummy_hash(step))
    return matches


def _name_hash(name: str) -> str:
    return hashlib.sha256(f"rapport-sign-in:{name}".encode()).hexdigest()


@dataclass(frozen=True)
class _Claim:
    """One sign-in attempt counted before its password is checked."""

    allowed: bool
    failed_logins: int
    locked_until: datetime | None


def _claim_values(table: Table, now: datetime) -> tuple[dict[str, Any], Any]:
    """The counter's new values for one more attempt, and when an attempt is allowed.

    Both are SQL on the row's current values, so the count and the check happen in one
    statement: attempts made at the same moment each see the others' counts, and no
    more than the allowance of them reach the password check.
    """
    settings = get_settings()
    c = table.c
    lock_ended = and_(c.locked_until.is_not(None), c.locked_until <= now)
    window = now - timedelta(minutes=settings.lockout_minutes)
    forgotten = or_(c.last_failed_at.is_(None), c.last_failed_at < window, lock_ended)
    failed = case((forgotten, 1), else_=c.failed_logins + 1)
    until = now + timedelta(minutes=settings.lockout_minutes)
    values = {
        "failed_logins": failed,
        "last_failed_at": now,
        "locked_until": case(
            (failed >= settings.lockout_attempts, literal(until, UTCDateTime())),
            else_=null(),
        ),
    }
    allowed = or_(
        lock_ended,
        and_(
            c.locked_until.is_(None),
            or_(forgotten, c.failed_logins < settings.lockout_attempts),
        ),
    )
    return values, allowed


def _claim_for_user(*, session: Session, user_id: int, now: datetime) -> _Claim:
    table = cast(Table, User.__table__)  # type: ignore[attr-defined]
    values, allowed = _claim_values(table, now)
    row = session.execute(
        update(table)
        .where(table.c.id == user_id, allowed)
        .values(values)
        .returning(table.c.failed_logins, table.c.locked_until)
    ).first()
    if row is None:
        current = session.execute(
            select(table.c.failed_logins, table.c.locked_until).where(table.c.id == user_id)
        ).one()
        return _Claim(False, current[0], current[1])
    return _Claim(True, row[0], row[1])


def _claim_for_unknown(*, session: Session, name: str, now: datetime) -> _Claim:
    table = cast(Table, SignInAttempt.__table__)  # type: ignore[attr-defined]
    values, allowed = _claim_values(table, now)
    key = _name_hash(name)
    settings = get_settings()
    first = {
        "name_hash": key,
        "failed_logins": 1,
        "last_failed_at": now,
        "locked_until": (
            now + timedelta(minutes=settings.lockout_minutes)
            if settings.lockout_attempts <= 1
            else None
        ),
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(first)
        .on_conflict_do_update(index_elements=[table.c.name_hash], set_=values, where=allowed)
        .returning(table.c.failed_logins, table.c.locked_until)
    )
    row = session.execute(statement).first()
    if row is None:
        current = session.execute(
            select(table.c.failed_logins, table.c.locked_until).where(table.c.name_hash == key)
        ).one()
        return _Claim(False, current[0], current[1])
    return _Claim(True, row[0], row[1])


def _forget_old_attempts(*, session: Session, now: datetime) -> None:
    # A run of failures older than the cooldown restarts from one either way, so its
    # row can go: the table holds only what a lockout needs right now.
    table = cast(Table, SignInAttempt.__table__)  # type: ignore[attr-defined]
    window = now - timedelta(minutes=get_settings().lockout_minutes)
    session.execute(
        delete(table).where(
            table.c.last_failed_at < window,
            or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
        )
    )


def authenticate(
    *, session: Session, username: str, password: str, now: datetime | None = None
) -> User:
    """Check a sign-in; count failures and lock the account after too many.

    The attempt is counted before the password is checked, in one statement, so
    sign-ins sent at the same moment get no more guesses than the allowance. A username
    without an account is counted, locked and answered in the same words, at the same
    cost, as one with an account, so no answer tells whether a username exists.
    """
    settings = get_settings()
    now = now or utcnow()
    name = _normalise_username(username)
    user = get_user_by_username(session=session, username=name) if name else None
    user_id = user.id if user is not None else None
    if user_id is not None:
        claim = _claim_for_user(session=session, user_id=user_id, now=now)
    else:
        claim = _claim_for_unknown(session=session, name=name, now=now)
    _forget_old_attempts(session=session, now=now)
    session.commit()
    if not claim.allowed:
        raise AccountLocked(_locked_message(claim.locked_until or now, now))
    matches = _equalised_check(password, user.password_hash if user is not None else None)
    if user is None or not matches:
        _record_failure(session=session, user=user, claim=claim)
        if claim.locked_until is not None and claim.locked_until > now:
            raise AccountLocked(_locked_message(claim.locked_until, now))
        left = settings.lockout_attempts - claim.failed_logins
        hint = ""
        if left <= 2:
            plural = "s" if left != 1 else ""
            hint = f" {left} attempt{plural} left before a {settings.lockout_minutes}-minute lock."
        raise AuthenticationFailed("Username or password is incorrect." + hint)
    session.refresh(user)
    if not user.is_active:
        record(
            session,
            user,
            "login.refused",
            "user",
            entity_id=user.id,
            details={"reason": "deactivated"},
        )
        session.commit()
        raise AuthenticationFailed(
            "This account has been deactivated; ask an administrator if you need access."
        )
    user.failed_logins = 0
    user.locked_until = None
    user.last_failed_at = None
    if _hash_cost(user.password_hash) != settings.bcrypt_rounds:
        # Brought to the current cost while the password is at hand, so this account's
        # check takes as long as every other's.
        user.password_hash = hash_password(password)
    session.add(user)
    record(session, user, "login.success", "user", entity_id=user.id)
    session.commit()
    return user


def _record_failure(*, session: Session, user: User | None, claim: _Claim) -> None:
    if user is None:
        record(session, None, "login.failure", "user", details={"reason": "unknown username"})
        session.commit()
        return
    details: dict[str, object] = {"failed_logins": claim.failed_logins}
    if claim.locked_until is not None:
        details["locked_until"] = claim.locked_until.isoformat()
    record(session, user, "login.failure", "user", entity_id=user.id, details=details)
    if "locked_until" in details:
        record(session, user, "user.locked", "user", entity_id=user.id, details=details)
    session.commit()


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((until - now).total_seconds() / 60))
    return (
        "Too many failed sign-ins: this account is locked for another "
        f"{minutes} minute{'s' if minutes != 1 else ''}. Try again later or ask an "
        "administrator to unlock it."
    )


def _token_hash(token: str | None) -> str | None:
    if token is None:
        return None
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the token goes in the cookie, never in the database."""

    token: str
    expires_at: datetime


def open_session(*, session: Session, user: User, now: datetime | None = None) -> NewSession:
    """Start a server-side session for a signed-in user."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=get_settings().session_hours)
    token_hash = _token_hash(token)
    assert token_hash is not None
    session.add(
        AuthSession(
            token_hash=token_hash, user_id=user.id or 0, created_at=now, expires_at=expires_at
        )
    )
    session.commit()
    return NewSession(token=token, expires_at=expires_at)


def resolve_session(*, session: Session, token: str, now: datetime | None = None) -> User | None:
    """The active user behind a session token, or None if revoked, expired or unknown."""
    if not token:
        return None
    now = now or utcnow()
    row = session.get(AuthSession, _token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user


def close_session(*, session: Session, token: str) -> None:
    """Sign out: revoke the session so its cookie never works again."""
    row = session.get(AuthSession, _token_hash(token))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    session.add(row)
    user = session.get(User, row.user_id)
    record(session, user, "logout", "user", entity_id=row.user_id)
    session.commit()


def _revoke_all(*, session: Session, user_id: int | None, except_hash: str | None = None) -> None:
    query = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if except_hash is not None:
        query = query.where(col(AuthSession.token_hash) != except_hash)
    session.execute(query)


__all__ = [
    "OPERATOR",
    "Operator",
    "DISPLAY_NAME_MAX",
    "PASSWORD_MAX_LENGTH",
    "PASSWORD_MIN_LENGTH",
    "TEAM_MAX",
    "USERNAME_MAX",
    "authenticate",
    "change_own_password",
    "close_session",
    "create_user",
    "deactivate_user",
    "list_users",
    "open_session",
    "reactivate_user",
    "reset_password",
    "resolve_session",
    "set_roles",
    "unlock_user",
    "update_user",
]
