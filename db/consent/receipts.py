"""Kantara Consent Receipt v1.1 documents, one per grant in the ledger."""

import uuid
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.consent.records import RECORDERS
from db.core.settings import get_settings
from db.models.auth import Role
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    LawfulBasis,
    Notice,
)
from db.models.people import Contact
from db.people.contacts import get_contact

RECEIPT_VERSION = "KI-CR-v1.1.0"
PII_BY_CHANNEL = {
    ConsentChannel.email: ["email address", "name"],
    ConsentChannel.phone: ["telephone number", "name"],
    ConsentChannel.sms: ["mobile number", "name"],
    ConsentChannel.post: ["postal address", "name"],
    ConsentChannel.any: ["name", "email address", "telephone number", "postal address"],
}


def controller() -> dict[str, Any]:
    """The data controller, from configuration (RAPPORT_CONTROLLER_* variables)."""
    settings = get_settings()
    return {
        "piiController": settings.controller_name or settings.organisation_name,
        "contact": settings.controller_contact,
        "address": {
            "streetAddress": settings.controller_address,
            "addressCountry": settings.jurisdiction,
        },
        "email": settings.controller_email,
        "phone": settings.controller_phone,
        "piiControllerUrl": settings.controller_url,
        "onBehalf": False,
    }


def build_receipt(
    event: ConsentEvent, purpose: ConsentPurpose, notice: Notice | None
) -> dict[str, Any]:
    """The receipt for one grant (pure)."""
    settings = get_settings()
    owner = controller()
    termination = (
        f"Valid until {event.expires_at:%Y-%m-%d} unless withdrawn earlier"
        if event.expires_at
        else "Until withdrawn"
    )
    wording = f"notice version {notice.version}" if notice else "no notice recorded"
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": settings.jurisdiction,
        "consentTimestamp": int(event.occurred_at.timestamp()),
        "collectionMethod": str(event.source),
        "consentReceiptID": str(uuid.UUID(hex=event.hash[:32])),
        "language": "en",
        "piiPrincipalId": f"rapport-contact-{event.contact_id}",
        "piiControllers": [owner],
        "policyUrl": settings.policy_url or f"{owner['piiControllerUrl']}/privacy",
        "services": [
            {
                "service": f"{owner['piiController']} communications",
                "purposes": [
                    {
                        "purpose": f"{purpose.name} ({wording})",
                        "consentType": "EXPLICIT"
                        if purpose.lawful_basis == LawfulBasis.consent
                        else "IMPLICIT",
                        "purposeCategory": [purpose.code],
                        "piiCategory": PII_BY_CHANNEL[ConsentChannel(event.channel)],
                        "primaryPurpose": True,
                        "termination": termination,
                        "thirdPartyDisclosure": False,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
    }


def receipts(
    *, session: Session, actor: Actor, contact_id: int | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(file name, receipt) for every grant of one contact, or of everyone (None)."""
    require_role(actor, *RECORDERS, doing="issue consent receipts")
    query = (
        select(ConsentEvent, ConsentPurpose, Notice)
        .join(ConsentPurpose, col(ConsentPurpose.id) == col(ConsentEvent.purpose_id))
        .outerjoin(Notice, col(Notice.id) == col(ConsentEvent.notice_id))
        .join(Contact, col(Contact.id) == col(ConsentEvent.contact_id))
        .where(ConsentEvent.action == ConsentAction.grant, col(Contact.erased_at).is_(None))
        .order_by(col(ConsentEvent.seq))
    )
    if contact_id is not None:
        contact = get_contact(session=session, contact_id=contact_id, actor=actor)
        query = query.where(ConsentEvent.contact_id == contact.id)
    else:
        require_role(actor, Role.privacy, doing="issue every consent receipt")
    for event, purpose, notice in session.exec(query.execution_options(yield_per=1000)):
        name = f"receipt-contact{event.contact_id}-event{event.seq}.json"
        yield name, build_receipt(event, purpose, notice)
