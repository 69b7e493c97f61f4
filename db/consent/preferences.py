"""The preference centre: a person's own link to see and change what they agreed to.

A link's token is a random nonce signed with the installation's key and a timestamp;
the database keeps only the SHA-256 of the token, beside the contact it names and its
expiry, so a copy of the database opens no one's preferences. The token itself says
nothing about the person. Visits are not recorded: what the person changes is written
to the consent ledger (source `self_service`, the notice version shown, the link as
evidence), and nothing else.

Marketing emails carry the link and an RFC 8058 one-click unsubscribe URL; a POST to
that URL withdraws at once, with no sign-in and no confirmation, and a repeated POST
changes nothing.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.ledger import append
from db.consent.receipts import build_receipt
from db.consent.records import RECORDERS, latest_notice, list_purposes, validated_event
from db.consent.state import ConsentState, LedgerEntry, state_grid
from db.core.errors import NotFound, ValidationError
from db.core.mail import new_message, send_message
from db.core.settings import get_settings
from db.core.signing import sign, unsign
from db.core.types import utcnow
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentSource,
    Notice,
)
from db.models.people import Channel, Contact
from db.models.self_service import PreferenceLink
from db.people.contacts import get_contact

LINK_SALT = "rapport.preference-link"
TOKEN_MAX = 200
SELF_SERVICE_NAME = "self-service"
# The channels a person chooses per purpose (`any` is "stop everything").
CHOICE_CHANNELS = (
    ConsentChannel.email,
    ConsentChannel.phone,
    ConsentChannel.sms,
    ConsentChannel.post,
)
CHANNEL_WORDS = {
    ConsentChannel.email: "Email",
    ConsentChannel.phone: "Phone calls",
    ConsentChannel.sms: "Text messages",
    ConsentChannel.post: "Post",
}
# How a person may prefer to be reached, as the interaction channels count it.
PREFERRED_CHANNELS: dict[str, Channel] = {
    "Email": Channel.email,
    "Phone": Channel.phone,
    "Text message": Channel.sms,
    "Post": Channel.letter,
}


def token_digest(token: str) -> str:
    """The stored form of a preference-link token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def public_url() -> str:
    """Where people reach Rapport (RAPPORT_PUBLIC_URL), for links in emails."""
    return get_settings().public_url.rstrip("/") or "http://localhost:8501"


def preferences_url(token: str) -> str:
    """The personal link to the preference centre."""
    return f"{public_url()}/preferences?token={quote(token)}"


def unsubscribe_url(token: str, purpose_code: str) -> str:
    """The one-click unsubscribe URL (RFC 8058) for one purpose, served by api/unsubscribe.py."""
    return f"{public_url()}/unsubscribe/{quote(token)}?purpose={quote(purpose_code)}"


@dataclass(frozen=True)
class IssuedLink:
    """A new personal link: the token is shown once (in the email) and never stored."""

    link_id: int
    token: str
    url: str


def issue_link(*, session: Session, contact_id: int, actor: Actor) -> IssuedLink:
    """Make a personal preference link for a contact (staff who keep consent)."""
    require_role(actor, *RECORDERS, doing="send preference links")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    link = new_link(session=session, contact=contact)
    record(session, actor, "preference_link.issue", "contact", entity_id=contact.id)
    session.commit()
    return link


def new_link(*, session: Session, contact: Contact) -> IssuedLink:
    """Add a link for `contact` in the caller's transaction (the caller commits)."""
    if contact.erased_at is not None:
        raise NotFound("There is no such person.")
    token = sign(secrets.token_urlsafe(18), salt=LINK_SALT)
    days = get_settings().preference_link_days
    link = PreferenceLink(
        contact_id=contact.id or 0,
        token_hash=token_digest(token),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    return IssuedLink(link.id or 0, token, preferences_url(token))


INVALID_LINK = (
    "This link does not work: it may have expired or been mistyped. Ask us for a new one, "
    "or use the unsubscribe link in our latest email."
)


def _resolve(session: Session, token: str) -> tuple[PreferenceLink, Contact]:
    """The link and the live contact a token names, or NotFound (the same for every cause)."""
    token = (token or "").strip()
    if not token or len(token) > TOKEN_MAX:
        raise NotFound(INVALID_LINK)
    days = get_settings().preference_link_days
    if unsign(token, salt=LINK_SALT, max_age_seconds=days * 86400) is None:
        raise NotFound(INVALID_LINK)
    link = session.exec(
        select(PreferenceLink).where(col(PreferenceLink.token_hash) == token_digest(token))
    ).first()
    if link is None or link.expires_at <= utcnow():
        raise NotFound(INVALID_LINK)
    contact = session.get(Contact, link.contact_id)
    seen: set[int | None] = set()
    while contact is not None and contact.merged_into_id is not None and contact.id not in seen:
        seen.add(contact.id)
        contact = session.get(Contact, contact.merged_into_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound(INVALID_LINK)
    return link, contact


@dataclass(frozen=True)
class Choice:
    """One purpose as the person sees it: the current wording and their state per channel."""

    purpose_id: int
    code: str
    name: str
    description: str
    wording: str
    notice_id: int | None
    notice_version: int | None
    marketing: bool
    states: dict[ConsentChannel, ConsentState]
    # The grant in force per channel, for its receipt.
    grants: dict[ConsentChannel, int]

    def agreed(self, channel: ConsentChannel) -> bool:
        """True while the person's consent on `channel` is in force."""
        return self.states.get(channel) == ConsentState.granted


@dataclass(frozen=True)
class Preferences:
    """What the preference centre shows: no name, no address, only the choices."""

    choices: list[Choice]
    preferred: str | None


def _history(session: Session, contact_id: int) -> list[ConsentEvent]:
    return list(
        session.exec(
            select(ConsentEvent)
            .where(col(ConsentEvent.contact_id) == contact_id)
            .order_by(col(ConsentEvent.occurred_at), col(ConsentEvent.seq))
        ).all()
    )


def _choices(session: Session, contact: Contact) -> list[Choice]:
    history = _history(session, contact.id or 0)
    now = utcnow()
    result = []
    for purpose in list_purposes(session=session):
        mine = [e for e in history if e.purpose_id == purpose.id]
        entries = [
            LedgerEntry(e.seq, e.channel, e.action, e.occurred_at, e.expires_at) for e in mine
        ]
        grid = state_grid(entries, now, marketing=purpose.covers_marketing)
        grants: dict[ConsentChannel, int] = {}
        for event in mine:
            if event.action == ConsentAction.grant:
                for channel in CHOICE_CHANNELS:
                    if event.channel in (channel, ConsentChannel.any):
                        grants[channel] = event.id or 0
        notice = latest_notice(session=session, purpose_id=purpose.id or 0)
        result.append(
            Choice(
                purpose_id=purpose.id or 0,
                code=purpose.code,
                name=purpose.name,
                description=purpose.description,
                wording=notice.wording if notice else purpose.description,
                notice_id=notice.id if notice else None,
                notice_version=notice.version if notice else None,
                marketing=purpose.covers_marketing,
                states={c: grid[c] for c in CHOICE_CHANNELS},
                grants={c: g for c, g in grants.items() if grid[c] == ConsentState.granted},
            )
        )
    return result


def _preferred_word(contact: Contact) -> str | None:
    for word, channel in PREFERRED_CHANNELS.items():
        if contact.preferred_channel == channel:
            return word
    return None


def open_preferences(*, session: Session, token: str) -> Preferences:
    """The person's choices, for the preference centre."""
    _link, contact = _resolve(session, token)
    return Preferences(_choices(session, contact), _preferred_word(contact))


def _evidence(link: PreferenceLink, how: str) -> str:
    return f"{how} through personal preference link #{link.id} ({link.token_hash[:12]})"


def _append(
    session: Session,
    link: PreferenceLink,
    contact: Contact,
    purpose_id: int,
    channel: ConsentChannel,
    action: ConsentAction,
    notice_id: int | None,
    how: str,
) -> ConsentEvent:
    _purpose, event = validated_event(
        session=session,
        event_in=ConsentEventCreate(
            contact_id=contact.id or 0,
            purpose_id=purpose_id,
            channel=channel,
            action=action,
            notice_id=notice_id,
            source=ConsentSource.self_service,
            evidence=_evidence(link, how),
            occurred_at=utcnow(),
        ),
    )
    event.recorded_by_id = None
    event.recorded_by_name = SELF_SERVICE_NAME
    append(session=session, event=event)
    session.flush()
    return event


def _choice(choices: list[Choice], purpose_id: int) -> Choice:
    for choice in choices:
        if choice.purpose_id == purpose_id:
            return choice
    raise NotFound("That choice is no longer offered; reload the page.")


def set_choice(
    *,
    session: Session,
    token: str,
    purpose_id: int,
    channel: ConsentChannel,
    agree: bool,
    notice_id: int | None,
) -> bool:
    """Agree to or withdraw from one purpose on one channel, as the person chose.

    `notice_id` is the wording the page showed: a grant against an older one is refused
    (the wording changed since the page was drawn). Returns False when nothing changed."""
    link, contact = _resolve(session, token)
    if channel not in CHOICE_CHANNELS:
        raise ValidationError("Channel: choose email, phone, text or post.", field="channel")
    choice = _choice(_choices(session, contact), purpose_id)
    if choice.notice_id != notice_id:
        raise ValidationError(
            f"The wording of “{choice.name}” changed since this page was shown; "
            "read it again and choose.",
            field="notice_id",
        )
    if agree and choice.states[channel] == ConsentState.objected:
        raise ValidationError(
            f"You objected to “{choice.name}”, so we no longer use your data for it; "
            "ask us if you want to lift the objection.",
            field="agree",
        )
    if choice.agreed(channel) == agree:
        return False
    if agree and notice_id is None:
        raise ValidationError(
            f"“{choice.name}” has no published wording yet, so it cannot be agreed to.",
            field="notice_id",
        )
    _append(
        session,
        link,
        contact,
        purpose_id,
        channel,
        ConsentAction.grant if agree else ConsentAction.withdraw,
        notice_id,
        "Chosen on the preference centre",
    )
    session.commit()
    return True


def stop_everything(*, session: Session, token: str) -> int:
    """Withdraw every agreement on every channel; returns how many purposes it stopped."""
    link, contact = _resolve(session, token)
    stopped = 0
    for choice in _choices(session, contact):
        if any(choice.agreed(c) for c in CHOICE_CHANNELS):
            _append(
                session,
                link,
                contact,
                choice.purpose_id,
                ConsentChannel.any,
                ConsentAction.withdraw,
                choice.notice_id,
                "Stopped everything on the preference centre",
            )
            stopped += 1
    session.commit()
    return stopped


def set_preferred_channel(*, session: Session, token: str, preferred: str | None) -> None:
    """Record how the person prefers to be reached (Customer experience counts it)."""
    _link, contact = _resolve(session, token)
    if preferred is not None and preferred not in PREFERRED_CHANNELS:
        raise ValidationError(
            "Preferred channel: choose " + ", ".join(PREFERRED_CHANNELS) + ".", field="preferred"
        )
    channel = PREFERRED_CHANNELS[preferred] if preferred else None
    if contact.preferred_channel == channel:
        return
    contact.preferred_channel = channel
    contact.version += 1
    contact.updated_at = utcnow()
    session.add(contact)
    record(
        session,
        None,
        "contact.preferred_channel",
        "contact",
        entity_id=contact.id,
        details={"channel": channel.value if channel else None, "by": SELF_SERVICE_NAME},
    )
    session.commit()


def my_receipt(*, session: Session, token: str, event_id: int) -> dict[str, Any]:
    """The Kantara consent receipt of one of the person's grants."""
    _link, contact = _resolve(session, token)
    event = session.get(ConsentEvent, event_id)
    if event is None or event.contact_id != contact.id or event.action != ConsentAction.grant:
        raise NotFound("There is no such agreement.")
    purpose = session.get(ConsentPurpose, event.purpose_id)
    assert purpose is not None
    notice = session.get(Notice, event.notice_id) if event.notice_id else None
    return build_receipt(event, purpose, notice)


def one_click_unsubscribe(*, session: Session, token: str, purpose_code: str | None) -> bool:
    """RFC 8058: withdraw email for the purpose the message was sent for (every
    marketing purpose when none is named). Returns False when nothing was in force."""
    link, contact = _resolve(session, token)
    code = (purpose_code or "").strip().lower()[:40]
    changed = False
    for choice in _choices(session, contact):
        wanted = choice.code == code if code else choice.marketing
        if wanted and choice.agreed(ConsentChannel.email):
            _append(
                session,
                link,
                contact,
                choice.purpose_id,
                ConsentChannel.email,
                ConsentAction.withdraw,
                choice.notice_id,
                "One-click unsubscribe (RFC 8058)",
            )
            changed = True
    session.commit()
    return changed


def unsubscribe_headers(token: str, purpose_code: str) -> dict[str, str]:
    """The RFC 2369 / RFC 8058 headers of a marketing email."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(token, purpose_code)}>, <{preferences_url(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def marketing_email(
    *, session: Session, contact_id: int, purpose_code: str, subject: str, body: str, actor: Actor
) -> EmailMessage:
    """Build a marketing email to a contact for a purpose: it carries the personal
    preference link and the one-click unsubscribe headers (the caller commits the link)."""
    require_role(actor, *RECORDERS, doing="send marketing email")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    if not contact.email:
        raise ValidationError("This person has no email address.", field="email")
    purpose = session.exec(
        select(ConsentPurpose).where(col(ConsentPurpose.code) == purpose_code)
    ).first()
    if purpose is None or not purpose.covers_marketing:
        raise ValidationError("Purpose: choose one that permits marketing.", field="purpose")
    link = new_link(session=session, contact=contact)
    message = new_message(
        to=contact.email,
        subject=subject,
        body=(
            f"{body}\n\n--\nYou receive this because you agreed to “{purpose.name}”.\n"
            f"Change what you hear from us, or stop it: {link.url}\n"
        ),
    )
    for name, value in unsubscribe_headers(link.token, purpose.code).items():
        message[name] = value
    return message


def send_preference_link(*, session: Session, contact_id: int, actor: Actor) -> None:
    """Email a contact their personal preference link (staff who keep consent)."""
    require_role(actor, *RECORDERS, doing="send preference links")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    if not contact.email:
        raise ValidationError("This person has no email address to send a link to.", field="email")
    link = new_link(session=session, contact=contact)
    organisation = get_settings().organisation_name
    send_message(
        new_message(
            to=contact.email,
            subject=f"Your preferences with {organisation}",
            body=(
                f"Hello,\n\nHere is your personal link to choose what you hear from "
                f"{organisation}, and how:\n{link.url}\n\nIt works for "
                f"{get_settings().preference_link_days} days. Do not forward it: anyone "
                "with it can change your choices.\n"
            ),
        )
    )
    record(session, actor, "preference_link.send", "contact", entity_id=contact.id)
    session.commit()
