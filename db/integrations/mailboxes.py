"""Connected mailboxes: their settings, who may manage them, where their password comes
from, how their last sync went, and the lease that lets one worker sync each at a time.

An administrator connects mailboxes: shared ones (`hello@`) or a person's own. The
person whose mailbox it is may see it, pause or resume it, say why its sent mail goes
out, and check its connection; changing where it connects or which password it uses
is for administrators, so nobody can point someone else's secret at a server of theirs.
"""

import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator, require_role
from db.auth.audit import record
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.normalise import clean_text, normalise_email
from db.core.settings import get_settings
from db.core.types import utcnow
from db.integrations.mail_imap import MailboxUnavailable, find_folders, signed_in
from db.models.auth import Role, User
from db.models.integrations_mail import (
    FolderRole,
    Mailbox,
    MailboxCreate,
    MailboxUpdate,
    MailFolder,
    MailLinkStatus,
    MailMessageContact,
    MailSecurity,
)
from db.models.people import Contact

NAME_MAX = 100
HOST_MAX = 253
ERROR_MAX = 500
# Environment variables a mailbox may read its password from: a prefix of their own, so
# a mailbox's settings can never name the database URL or the cookie key.
PASSWORD_ENV_PREFIX = "MAILBOX_PASSWORD_"
_ENV_NAME = re.compile(rf"{PASSWORD_ENV_PREFIX}[A-Z0-9_]{{1,60}}")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}
# What the person whose mailbox it is may change; the rest is for administrators.
OWNER_FIELDS = frozenset({"enabled", "sent_purpose"})


def _is_admin(actor: Actor) -> bool:
    return isinstance(actor, Operator) or Role.admin in actor.roles


def _may_manage(actor: Actor, mailbox: Mailbox) -> bool:
    return _is_admin(actor) or (mailbox.owner_id is not None and mailbox.owner_id == actor.id)


def get_mailbox(*, session: Session, mailbox_id: int, actor: Actor) -> Mailbox:
    """One mailbox the actor manages (an administrator, or the person it belongs to)."""
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None or not _may_manage(actor, mailbox):
        raise NotFound(f"There is no mailbox {mailbox_id} that you manage.")
    return mailbox


def list_mailboxes(*, session: Session, actor: Actor) -> list[Mailbox]:
    """The mailboxes the actor manages: all for administrators, else their own."""
    query = select(Mailbox).order_by(col(Mailbox.name))
    if not _is_admin(actor):
        query = query.where(col(Mailbox.owner_id) == actor.id)
    return list(session.exec(query).all())


def folder_states(*, session: Session, mailbox_id: int, actor: Actor) -> list[MailFolder]:
    """Where the sync of each folder of a mailbox stands."""
    get_mailbox(session=session, mailbox_id=mailbox_id, actor=actor)
    return list(
        session.exec(
            select(MailFolder)
            .where(col(MailFolder.mailbox_id) == mailbox_id)
            .order_by(col(MailFolder.role))
        ).all()
    )


@dataclass(frozen=True)
class HeldMessage:
    """A message the sync could not simply log: the consent check refused it."""

    contact_id: int
    contact: str
    subject: str
    occurred_at: datetime
    status: str
    reason: str


def refused_messages(
    *, session: Session, mailbox_id: int, actor: Actor, limit: int = 50
) -> list[HeldMessage]:
    """The mailbox's messages the consent check refused (logged with an override, or
    not logged at all), latest first."""
    get_mailbox(session=session, mailbox_id=mailbox_id, actor=actor)
    rows = session.exec(
        select(MailMessageContact, Contact)
        .join(Contact, col(Contact.id) == col(MailMessageContact.contact_id))
        .where(
            col(MailMessageContact.mailbox_id) == mailbox_id,
            col(MailMessageContact.status) != MailLinkStatus.logged,
        )
        .order_by(col(MailMessageContact.occurred_at).desc(), col(MailMessageContact.id).desc())
        .limit(min(max(limit, 1), 500))
    ).all()
    return [
        HeldMessage(
            contact_id=contact.id or 0,
            contact=contact.full_name or f"Contact {contact.id}",
            subject=link.subject,
            occurred_at=link.occurred_at,
            status=link.status.value,
            reason=link.reason or "",
        )
        for link, contact in rows
    ]


def _clean(values: dict[str, Any], session: Session) -> dict[str, Any]:
    """Checked settings: each refusal names the field and the fix."""
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = clean_text(
            cleaned["name"], field="name", label="Name", max_length=NAME_MAX
        )
        if not cleaned["name"]:
            raise ValidationError("Name: give the mailbox a name, e.g. Hello.", field="name")
    if "address" in cleaned:
        cleaned["address"] = normalise_email(cleaned["address"], field="address", label="Address")
        if not cleaned["address"]:
            raise ValidationError("Address: give the mailbox's email address.", field="address")
    if "host" in cleaned:
        host = (cleaned["host"] or "").strip().lower()
        if not host or len(host) > HOST_MAX or not _HOST.fullmatch(host):
            raise ValidationError(
                "Server: give the IMAP server's host name, e.g. imap.example.org.", field="host"
            )
        cleaned["host"] = host
    if "port" in cleaned and not (1 <= int(cleaned["port"] or 0) <= 65535):
        raise ValidationError("Port: use a number from 1 to 65535 (993 for TLS).", field="port")
    if "username" in cleaned:
        cleaned["username"] = clean_text(
            cleaned["username"], field="username", label="User name", max_length=254
        )
        if not cleaned["username"]:
            raise ValidationError("User name: give the login of the mailbox.", field="username")
    for key in ("password_env", "password_file"):
        if key in cleaned:
            cleaned[key] = (cleaned[key] or "").strip() or None
    if cleaned.get("password_env") and not _ENV_NAME.fullmatch(cleaned["password_env"]):
        raise ValidationError(
            f"Password variable: name an environment variable that starts with "
            f"{PASSWORD_ENV_PREFIX}, in capitals, digits and underscores "
            f"(e.g. {PASSWORD_ENV_PREFIX}HELLO).",
            field="password_env",
        )
    if cleaned.get("password_file") and not _FILE_NAME.fullmatch(cleaned["password_file"]):
        raise ValidationError(
            "Password file: give the name of a file in the secrets folder "
            f"({get_settings().mail_secrets_dir}), without a path.",
            field="password_file",
        )
    if cleaned.get("owner_id") is not None:
        owner = session.get(User, cleaned["owner_id"])
        if owner is None or not owner.is_active:
            raise ValidationError("Owner: choose an active user.", field="owner_id")
    return cleaned


def _check_whole(mailbox: Mailbox) -> None:
    """Rules that look at several settings together."""
    if bool(mailbox.password_env) == bool(mailbox.password_file):
        raise ValidationError(
            "Password: give either an environment variable or a secret file (one of them).",
            field="password_env",
        )
    if mailbox.security == MailSecurity.plain and mailbox.host not in LOOPBACK:
        raise ValidationError(
            "Security: a connection without encryption is allowed only to a server on this "
            "machine; use TLS or STARTTLS.",
            field="security",
        )


def _saved(session: Session, mailbox: Mailbox) -> None:
    try:
        session.flush()
    except IntegrityError as err:
        session.rollback()
        raise Conflict("Another mailbox already has this name or address; choose another.") from err


def create_mailbox(*, session: Session, mailbox_in: MailboxCreate, actor: Actor) -> Mailbox:
    """Connect a mailbox (administrators)."""
    require_role(actor, Role.admin, doing="connect a mailbox")
    values = _clean(mailbox_in.model_dump(), session)
    mailbox = Mailbox.model_validate(values)
    _check_whole(mailbox)
    session.add(mailbox)
    _saved(session, mailbox)
    record(
        session,
        actor,
        "mailbox.create",
        "mailbox",
        entity_id=mailbox.id,
        details={"host": mailbox.host, "owner_id": mailbox.owner_id},
    )
    session.commit()
    return mailbox


def update_mailbox(
    *, session: Session, mailbox_id: int, version: int, patch: MailboxUpdate, actor: Actor
) -> Mailbox:
    """Change a mailbox's settings (administrators; its owner may pause it and say why
    its sent mail goes out)."""
    mailbox = get_mailbox(session=session, mailbox_id=mailbox_id, actor=actor)
    changes = patch.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if getattr(mailbox, k) != v}
    if not _is_admin(actor) and set(changes) - OWNER_FIELDS:
        raise Forbidden(
            "Only an administrator can change where a mailbox connects or how it signs in; "
            "you may pause it or change the purpose of its sent mail."
        )
    if mailbox.version != version:
        raise Conflict("This mailbox was changed by someone else since you opened it; reload.")
    if not changes:
        return mailbox
    values = _clean(changes, session)
    for key, value in values.items():
        setattr(mailbox, key, value)
    _check_whole(mailbox)
    mailbox.version += 1
    mailbox.updated_at = utcnow()
    session.add(mailbox)
    _saved(session, mailbox)
    record(
        session,
        actor,
        "mailbox.update",
        "mailbox",
        entity_id=mailbox.id,
        details={"changed": sorted(values)},
    )
    session.commit()
    return mailbox


# --- the password -----------------------------------------------------------------


def read_password(mailbox: Mailbox) -> str:
    """The mailbox's password, from its environment variable or its secret file."""
    if mailbox.password_env:
        value = os.environ.get(mailbox.password_env)
        if not value:
            raise MailboxUnavailable(
                f"The password variable {mailbox.password_env} is not set where the sync runs."
            )
        return value
    folder = Path(get_settings().mail_secrets_dir)
    name = mailbox.password_file or ""
    if not _FILE_NAME.fullmatch(name):
        raise MailboxUnavailable("The mailbox names no password file.")
    try:
        value = (folder / name).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise MailboxUnavailable(
            f"The password file {name} cannot be read in {folder} ({err.strerror or err})."
        ) from err
    if not value:
        raise MailboxUnavailable(f"The password file {name} is empty.")
    return value


# --- how it went ------------------------------------------------------------------


def record_attempt(*, session: Session, mailbox_id: int) -> None:
    """Note that a sync or check of the mailbox started (commits)."""
    session.execute(
        update(Mailbox).where(col(Mailbox.id) == mailbox_id).values(last_attempt_at=utcnow())
    )
    session.commit()


def record_success(*, session: Session, mailbox_id: int) -> None:
    """Note that the mailbox was reached and signed into (commits)."""
    session.execute(
        update(Mailbox).where(col(Mailbox.id) == mailbox_id).values(last_success_at=utcnow())
    )
    session.commit()


def record_failure(*, session: Session, mailbox_id: int, error: str) -> None:
    """Note why the mailbox could not be synced (commits); the message is cut to fit."""
    session.execute(
        update(Mailbox)
        .where(col(Mailbox.id) == mailbox_id)
        .values(last_error=error[:ERROR_MAX], last_error_at=utcnow())
    )
    session.commit()


@dataclass(frozen=True)
class MailboxHealth:
    """How a mailbox is doing, in words for its settings screen."""

    ok: bool
    label: str
    sentence: str


def health(mailbox: Mailbox) -> MailboxHealth:
    """Whether the mailbox's last attempt worked, and what to say about it."""
    if not mailbox.enabled:
        return MailboxHealth(True, "Paused", "Paused: the sync leaves it alone.")
    if mailbox.last_attempt_at is None:
        return MailboxHealth(
            True, "Not synced yet", "Not synced yet: the sync worker will pick it up."
        )
    failing = mailbox.last_error_at is not None and (
        mailbox.last_success_at is None or mailbox.last_error_at > mailbox.last_success_at
    )
    if failing:
        return MailboxHealth(False, "Failing", f"Failing: {mailbox.last_error}")
    return MailboxHealth(True, "Working", "Working.")


def check_connection(*, session: Session, mailbox_id: int, actor: Actor) -> list[str]:
    """Connect and sign in now, find INBOX and Sent, and record the outcome on the
    mailbox (its manager). Returns the folders found; refuses with the server's answer."""
    mailbox = get_mailbox(session=session, mailbox_id=mailbox_id, actor=actor)
    record_attempt(session=session, mailbox_id=mailbox_id)
    try:
        password = read_password(mailbox)
        with signed_in(
            mailbox,
            password,
            timeout=get_settings().mail_timeout,
            ca_file=get_settings().mail_ca_file,
        ) as client:
            folders = find_folders(client)
    except MailboxUnavailable as err:
        record_failure(session=session, mailbox_id=mailbox_id, error=str(err))
        raise
    record_success(session=session, mailbox_id=mailbox_id)
    found = [folders[FolderRole.inbox]]
    if FolderRole.sent in folders:
        found.append(folders[FolderRole.sent])
    return found


# --- the lease --------------------------------------------------------------------


def worker_name() -> str:
    """A name for this worker process, unique across machines and restarts."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lease(*, session: Session, mailbox_id: int, worker: str, seconds: int) -> bool:
    """Take (or extend) the mailbox's lease for `worker`, in one statement (commits).

    True when the worker holds it: nobody held it, the last holder's lease ran out (a
    worker that died), or the worker held it already. Two workers asking at once on
    one database: exactly one gets it."""
    now = utcnow()
    result = session.execute(
        update(Mailbox)
        .where(
            col(Mailbox.id) == mailbox_id,
            or_(
                col(Mailbox.lease_until).is_(None),
                col(Mailbox.lease_until) < now,
                col(Mailbox.lease_owner) == worker,
            ),
        )
        .values(lease_owner=worker, lease_until=now + timedelta(seconds=seconds))
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_lease(*, session: Session, mailbox_id: int, worker: str) -> None:
    """Give the lease back, if the worker still holds it (commits)."""
    session.execute(
        update(Mailbox)
        .where(col(Mailbox.id) == mailbox_id, col(Mailbox.lease_owner) == worker)
        .values(lease_owner=None, lease_until=None)
    )
    session.commit()


def lease_holder(*, session: Session, mailbox_id: int, at: datetime | None = None) -> str | None:
    """Which worker holds the mailbox now, if any."""
    mailbox = session.get(Mailbox, mailbox_id, populate_existing=True)
    if mailbox is None or mailbox.lease_until is None:
        return None
    return mailbox.lease_owner if mailbox.lease_until > (at or utcnow()) else None
