"""Demo data for customer experience: answered and unanswered contacts, unhappy moments,
named service concerns, a third sales team and quarterly targets.

Teams answer at different speeds (North quickly, East slowly), so the reports and the
people-and-outcomes view have something to show; every row goes through `db/` commands.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from db.auth.accounts import create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.common import ensure_categories
from db.cases.intake import submit_concern
from db.core.types import utcnow
from db.demo.cases import SEED_RECEIPT_LOG2N
from db.experience.moments import SERVICE_CATEGORY
from db.experience.responsiveness import INBOUND_CHANNELS
from db.models.auth import Role, User, UserCreate
from db.models.cases import Case, ConcernCreate
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    ContactKind,
    Direction,
    InteractionCreate,
    Purpose,
    Sentiment,
)
from db.models.pipeline import DealCreate, LostReason, Pipeline
from db.people.contacts import create_contact
from db.people.interactions import log_interaction
from db.pipeline.commands import create_deal, lose_deal, win_deal
from db.pipeline.targets import quarter_of, set_target

EAST_USER = "sales3"
# Hours until an answer (mean of an exponential) and the chance of no answer, per team.
REPLY_STYLE: dict[str, tuple[float, float]] = {
    "North": (6.0, 0.08),
    "South": (30.0, 0.18),
    "East": (70.0, 0.3),
}
NEGATIVE_CHANCE: dict[str, float] = {"North": 0.06, "South": 0.12, "East": 0.2}
INBOUND_SUBJECTS = ("Called about an invoice", "Asked for a call back", "Delivery question")
EAST_NAMES = (
    ("Ezra", "Whitfield"),
    ("Lucia", "Moreno"),
    ("Kwame", "Asante"),
    ("Freya", "Lund"),
    ("Iqbal", "Rahman"),
    ("Nina", "Petrova"),
)


def _east_user(session: Session) -> User:
    found = get_user_by_username(session=session, username=EAST_USER)
    if found is not None:
        return found
    return create_user(
        session=session,
        user_in=UserCreate(
            username=EAST_USER,
            display_name="Eli East",
            email=f"{EAST_USER}@example.org",
            team="East",
            password="rapport-demo-2026",
            roles=[Role.sales],
        ),
        actor=OPERATOR,
    )


def _log(
    session: Session,
    owner: User,
    contact: Contact,
    *,
    channel: Channel,
    direction: Direction,
    at: datetime,
    subject: str,
    sentiment: Sentiment = Sentiment.neutral,
) -> None:
    log_interaction(
        session=session,
        interaction_in=InteractionCreate(
            contact_id=contact.id or 0,
            channel=channel,
            direction=direction,
            purpose=Purpose.service,
            subject=subject,
            body="Demo exchange.",
            occurred_at=at,
            sentiment=sentiment,
        ),
        actor=owner,
    )


def _exchanges(
    session: Session, rng: random.Random, owner: User, contacts: list[Contact], now: datetime
) -> tuple[int, int]:
    """Inbound contacts over the last ten months, answered (or not) in the team's style."""
    mean_hours, no_reply = REPLY_STYLE.get(owner.team or "", (24.0, 0.15))
    negative = NEGATIVE_CHANCE.get(owner.team or "", 0.1)
    inbound = answered = 0
    for contact in contacts:
        for _ in range(rng.randint(1, 3)):
            at = now - timedelta(days=rng.uniform(8, 300), minutes=rng.randint(0, 600))
            channel = rng.choice(INBOUND_CHANNELS)
            mood = Sentiment.negative if rng.random() < negative else Sentiment.neutral
            _log(
                session,
                owner,
                contact,
                channel=channel,
                direction=Direction.inbound,
                at=at,
                subject=rng.choice(INBOUND_SUBJECTS),
                sentiment=mood,
            )
            inbound += 1
            if rng.random() < no_reply:
                continue
            reply_at = at + timedelta(hours=rng.expovariate(1 / mean_hours) + 0.2)
            if reply_at >= now:
                continue
            # Often answered on the channel they used, now and then on another one.
            reply_channel = channel if rng.random() < 0.7 else rng.choice(INBOUND_CHANNELS)
            _log(
                session,
                owner,
                contact,
                channel=reply_channel,
                direction=Direction.outbound,
                at=reply_at,
                subject="Reply",
            )
            answered += 1
    return inbound, answered


def _waiting_and_flagged(
    session: Session, rng: random.Random, owner: User, contacts: list[Contact], now: datetime
) -> None:
    """A few calls not yet returned and a few people with two bad experiences lately."""
    for contact in contacts[:3]:
        _log(
            session,
            owner,
            contact,
            channel=Channel.phone,
            direction=Direction.inbound,
            at=now - timedelta(days=rng.uniform(0.2, 4)),
            subject="Please call me back",
        )
    for contact in contacts[3:5]:
        for days in (rng.uniform(20, 60), rng.uniform(1, 15)):
            _log(
                session,
                owner,
                contact,
                channel=rng.choice(INBOUND_CHANNELS),
                direction=Direction.inbound,
                at=now - timedelta(days=days),
                subject="Complaint about the service",
                sentiment=Sentiment.negative,
            )


def _east_contacts(session: Session, rng: random.Random, owner: User, n: int) -> list[Contact]:
    contacts = []
    for i in range(n):
        given, family = EAST_NAMES[i % len(EAST_NAMES)]
        contacts.append(
            create_contact(
                session=session,
                contact_in=ContactCreate(
                    kind=ContactKind.customer,
                    given_name=given,
                    family_name=family,
                    email=f"{given}.{family}.east{i}@example.org".lower(),
                    preferred_channel=rng.choice([Channel.email, Channel.phone, Channel.sms]),
                    owner_id=owner.id,
                ),
                actor=owner,
            )
        )
    return contacts


def _east_deals(
    session: Session, rng: random.Random, owner: User, contacts: list[Contact], now: datetime
) -> int:
    pipeline = session.exec(select(Pipeline).where(Pipeline.name == "New business")).first()
    if pipeline is None or pipeline.id is None:
        return 0
    reasons = [r.id for r in session.exec(select(LostReason).order_by(col(LostReason.id))).all()]
    made = 0
    for i, contact in enumerate(contacts):
        created = now - timedelta(days=rng.uniform(60, 330))
        deal = create_deal(
            session=session,
            deal_in=DealCreate(
                title=f"Support plan for {contact.family_name} {i + 1}",
                pipeline_id=pipeline.id,
                contact_id=contact.id,
                amount=Decimal(rng.randrange(2000, 40000, 500)),
                currency="GBP",
                expected_close=(now + timedelta(days=rng.randint(5, 80))).date(),
            ),
            actor=owner,
            at=created,
        )
        made += 1
        closed = created + timedelta(days=rng.uniform(10, 50))
        if closed >= now or rng.random() < 0.3:
            continue
        assert deal.id is not None
        if rng.random() < 0.35:
            win_deal(
                session=session,
                deal_id=deal.id,
                version=deal.version,
                amount=deal.amount,
                actor=owner,
                at=closed,
            )
        else:
            lose_deal(
                session=session,
                deal_id=deal.id,
                version=deal.version,
                reason_id=rng.choice(reasons) if reasons else None,
                note=None,
                actor=owner,
                at=closed,
            )
    return made


def _service_concerns(
    session: Session, rng: random.Random, contacts: list[Contact], now: datetime
) -> int:
    """Named concerns about service quality from customers, linked to their record."""
    ensure_categories(session=session)
    for n, contact in enumerate(contacts):
        submitted = submit_concern(
            session=session,
            concern_in=ConcernCreate(
                category=SERVICE_CATEGORY,
                what_happened="Waited a week for a promised call back about my account.",
                where_when="Phone line",
                anonymous=False,
                contact_name=contact.full_name,
                contact_email=contact.email or f"customer{contact.id}@example.org",
            ),
            now=now - timedelta(days=rng.uniform(2, 250)),
            receipt_log2n=SEED_RECEIPT_LOG2N,
        )
        case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
        # The reviewer links a named reporter to their customer record.
        case.contact_id = contact.id
        session.add(case)
        session.commit()
        if n >= 6:
            break
    return min(len(contacts), 7)


def seed_experience(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Responsiveness, moments and channel data, a third sales team, and quarter targets."""
    owners = [
        u
        for name in ("sales", "sales2", "manager")
        if (u := get_user_by_username(session=session, username=name)) is not None
    ]
    if not owners or scale <= 0:
        return {}
    now = utcnow()
    east = _east_user(session)
    east_contacts = _east_contacts(session, rng, east, max(6, int(30 * scale)))
    deals = _east_deals(session, rng, east, east_contacts, now)
    inbound = answered = 0
    chosen: list[Contact] = []
    for owner in [*owners, east]:
        mine = list(
            session.exec(
                select(Contact)
                .where(Contact.owner_id == owner.id, col(Contact.merged_into_id).is_(None))
                .order_by(col(Contact.id))
            ).all()
        )
        picked = rng.sample(mine, k=min(len(mine), max(12, int(len(mine) * 0.4))))
        i, a = _exchanges(session, rng, owner, picked[5:], now)
        inbound, answered = inbound + i, answered + a
        _waiting_and_flagged(session, rng, owner, picked[:5], now)
        chosen.extend(picked[5:7])
    concerns = _service_concerns(session, rng, chosen, now)
    year, quarter = quarter_of(now.date())
    previous = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    targets = 0
    for team, amount in (("North", 400000), ("South", 250000), ("East", 120000)):
        for y, q in ((year, quarter), previous):
            set_target(
                session=session,
                team=team,
                year=y,
                quarter=q,
                amount=Decimal(amount),
                actor=OPERATOR,
            )
            targets += 1
    return {
        "inbound contacts": inbound,
        "answered": answered,
        "east deals": deals,
        "service concerns": concerns,
        "sales targets": targets,
    }
