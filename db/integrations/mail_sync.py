"""The mailbox sync: new messages of INBOX and Sent onto the timelines of the contacts
they are from or to.

For each mailbox the worker holds the lease of: sign in, and for each folder read the
messages past the last UID done (under the folder's UIDVALIDITY; when the server
changes it, the folder is read again from the start, and the unique key of message and
contact keeps what was logged from being logged twice). Each message is logged for every
live contact whose email or second email is one of its senders or recipients (To, Cc,
Bcc; the direction comes from the folder), through the people area's `log_interaction`,
so every interaction check runs.
The folder's cursor moves in the transaction that finishes the message, so a restart
reads nothing again that was done and misses nothing that was not.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.auth.actor import Operator
from db.auth.audit import record
from db.core.errors import DomainError
from db.core.normalise import normalise_email
from db.core.settings import get_settings
from db.core.types import utcnow
from db.integrations.mail_imap import MailboxUnavailable, find_folders, signed_in
from db.integrations.mail_parse import ParsedMessage, parse_message
from db.integrations.mailboxes import (
    acquire_lease,
    read_password,
    record_attempt,
    record_failure,
    record_success,
    release_lease,
    worker_name,
)
from db.models.integrations_mail import (
    FolderRole,
    Mailbox,
    MailFolder,
    MailLinkStatus,
    MailMessageContact,
    MailUnknownSender,
)
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose
from db.people.contacts import CONTACT_CHECKS
from db.people.interactions import OVERRIDE_REASON_MAX, log_interaction

log = logging.getLogger("rapport.mail")
FETCH_BATCH = 20
OVERRIDE = (
    "Already sent: found in the Sent folder of {address} by the mailbox sync, which "
    "logs what was sent so the consent audit reports it. The consent check said: {reason}"
)


class MailSync(Operator):
    """The mailbox sync as the actor of what it logs (it may log on any timeline)."""

    username = "mail-sync"
    display_name = "Mailbox sync"
    # What it finds in Sent was sent already: logged (and flagged by the consent audit)
    # even against an objection, never refused, since refusing would hide it.
    records_what_was_sent = True


SYNC_ACTOR = MailSync()


class LeaseLost(Exception):
    """Another worker took the mailbox over (this one was too slow to renew)."""


@dataclass
class FolderResult:
    """What one folder's sync did."""

    role: FolderRole
    name: str
    fetched: list[int] = field(default_factory=list)
    logged: int = 0
    already: int = 0
    overridden: int = 0
    refused: int = 0
    unknown: int = 0
    restarted: bool = False


@dataclass
class MailboxResult:
    """What one mailbox's sync did: synced, busy (another worker), paused or failed."""

    mailbox_id: int
    name: str
    status: str
    error: str = ""
    folders: list[FolderResult] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        """Messages read from the server."""
        return sum(len(f.fetched) for f in self.folders)

    @property
    def logged(self) -> int:
        """Interactions logged."""
        return sum(f.logged + f.overridden for f in self.folders)

    def summary(self) -> str:
        """One line for the log and the command line."""
        if self.status != "synced":
            return f"{self.name}: {self.status}{': ' + self.error if self.error else ''}"
        parts = [f"{self.fetched} new message(s)", f"{self.logged} logged"]
        for label, attr in (
            ("already logged", "already"),
            ("overridden", "overridden"),
            ("refused", "refused"),
            ("from unknown senders", "unknown"),
        ):
            count = sum(getattr(f, attr) for f in self.folders)
            if count:
                parts.append(f"{count} {label}")
        if any(f.restarted for f in self.folders):
            parts.append("a folder was read again (its UIDVALIDITY changed)")
        return f"{self.name}: " + ", ".join(parts)


def contacts_by_email(*, session: Session, emails: list[str]) -> dict[str, list[Contact]]:
    """Live contacts (not merged away, not erased) whose email or second email is one of
    these normalised addresses."""
    if not emails:
        return {}
    found = session.exec(
        select(Contact).where(
            or_(col(Contact.email).in_(emails), col(Contact.email2).in_(emails)),
            col(Contact.merged_into_id).is_(None),
            col(Contact.erased_at).is_(None),
        )
    ).all()
    matches: dict[str, list[Contact]] = {}
    for contact in sorted(found, key=lambda c: c.id or 0):
        for address in {contact.email, contact.email2}:
            if address in emails:
                matches.setdefault(address, []).append(contact)
    return matches


def _normalised(address: str) -> str | None:
    try:
        return normalise_email(address)
    except DomainError:
        return None


def connected_addresses(*, session: Session) -> set[str]:
    """Every connected mailbox's own address: never a contact's message, nor unknown."""
    return {a for a in session.exec(select(Mailbox.address)).all() if a}


def _suppressed(session: Session, email: str) -> bool:
    """True when a contact check refuses the address (an erased person's)."""
    return any(check(session, {"email": email}) for check in CONTACT_CHECKS)


@dataclass
class _Context:
    session: Session
    mailbox: Mailbox
    folder: MailFolder
    result: FolderResult
    own: set[str]


def _link(
    ctx: _Context,
    message: ParsedMessage,
    contact: Contact,
    status: MailLinkStatus,
    reason: str | None = None,
) -> MailMessageContact:
    link = MailMessageContact(
        message_key=message.key,
        contact_id=contact.id or 0,
        mailbox_id=ctx.mailbox.id or 0,
        role=ctx.folder.role,
        status=status,
        reason=reason[:1000] if reason else None,
        subject=message.subject,
        occurred_at=message.occurred_at,
    )
    ctx.session.add(link)
    return link


def _claim(ctx: _Context, message: ParsedMessage, contact: Contact) -> MailMessageContact | None:
    """Insert the message's key for this contact; None when it is there already (the
    unique constraint decides, also against a worker syncing another mailbox)."""
    link = _link(ctx, message, contact, MailLinkStatus.logged)
    try:
        ctx.session.flush()
    except IntegrityError:
        ctx.session.rollback()
        return None
    return link


def _log_for_contact(ctx: _Context, message: ParsedMessage, contact: Contact) -> None:
    session = ctx.session
    outbound = ctx.folder.role == FolderRole.sent
    purpose = Purpose.service
    if outbound:
        purpose = Purpose.marketing if message.marketing else ctx.mailbox.sent_purpose
    item = InteractionCreate(
        contact_id=contact.id or 0,
        channel=Channel.email,
        direction=Direction.outbound if outbound else Direction.inbound,
        purpose=purpose,
        subject=message.subject,
        body=message.text,
        occurred_at=message.occurred_at,
    )
    link = _claim(ctx, message, contact)
    if link is None:
        ctx.result.already += 1
        return
    try:
        interaction = log_interaction(session=session, interaction_in=item, actor=SYNC_ACTOR)
    except DomainError as refusal:
        session.rollback()
        if not (outbound and purpose == Purpose.marketing):
            _refused(ctx, message, contact, str(refusal))
            return
        # Marketing already sent without valid consent: it happened, so it is logged with
        # the check's refusal as the override reason, and the audit lists it as a violation.
        reason = OVERRIDE.format(address=ctx.mailbox.address, reason=str(refusal))
        item.override_reason = reason[:OVERRIDE_REASON_MAX]
        link = _claim(ctx, message, contact)
        if link is None:
            ctx.result.already += 1
            return
        link.status = MailLinkStatus.overridden
        link.reason = str(refusal)[:1000]
        try:
            interaction = log_interaction(session=session, interaction_in=item, actor=SYNC_ACTOR)
        except DomainError as absolute:
            # Another check refused it: it is kept here, with the reason.
            session.rollback()
            _refused(ctx, message, contact, str(absolute))
            return
        ctx.result.overridden += 1
    else:
        ctx.result.logged += 1
    link.interaction_id = interaction.id
    session.add(link)
    session.commit()


def _refused(ctx: _Context, message: ParsedMessage, contact: Contact, reason: str) -> None:
    link = _link(ctx, message, contact, MailLinkStatus.refused, reason)
    try:
        ctx.session.flush()
    except IntegrityError:
        ctx.session.rollback()
        ctx.result.already += 1
        return
    record(
        ctx.session,
        SYNC_ACTOR,
        "mail.refused",
        "mail_message_contact",
        entity_id=link.id,
        details={
            "mailbox_id": ctx.mailbox.id,
            "contact_id": contact.id,
            "folder": ctx.folder.role.value,
        },
    )
    ctx.session.commit()
    ctx.result.refused += 1


def _note_unknown(ctx: _Context, message: ParsedMessage, name: str, email: str) -> None:
    session = ctx.session
    sender = session.exec(
        select(MailUnknownSender).where(
            col(MailUnknownSender.mailbox_id) == ctx.mailbox.id,
            col(MailUnknownSender.email) == email,
        )
    ).first()
    if sender is None:
        sender = MailUnknownSender(
            mailbox_id=ctx.mailbox.id or 0,
            email=email,
            display_name=name[:200],
            first_seen_at=message.occurred_at,
            last_seen_at=message.occurred_at,
        )
    sender.messages += 1
    if message.occurred_at >= sender.last_seen_at or sender.messages == 1:
        sender.last_seen_at = message.occurred_at
        sender.last_subject = message.subject
        sender.display_name = name[:200] or sender.display_name
    session.add(sender)
    ctx.result.unknown += 1


def process_message(ctx: _Context, uid: int, message: ParsedMessage) -> None:
    """Log one message for its contacts, note an unknown sender, and move the cursor."""
    session = ctx.session
    inbound = ctx.folder.role == FolderRole.inbox
    # Every party is matched: the senders, and each To, Cc and Bcc recipient (a contact
    # copied on a message to the mailbox was in the conversation too).
    named: dict[str, str] = {}
    for name, address in (*message.senders, *message.recipients):
        email = _normalised(address)
        if email and email not in ctx.own and email not in named:
            named[email] = name
    matches = contacts_by_email(session=session, emails=list(named))
    seen: set[int] = set()
    for email in named:
        for contact in matches.get(email, []):
            if contact.id not in seen:
                seen.add(contact.id or 0)
                _log_for_contact(ctx, message, contact)
    if inbound and not message.automatic:
        senders = {_normalised(address) for _name, address in message.senders}
        for email, name in named.items():
            if email in senders and email not in matches and not _suppressed(session, email):
                _note_unknown(ctx, message, name, email)
    folder = session.get(MailFolder, ctx.folder.id, populate_existing=True)
    assert folder is not None
    folder.last_uid = max(folder.last_uid, uid)
    folder.synced_at = utcnow()
    session.add(folder)
    session.commit()
    ctx.folder = folder


def _folder_state(
    session: Session, mailbox: Mailbox, role: FolderRole, name: str, uidvalidity: int
) -> tuple[MailFolder, bool]:
    """The folder's cursor, started afresh when the server's UIDVALIDITY changed."""
    folder = session.exec(
        select(MailFolder).where(
            col(MailFolder.mailbox_id) == mailbox.id, col(MailFolder.role) == role
        )
    ).first()
    restarted = False
    if folder is None:
        folder = MailFolder(mailbox_id=mailbox.id or 0, role=role, name=name)
    elif folder.uidvalidity != uidvalidity or folder.name != name:
        # The UIDs we remember mean nothing now (the server rebuilt the folder, or Sent
        # is another folder): read it all again; the unique keys stop any second log.
        restarted = folder.uidvalidity != 0
        folder.last_uid = 0
    folder.uidvalidity = uidvalidity
    folder.name = name
    session.add(folder)
    session.commit()
    return folder, restarted


def sync_folder(
    *,
    session: Session,
    client: Any,
    mailbox: Mailbox,
    role: FolderRole,
    name: str,
    own: set[str],
    keep_lease: Callable[[], None],
    limit: int | None = None,
) -> FolderResult:
    """Read the folder's new messages and process them in UID order."""
    settings = get_settings()
    selected = client.select_folder(name, readonly=True)
    uidvalidity = int(selected[b"UIDVALIDITY"])
    folder, restarted = _folder_state(session, mailbox, role, name, uidvalidity)
    result = FolderResult(role=role, name=name, restarted=restarted)
    ctx = _Context(session, mailbox, folder, result, own)
    # "UID n:*" always answers with the last message, even when it is below n.
    uids = sorted(
        u for u in client.search(["UID", f"{folder.last_uid + 1}:*"]) if u > folder.last_uid
    )
    if limit is not None:
        uids = uids[:limit]
    max_bytes = settings.mail_max_message_mb * 1024 * 1024
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        sizes = client.fetch(batch, ["RFC822.SIZE", "INTERNALDATE"])
        whole = [u for u in batch if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) <= max_bytes]
        headers_only = [u for u in batch if u not in whole]
        bodies: dict[int, bytes] = {}
        # PEEK: reading a message must not mark it read for the people who use the mailbox.
        if whole:
            for uid, data in client.fetch(whole, ["BODY.PEEK[]"]).items():
                bodies[uid] = data.get(b"BODY[]") or b""
        if headers_only:
            for uid, data in client.fetch(headers_only, ["BODY.PEEK[HEADER]"]).items():
                bodies[uid] = data.get(b"BODY[HEADER]") or b""
        for uid in batch:
            if uid not in bodies:
                continue  # expunged between the search and the fetch
            arrived = sizes.get(uid, {}).get(b"INTERNALDATE")
            message = parse_message(
                bodies[uid],
                arrived_at=arrived if isinstance(arrived, datetime) else None,
                excerpt=settings.mail_excerpt_chars,
            )
            if uid in headers_only:
                megabytes = int(sizes[uid][b"RFC822.SIZE"]) / 1024 / 1024
                message = _headers_only(message, megabytes)
            result.fetched.append(uid)
            process_message(ctx, uid, message)
            keep_lease()
    return result


def _headers_only(message: ParsedMessage, megabytes: float) -> ParsedMessage:
    from dataclasses import replace

    return replace(message, text=f"(A message of {megabytes:.0f} MB: its text was not read.)")


def sync_mailbox(
    *, session: Session, mailbox_id: int, worker: str | None = None, limit: int | None = None
) -> MailboxResult:
    """Sync one mailbox if this worker gets its lease; never raises for the mailbox's
    own trouble (the server down, the login refused): that is recorded on it."""
    worker = worker or worker_name()
    settings = get_settings()
    mailbox = session.get(Mailbox, mailbox_id, populate_existing=True)
    if mailbox is None:
        return MailboxResult(mailbox_id, f"mailbox {mailbox_id}", "failed", "no such mailbox")
    result = MailboxResult(mailbox_id, mailbox.name, "synced")
    if not mailbox.enabled:
        result.status = "paused"
        return result
    seconds = settings.mail_lease_seconds
    if not acquire_lease(session=session, mailbox_id=mailbox_id, worker=worker, seconds=seconds):
        result.status = "busy"
        result.error = "another worker is syncing it"
        return result
    renewed = [utcnow()]

    def keep_lease() -> None:
        if (utcnow() - renewed[0]).total_seconds() < seconds / 3:
            return
        if not acquire_lease(
            session=session, mailbox_id=mailbox_id, worker=worker, seconds=seconds
        ):
            raise LeaseLost()
        renewed[0] = utcnow()

    try:
        record_attempt(session=session, mailbox_id=mailbox_id)
        password = read_password(mailbox)
        own = connected_addresses(session=session)
        with signed_in(
            mailbox, password, timeout=settings.mail_timeout, ca_file=settings.mail_ca_file
        ) as client:
            folders = find_folders(client)
            for role in (FolderRole.inbox, FolderRole.sent):
                if role not in folders:
                    continue
                result.folders.append(
                    sync_folder(
                        session=session,
                        client=client,
                        mailbox=mailbox,
                        role=role,
                        name=folders[role],
                        own=own,
                        keep_lease=keep_lease,
                        limit=limit,
                    )
                )
        record_success(session=session, mailbox_id=mailbox_id)
    except LeaseLost:
        session.rollback()
        result.status = "busy"
        result.error = "another worker took it over"
    except MailboxUnavailable as err:
        session.rollback()
        result.status = "failed"
        result.error = str(err)
        record_failure(session=session, mailbox_id=mailbox_id, error=str(err))
    except Exception as err:  # noqa: BLE001  (one mailbox's trouble never stops the others)
        session.rollback()
        log.exception("mail sync of mailbox %s failed", mailbox_id)
        result.status = "failed"
        result.error = f"The sync stopped on an unexpected error ({type(err).__name__})."
        record_failure(session=session, mailbox_id=mailbox_id, error=result.error)
    finally:
        # Whatever was in hand and not committed is dropped, never committed with the
        # release (a worker stopped mid-message must leave no half of it behind).
        session.rollback()
        try:
            release_lease(session=session, mailbox_id=mailbox_id, worker=worker)
        except Exception:  # noqa: BLE001  (the lease runs out by itself)
            session.rollback()
            log.exception("could not release the lease of mailbox %s", mailbox_id)
    return result


def sync_all(
    *, session: Session, worker: str | None = None, limit: int | None = None
) -> list[MailboxResult]:
    """Sync every enabled mailbox this worker can lease, one after the other."""
    worker = worker or worker_name()
    ids = session.exec(
        select(Mailbox.id).where(col(Mailbox.enabled)).order_by(col(Mailbox.id))
    ).all()
    results = []
    for mailbox_id in ids:
        if mailbox_id is None:
            continue
        try:
            results.append(
                sync_mailbox(session=session, mailbox_id=mailbox_id, worker=worker, limit=limit)
            )
        except Exception as err:  # noqa: BLE001  (the database itself, say: try the next)
            session.rollback()
            log.exception("mail sync of mailbox %s failed", mailbox_id)
            results.append(
                MailboxResult(
                    mailbox_id, f"mailbox {mailbox_id}", "failed", str(type(err).__name__)
                )
            )
    return results


def sync_job(session: Session, now: datetime) -> str:
    """The worker's mail job: one pass over every connected mailbox (each under its lease)."""
    results = sync_all(session=session)
    if not results:
        return "no mailbox is connected and enabled"
    failed = [r.name for r in results if r.status == "failed"]
    fetched = sum(r.fetched for r in results)
    summary = f"{len(results)} mailbox(es), {fetched} message(s) read"
    return f"{summary}; failed: {', '.join(failed)}" if failed else summary
