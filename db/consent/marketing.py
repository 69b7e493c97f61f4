"""The marketing-consent check run when an interaction is logged."""

from datetime import datetime

from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.consent.records import marketing_events
from db.consent.state import ConsentState, LedgerEntry, derive_state
from db.core.errors import DomainError
from db.models.consent import ConsentChannel, ConsentPurpose
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose

# Interaction channels that have a consent channel of their own; the rest (meetings,
# chat, social, web) are covered only by consent given for `any` channel.
CHANNEL_MAP: dict[Channel, ConsentChannel] = {
    Channel.email: ConsentChannel.email,
    Channel.phone: ConsentChannel.phone,
    Channel.sms: ConsentChannel.sms,
    Channel.letter: ConsentChannel.post,
}


class ConsentRefused(DomainError):
    """A marketing message the person has not agreed to (or has objected to)."""


def consent_channel(channel: Channel) -> ConsentChannel:
    """The consent channel that governs an interaction channel."""
    return CHANNEL_MAP.get(channel, ConsentChannel.any)


def marketing_state(
    *, session: Session, contact: Contact, channel: Channel, at: datetime
) -> ConsentState:
    """Whether marketing to `contact` on `channel` at `at` is permitted, and why not."""
    target = consent_channel(channel)
    by_purpose: dict[int, list[LedgerEntry]] = {}
    for purpose, event in marketing_events(session=session, contact=contact):
        by_purpose.setdefault(purpose.id or 0, []).append(
            LedgerEntry(event.seq, event.channel, event.action, event.occurred_at, event.expires_at)
        )
    states = [derive_state(entries, target, at, marketing=True) for entries in by_purpose.values()]
    # An objection under any marketing purpose is absolute; otherwise one valid grant suffices.
    for wanted in (
        ConsentState.objected,
        ConsentState.granted,
        ConsentState.withdrawn,
        ConsentState.expired,
    ):
        if wanted in states:
            return wanted
    return ConsentState.none


REASONS = {
    ConsentState.none: "has never agreed to marketing",
    ConsentState.withdrawn: "has withdrawn their consent to marketing",
    ConsentState.expired: "gave consent to marketing that has expired (past its refresh period)",
}


def check_marketing_consent(
    session: Session, contact: Contact, item: InteractionCreate, actor: Actor
) -> None:
    """Refuse an outbound marketing message without valid consent, unless overridden."""
    if item.purpose != Purpose.marketing or item.direction != Direction.outbound:
        return
    governed = session.exec(
        select(ConsentPurpose.id).where(col(ConsentPurpose.covers_marketing)).limit(1)
    ).first()
    if governed is None:
        # No purpose permits marketing yet, so there is nothing to check against;
        # the consent audit reports such messages under coverage.
        return
    state = marketing_state(
        session=session, contact=contact, channel=item.channel, at=item.occurred_at
    )
    if state == ConsentState.granted:
        return
    name = contact.full_name or f"Contact {contact.id}"
    if state == ConsentState.objected and not (
        item.override_reason and getattr(actor, "records_what_was_sent", False)
    ):
        # An objection is absolute for what is about to be sent; only an actor that
        # records what was already sent (the mailbox sync reading Sent) logs it, so the
        # consent audit reports it as a violation.
        raise ConsentRefused(
            f"{name} has objected to direct marketing. An objection is absolute, so this "
            "message cannot be logged, even with an override."
        )
    if item.override_reason:
        return
    raise ConsentRefused(
        f"{name} {REASONS[state]} on {consent_channel(item.channel).value}. The message was "
        "not logged. If you must send it, fill in the form's override reason and log it "
        "again; the consent audit will report it."
    )
