"""Unknown senders: people who wrote to a connected mailbox and are not contacts.

They are listed for a person to decide: create a contact from one (through the people
area's `create_contact`, so an erased person's address is refused like anywhere else)
or ignore them. Nobody is ever made a contact by the sync itself. Senders of a shared
mailbox are listed for everyone who may add contacts; those of a person's own mailbox
only for that person and administrators.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator
from db.auth.audit import record
from db.auth.visibility import require_writer
from db.core.errors import Conflict, NotFound
from db.core.types import utcnow
from db.models.auth import Role
from db.models.integrations_mail import Mailbox, MailUnknownSender, SenderStatus
from db.models.people import Contact, ContactCreate
from db.people.contacts import create_contact

PAGE_MAX = 200


@dataclass(frozen=True)
class UnknownSender:
    """One row of the unknown senders' list."""

    id: int
    mailbox: str
    email: str
    display_name: str
    messages: int
    last_subject: str
    last_seen_at: datetime


def _visible(actor: Actor) -> Any | None:
    """SQL: the mailboxes whose senders the actor may see (None: all)."""
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return None
    return or_(col(Mailbox.owner_id).is_(None), col(Mailbox.owner_id) == actor.id)


def list_unknown_senders(
    *, session: Session, actor: Actor, offset: int = 0, limit: int = 50
) -> tuple[list[UnknownSender], int]:
    """A page of the open unknown senders the actor may see, latest first, and the total."""
    require_writer(actor, what="contacts")
    conditions: list[Any] = [col(MailUnknownSender.status) == SenderStatus.open]
    scope = _visible(actor)
    if scope is not None:
        conditions.append(scope)
    base = select(MailUnknownSender, Mailbox.name).join(
        Mailbox, col(Mailbox.id) == col(MailUnknownSender.mailbox_id)
    )
    total = session.exec(
        select(func.count())
        .select_from(MailUnknownSender)
        .join(Mailbox, col(Mailbox.id) == col(MailUnknownSender.mailbox_id))
        .where(*conditions)
    ).one()
    rows = session.exec(
        base.where(*conditions)
        .order_by(col(MailUnknownSender.last_seen_at).desc(), col(MailUnknownSender.id))
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), PAGE_MAX))
    ).all()
    return [
        UnknownSender(
            id=s.id or 0,
            mailbox=name,
            email=s.email,
            display_name=s.display_name,
            messages=s.messages,
            last_subject=s.last_subject,
            last_seen_at=s.last_seen_at,
        )
        for s, name in rows
    ], int(total)


def _open_sender(session: Session, sender_id: int, actor: Actor) -> MailUnknownSender:
    require_writer(actor, what="contacts")
    query = (
        select(MailUnknownSender)
        .join(Mailbox, col(Mailbox.id) == col(MailUnknownSender.mailbox_id))
        .where(col(MailUnknownSender.id) == sender_id)
    )
    scope = _visible(actor)
    if scope is not None:
        query = query.where(scope)
    sender = session.exec(query).first()
    if sender is None:
        raise NotFound(f"There is no unknown sender {sender_id} that you can see.")
    if sender.status != SenderStatus.open:
        raise Conflict("Someone has already decided about this sender; reload the list.")
    return sender


def ignore_sender(*, session: Session, sender_id: int, actor: Actor) -> None:
    """Leave an unknown sender out of the list (they are not made a contact)."""
    sender = _open_sender(session, sender_id, actor)
    sender.status = SenderStatus.ignored
    sender.decided_by_id = actor.id
    sender.decided_at = utcnow()
    session.add(sender)
    record(session, actor, "mail.sender_ignore", "mail_unknown_sender", entity_id=sender.id)
    session.commit()


def create_contact_from_sender(
    *, session: Session, sender_id: int, contact_in: ContactCreate, actor: Actor
) -> Contact:
    """Make an unknown sender a contact, with their address as the email; the contact
    checks (erased people stay erased) apply as to any new contact."""
    sender = _open_sender(session, sender_id, actor)
    sender_email = sender.email
    contact_in = contact_in.model_copy(update={"email": sender_email})
    sender.status = SenderStatus.created
    sender.decided_by_id = actor.id
    sender.decided_at = utcnow()
    session.add(sender)
    try:
        # Commits the decision with the contact, or neither.
        contact = create_contact(session=session, contact_in=contact_in, actor=actor)
    except Exception:
        session.rollback()
        raise
    # The same person may have written to other mailboxes: they are decided too.
    others = session.exec(
        select(MailUnknownSender).where(
            col(MailUnknownSender.email) == sender_email,
            col(MailUnknownSender.status) == SenderStatus.open,
        )
    ).all()
    for row in [sender, *others]:
        row.status = SenderStatus.created
        row.contact_id = contact.id
        row.decided_by_id = actor.id
        row.decided_at = row.decided_at or utcnow()
        session.add(row)
    session.commit()
    return contact
