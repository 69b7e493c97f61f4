""" "May I send purpose X on channel Y to this person now?", answered from the ledger.

The same derivation as the consent page and the marketing check: the latest event on the
channel or on `any` decides, grants lapse after the refresh period, and under purposes
that permit direct marketing an objection (under any of them) is absolute. A purpose
whose lawful basis is consent, or that permits marketing, needs a valid grant; one on
another basis (a contract, a legitimate interest...) may be used unless the person
withdrew or objected.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from db.auth.actor import Actor
from db.consent.marketing import marketing_state
from db.consent.records import contact_states
from db.consent.state import ConsentState
from db.core.errors import ValidationError
from db.core.types import utcnow
from db.models.consent import ConsentChannel, ConsentPurpose, LawfulBasis
from db.models.people import Channel
from db.people.contacts import get_contact

# The interaction channel whose marketing rule governs each consent channel.
_MARKETING_CHANNEL = {
    ConsentChannel.email: Channel.email,
    ConsentChannel.phone: Channel.phone,
    ConsentChannel.sms: Channel.sms,
    ConsentChannel.post: Channel.letter,
    ConsentChannel.any: Channel.web,
}


@dataclass(frozen=True)
class SendAnswer:
    """Whether a message may be sent, the state it rests on and why, in a sentence."""

    allowed: bool
    state: ConsentState
    reason: str


def may_send(
    *,
    session: Session,
    contact_id: int,
    purpose_code: str,
    channel: ConsentChannel,
    actor: Actor,
    at: datetime | None = None,
) -> SendAnswer:
    """Whether `purpose_code` may reach the contact on `channel` at `at` (default now)."""
    moment = at or utcnow()
    states = contact_states(session=session, contact_id=contact_id, actor=actor, at=moment)
    mine = next((s for s in states if s.purpose.code == purpose_code.strip().lower()), None)
    if mine is None:
        codes = ", ".join(s.purpose.code for s in states) or "none yet"
        raise ValidationError(
            f"Purpose: there is no purpose {purpose_code.strip()!r} (purposes: {codes}).",
            field="purpose",
        )
    purpose = mine.purpose
    state = mine.states[channel]
    if purpose.covers_marketing and state != ConsentState.objected:
        # An objection under another marketing purpose is absolute for this one too.
        contact = get_contact(session=session, contact_id=contact_id, actor=actor)
        if (
            marketing_state(
                session=session, contact=contact, channel=_MARKETING_CHANNEL[channel], at=moment
            )
            == ConsentState.objected
        ):
            state = ConsentState.objected
    needs_grant = purpose.lawful_basis == LawfulBasis.consent or purpose.covers_marketing
    if state == ConsentState.granted:
        return SendAnswer(True, state, f"They agreed to {purpose.name} on {channel.value}.")
    if state == ConsentState.objected:
        return SendAnswer(False, state, f"They objected to {purpose.name}; that is absolute.")
    if state == ConsentState.withdrawn:
        return SendAnswer(
            False, state, f"They withdrew their consent to {purpose.name} on {channel.value}."
        )
    if not needs_grant:
        basis = purpose.lawful_basis.value.replace("_", " ")
        return SendAnswer(
            True, state, f"{purpose.name} rests on {basis}, and they have not opted out."
        )
    if state == ConsentState.expired:
        return SendAnswer(
            False,
            state,
            f"Their consent to {purpose.name} on {channel.value} has expired "
            f"(it lasts {purpose.refresh_months} months); ask them again.",
        )
    return SendAnswer(False, state, f"They have never agreed to {purpose.name} on {channel.value}.")


def purpose_by_code(*, session: Session, code: str) -> ConsentPurpose | None:
    """The purpose with this code, if any."""
    return session.exec(
        select(ConsentPurpose).where(ConsentPurpose.code == code.strip().lower())
    ).first()
