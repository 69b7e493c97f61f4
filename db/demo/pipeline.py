"""Demo pipeline: three pipelines, a year of deals moving (forwards, backwards, skipping),
won and lost with reasons, and calls and meetings logged against them."""

import random
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose
from db.models.pipeline import DealCreate, LostReason, Stage
from db.people.interactions import log_interaction
from db.pipeline.commands import create_deal, lose_deal, move_deal, win_deal
from db.pipeline.setup import StageSpec, add_lost_reason, create_pipeline

PIPELINES = (
    (
        "New business",
        "GBP",
        [
            StageSpec("Lead", 10, 14),
            StageSpec("Qualified", 25, 14),
            StageSpec("Proposal", 50, 10),
            StageSpec("Negotiation", 75, 7),
            StageSpec("Contract sent", 90, 5),
        ],
    ),
    (
        "Renewals",
        "GBP",
        [
            StageSpec("Due", 60, 30),
            StageSpec("In discussion", 75, 14),
            StageSpec("Agreed", 95, None),
        ],
    ),
    (
        "Public tenders",
        "EUR",
        [
            StageSpec("Notice published", 5, None),
            StageSpec("Bid prepared", 20, 21),
            StageSpec("Bid submitted", 40, None),
            StageSpec("Shortlisted", 70, 30),
        ],
    ),
)
LOST_REASONS = (
    "Price too high",
    "Chose a competitor",
    "No budget this year",
    "No decision made",
    "Requirements did not fit",
)
SOURCES = ("referral", "website", "event", "outbound", "partner", "tender portal")
WHAT = ("Care records", "Case management", "Survey licence", "Training", "Support plan", "Portal")


def seed_pipeline(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Pipelines, lost reasons, a year of deals with their full stage history."""
    owners = [
        u
        for name in ("sales", "sales2", "manager")
        if (u := get_user_by_username(session=session, username=name)) is not None
    ]
    if not owners:
        return {}
    pipelines = [
        create_pipeline(session=session, name=n, currency=c, stages=s, actor=OPERATOR)
        for n, c, s in PIPELINES
    ]
    reasons = [add_lost_reason(session=session, label=r, actor=OPERATOR) for r in LOST_REASONS]
    contacts_of = {
        owner.id: list(
            session.exec(
                select(Contact).where(Contact.owner_id == owner.id).order_by(col(Contact.id))
            ).all()
        )
        for owner in owners
    }
    counts = {"pipelines": len(pipelines), "deals": 0, "stage_changes": 0}
    for _ in range(max(12, int(140 * scale))):
        owner = rng.choice(owners)
        pipeline = rng.choices(pipelines, weights=[6, 3, 2])[0]
        stages = list(
            session.exec(
                select(Stage).where(Stage.pipeline_id == pipeline.id).order_by(col(Stage.position))
            ).all()
        )
        contact = rng.choice(contacts_of[owner.id]) if contacts_of[owner.id] else None
        counts["stage_changes"] += _one_deal(
            session, rng, owner, pipeline.id or 0, pipeline.currency, stages, contact, reasons
        )
        counts["deals"] += 1
    return counts


def _one_deal(
    session: Session,
    rng: random.Random,
    owner: User,
    pipeline_id: int,
    currency: str,
    stages: list[Stage],
    contact: Contact | None,
    reasons: list[LostReason],
) -> int:
    start = utcnow() - timedelta(days=rng.uniform(3, 365))
    at = start
    amount = Decimal(rng.randrange(20, 900) * 250)
    deal = create_deal(
        session=session,
        deal_in=DealCreate(
            title=f"{rng.choice(WHAT)} for {contact.family_name if contact else 'prospect'}",
            pipeline_id=pipeline_id,
            organisation_id=contact.organisation_id if contact else None,
            contact_id=contact.id if contact else None,
            amount=amount,
            currency=currency,
            probability_override=rng.choice([None] * 6 + [15, 35, 80]),
            expected_close=(start + timedelta(days=rng.randint(30, 150))).date(),
            source=rng.choice(SOURCES),
            owner_id=owner.id,
        ),
        actor=owner,
        at=start,
    )
    changes = 1
    position = 0
    while True:
        at = at + timedelta(days=rng.uniform(4, 40), hours=rng.uniform(0, 8))
        if at >= utcnow():
            return changes
        if contact is not None and rng.random() < 0.6:
            log_interaction(
                session=session,
                interaction_in=InteractionCreate(
                    contact_id=contact.id or 0,
                    channel=rng.choice([Channel.phone, Channel.meeting, Channel.email]),
                    direction=Direction.outbound,
                    purpose=Purpose.sales,
                    subject=rng.choice(["Discovery call", "Pricing", "Next steps", "Demo"]),
                    body="Talked through the deal.",
                    occurred_at=at,
                    deal_id=deal.id,
                ),
                actor=owner,
            )
        roll = rng.random()
        last = position == len(stages) - 1
        if roll < 0.07 or (last and roll < 0.4):
            if rng.random() < (0.55 if last else 0.05):
                win_deal(
                    session=session,
                    deal_id=deal.id or 0,
                    version=deal.version,
                    amount=deal.amount or Decimal(1000),
                    actor=owner,
                    at=at,
                )
            else:
                lose_deal(
                    session=session,
                    deal_id=deal.id or 0,
                    version=deal.version,
                    reason_id=rng.choice(reasons).id,
                    note=rng.choice([None, "Will revisit next year.", "Went with incumbent."]),
                    actor=owner,
                    at=at,
                )
            return changes + 1
        if roll < 0.18 and position > 0:
            position -= 1  # back a step: the customer reopened a question
        elif roll < 0.28 and position < len(stages) - 2:
            position += 2  # skipped a stage
        elif not last:
            position += 1
        else:
            continue
        deal = move_deal(
            session=session,
            deal_id=deal.id or 0,
            stage_id=stages[position].id or 0,
            version=deal.version,
            actor=owner,
            at=at,
        )
        changes += 1
