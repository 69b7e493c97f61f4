"""Demo consent: purposes, notice versions, a ledger with grants, withdrawals,
objections and expiries, a few overridden messages and data-subject requests."""

import random
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.consent.records import create_purpose, publish_notice, record_consent
from db.consent.requests import (
    complete_access,
    complete_erasure,
    extend_request,
    register_request,
    verify_identity,
)
from db.core.errors import DomainError
from db.core.types import utcnow
from db.models.auth import User
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEventCreate,
    ConsentPurposeCreate,
    ConsentSource,
    LawfulBasis,
    Notice,
    PrivacyRequestCreate,
    RequestKind,
)
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose
from db.people.interactions import log_interaction

EVIDENCE = {
    ConsentSource.web_form: "Ticked the box on the sign-up form",
    ConsentSource.paper: "Signed paper form, scanned to the shared drive",
    ConsentSource.phone: "Said yes on a recorded call",
    ConsentSource.self_service: "Changed preferences in the customer portal",
    ConsentSource.import_: "Imported from the previous CRM",
}


def _notice_at(notices: list[Notice], when: datetime) -> Notice:
    shown = [n for n in notices if n.published_at <= when]
    return max(shown, key=lambda n: n.version) if shown else notices[0]


def seed_consent(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Purposes and notices, then a consent history for most demo contacts."""
    officer = get_user_by_username(session=session, username="privacy")
    if officer is None:
        return {}
    now = utcnow()
    marketing = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(
            code="marketing",
            name="Marketing news and offers",
            description="News, events and offers by email, phone, text or post.",
            lawful_basis=LawfulBasis.consent,
            refresh_months=24,
            covers_marketing=True,
        ),
        actor=officer,
    )
    soft = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(
            code="customer-offers",
            name="Offers like what you bought",
            description="Similar products for existing customers (PECR soft opt-in).",
            lawful_basis=LawfulBasis.soft_opt_in,
            refresh_months=24,
            covers_marketing=True,
        ),
        actor=officer,
    )
    research = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(
            code="research",
            name="Service research",
            description="Invitations to surveys about our services.",
            lawful_basis=LawfulBasis.consent,
            refresh_months=12,
        ),
        actor=officer,
    )
    feedback = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(
            code="feedback",
            name="Feedback and consultations",
            description="Satisfaction and NPS surveys, and consultations on proposed plans.",
            lawful_basis=LawfulBasis.consent,
            refresh_months=24,
        ),
        actor=officer,
    )
    wording = {
        marketing.id: [
            (now - timedelta(days=1200), "We'd like to send you news and offers. Tick to agree."),
            (
                now - timedelta(days=240),
                "We'd like to send you news, events and offers by the channels you choose. "
                "You can stop at any time from any message or by calling us.",
            ),
        ],
        soft.id: [(now - timedelta(days=1200), "As a customer you'll hear about similar offers.")],
        research.id: [(now - timedelta(days=900), "May we invite you to short surveys?")],
        feedback.id: [
            (now - timedelta(days=800), "May we ask what you think of our service and plans?")
        ],
    }
    notices: dict[int, list[Notice]] = {}
    for purpose_id, versions in wording.items():
        notices[purpose_id or 0] = [
            publish_notice(
                session=session,
                purpose_id=purpose_id or 0,
                wording=text,
                actor=officer,
                published_at=when,
            )
            for when, text in versions
        ]
    contacts = list(
        session.exec(
            select(Contact).where(col(Contact.erased_at).is_(None)).order_by(col(Contact.id))
        ).all()
    )
    events = 0

    def add(
        contact: Contact,
        purpose_id: int,
        channel: ConsentChannel,
        action: ConsentAction,
        when: datetime,
        source_rng: random.Random = rng,
    ) -> None:
        nonlocal events
        source = source_rng.choice(list(ConsentSource))
        notice = _notice_at(notices[purpose_id], when) if action == ConsentAction.grant else None
        record_consent(
            session=session,
            event_in=ConsentEventCreate(
                contact_id=contact.id or 0,
                purpose_id=purpose_id,
                channel=channel,
                action=action,
                notice_id=notice.id if notice else None,
                source=source,
                evidence=EVIDENCE[source],
                occurred_at=when,
            ),
            actor=officer,
        )
        events += 1

    # Its own generator, so adding feedback consent leaves the rest of the demo unchanged.
    feedback_rng = random.Random(61)
    withdrawn: list[Contact] = []
    for contact in contacts:
        if feedback_rng.random() < 0.6:
            asked = now - timedelta(days=feedback_rng.uniform(20, 600))
            add(
                contact,
                feedback.id or 0,
                ConsentChannel.email,
                ConsentAction.grant,
                asked,
                feedback_rng,
            )
            if feedback_rng.random() < 0.1:
                when = asked + (now - asked) * feedback_rng.uniform(0.2, 0.9)
                add(
                    contact,
                    feedback.id or 0,
                    ConsentChannel.email,
                    ConsentAction.withdraw,
                    when,
                    feedback_rng,
                )
        roll = rng.random()
        if roll < 0.2:
            continue  # never asked: marketing to them shows up under coverage
        channel = rng.choices(
            [ConsentChannel.email, ConsentChannel.any, ConsentChannel.sms, ConsentChannel.post],
            weights=[6, 3, 1, 1],
        )[0]
        granted = now - timedelta(days=rng.uniform(60, 1000), minutes=rng.randint(0, 600))
        add(contact, marketing.id or 0, channel, ConsentAction.grant, granted)
        later = rng.random()
        if later < 0.25:
            when = granted + (now - granted) * rng.uniform(0.2, 0.9)
            add(contact, marketing.id or 0, channel, ConsentAction.withdraw, when)
            withdrawn.append(contact)
            if rng.random() < 0.3:
                regrant = when + (now - when) * rng.uniform(0.3, 0.9)
                add(contact, marketing.id or 0, channel, ConsentAction.grant, regrant)
        elif later < 0.32:
            when = granted + (now - granted) * rng.uniform(0.2, 0.9)
            add(contact, marketing.id or 0, ConsentChannel.any, ConsentAction.object, when)
        if rng.random() < 0.25:
            offered = now - timedelta(days=rng.uniform(30, 500))
            add(contact, soft.id or 0, ConsentChannel.email, ConsentAction.grant, offered)
        if rng.random() < 0.3:
            asked = now - timedelta(days=rng.uniform(10, 700))
            add(contact, research.id or 0, ConsentChannel.email, ConsentAction.grant, asked)
    overrides = _overridden_messages(session, rng, withdrawn)
    requests = _requests(session, rng, officer, contacts)
    return {
        "consent events": events,
        "overridden messages": overrides,
        "privacy requests": requests,
    }


def _overridden_messages(session: Session, rng: random.Random, withdrawn: list[Contact]) -> int:
    count = 0
    for contact in rng.sample(withdrawn, k=min(3, len(withdrawn))):
        owner = session.get(User, contact.owner_id) if contact.owner_id else None
        if owner is None:
            continue
        try:
            log_interaction(
                session=session,
                interaction_in=InteractionCreate(
                    contact_id=contact.id or 0,
                    channel=Channel.email,
                    direction=Direction.outbound,
                    purpose=Purpose.marketing,
                    subject="Event invitation",
                    body="Invitation to the spring open day.",
                    occurred_at=utcnow() - timedelta(days=rng.uniform(1, 20)),
                    override_reason="Asked at the stand to be invited to this one event.",
                ),
                actor=owner,
            )
            count += 1
        except DomainError:
            session.rollback()  # re-granted or objected meanwhile: nothing to override
    return count


def _requests(session: Session, rng: random.Random, officer: User, contacts: list[Contact]) -> int:
    today = utcnow().date()
    picks = rng.sample(contacts, k=min(5, len(contacts)))
    plan = [
        (RequestKind.access, 12, "complete"),
        (RequestKind.erasure, 20, "complete"),
        (RequestKind.objection, 45, None),
        (RequestKind.rectification, 25, "extend"),
        (RequestKind.access, 3, None),
    ]
    made = 0
    for contact, (kind, days_ago, step) in zip(picks, plan, strict=False):
        request = register_request(
            session=session,
            request_in=PrivacyRequestCreate(
                kind=kind,
                contact_id=contact.id or 0,
                received_on=today - timedelta(days=days_ago),
                notes="Received by email to the privacy inbox.",
            ),
            actor=officer,
        )
        made += 1
        if step is None:
            continue
        request = verify_identity(
            session=session,
            request_id=request.id or 0,
            method="Reply from the email address on file",
            note="The person replied from the address we hold for them.",
            version=request.version,
            actor=officer,
        )
        if step == "extend":
            extend_request(
                session=session,
                request_id=request.id or 0,
                reason="Records are spread over three archived systems.",
                notified_on=today - timedelta(days=days_ago - 5),
                version=request.version,
                actor=officer,
            )
        elif kind == RequestKind.access:
            complete_access(
                session=session, request_id=request.id or 0, version=request.version, actor=officer
            )
        else:
            complete_erasure(
                session=session, request_id=request.id or 0, version=request.version, actor=officer
            )
    return made
