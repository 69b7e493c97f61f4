"""The pipeline at benchmark scale: deals with their full stage history, in bulk.

Scale 1 is 20k deals. Each deal walks its pipeline the way the demo's deals do (forwards,
backwards, skipping, then won or lost) but the walk is simulated in memory and written
with executemany, so the rows are what `db/pipeline/commands.py` would have written: one
`created` change, one change per move with the seconds spent in the stage it left, a
`won`/`lost` change that ends the last visit, and each deal's share of the forecast summary.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.types import utcnow
from db.demo.bulk.rows import CHUNK, World, bulk_insert, max_id, new_ids, table_of
from db.demo.pipeline import LOST_REASONS, PIPELINES, SOURCES, WHAT
from db.models.people import Channel, Contact, Direction, Interaction, Purpose, Sentiment
from db.models.pipeline import Deal, DealStatus, Pipeline, Stage, StageChange
from db.pipeline.commands import stage_change
from db.pipeline.setup import add_lost_reason, create_pipeline
from db.pipeline.summary import apply_deal_deltas, facts_of

DEALS_PER_SCALE = 20_000
# Share of a deal's steps with a call, meeting or email logged against the deal.
DEAL_TOUCH_SHARE = 0.25


@dataclass
class _Walk:
    """One simulated deal: its row and its history, before it has an id."""

    deal: dict[str, Any]
    changes: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)


def _walk(
    world: World,
    now: datetime,
    owner: int,
    pipeline: tuple[int, str, list[int]],
    contact: tuple[int, int | None, str] | None,
    reasons: list[int],
) -> _Walk:
    rng = world.rng
    pipeline_id, currency, stages = pipeline
    start = now - timedelta(days=rng.uniform(3, 365))
    amount = Decimal(rng.randrange(20, 900) * 250)
    position = 0
    walk = _Walk(
        deal={
            "title": f"{rng.choice(WHAT)} for {contact[2] if contact else 'prospect'}",
            "organisation_id": contact[1] if contact else None,
            "contact_id": contact[0] if contact else None,
            "amount": amount,
            "currency": currency,
            "probability_override": rng.choice([None] * 6 + [15, 35, 80]),
            "expected_close": (start + timedelta(days=rng.randint(30, 150))).date(),
            "source": rng.choice(SOURCES),
            "notes": None,
            "pipeline_id": pipeline_id,
            "stage_id": stages[0],
            "owner_id": owner,
            "status": DealStatus.open.value,
            "lost_reason_id": None,
            "lost_note": None,
            "closed_at": None,
            "stage_entered_at": start,
            "last_activity_at": start,
            "created_at": start,
            "updated_at": start,
            "updated_by_id": owner,
            "version": 1,
        }
    )
    deal = walk.deal

    def change(event: str, to_stage: int, at: datetime) -> None:
        walk.changes.append(
            stage_change(
                event=event,
                from_stage_id=deal["stage_id"],
                entered_at=deal["stage_entered_at"],
                to_stage_id=to_stage,
                at=at,
                by_id=owner,
            )
        )
        deal["last_activity_at"] = deal["updated_at"] = at
        deal["version"] += 1

    walk.changes.append(
        stage_change(
            event="created",
            from_stage_id=None,
            entered_at=None,
            to_stage_id=stages[0],
            at=start,
            by_id=owner,
        )
    )
    at = start
    while True:
        at = at + timedelta(days=rng.uniform(4, 40), hours=rng.uniform(0, 8))
        if at >= now:
            return walk
        if contact is not None and rng.random() < DEAL_TOUCH_SHARE:
            walk.touches.append(
                {
                    "contact_id": contact[0],
                    "channel": rng.choice([Channel.phone, Channel.meeting, Channel.email]).value,
                    "direction": Direction.outbound.value,
                    "purpose": Purpose.sales.value,
                    "subject": rng.choice(["Discovery call", "Pricing", "Next steps", "Demo"]),
                    "body": "Talked through the deal.",
                    "occurred_at": at,
                    "sentiment": rng.choices(list(Sentiment), weights=[4, 5, 1])[0].value,
                    "user_id": owner,
                    "created_at": at,
                }
            )
            deal["last_activity_at"] = at
        roll = rng.random()
        last = position == len(stages) - 1
        if roll < 0.07 or (last and roll < 0.4):
            if rng.random() < (0.55 if last else 0.05):
                change("won", deal["stage_id"], at)
                deal["status"] = DealStatus.won.value
            else:
                change("lost", deal["stage_id"], at)
                deal["status"] = DealStatus.lost.value
                deal["lost_reason_id"] = rng.choice(reasons)
                deal["lost_note"] = rng.choice(
                    [None, "Will revisit next year.", "Went with incumbent."]
                )
            deal["closed_at"] = at
            return walk
        if roll < 0.18 and position > 0:
            position -= 1
        elif roll < 0.28 and position < len(stages) - 2:
            position += 2
        elif not last:
            position += 1
        else:
            continue
        change("moved", stages[position], at)
        deal["stage_id"] = stages[position]
        deal["stage_entered_at"] = at


def seed_pipeline_bulk(session: Session, world: World) -> dict[str, int]:
    """Pipelines and lost reasons (through db/), then deals, history and deal touches in bulk."""
    rng = world.rng
    now = utcnow()
    for name, currency, specs in PIPELINES:
        create_pipeline(session=session, name=name, currency=currency, stages=specs, actor=OPERATOR)
    reasons = [
        add_lost_reason(session=session, label=label, actor=OPERATOR).id or 0
        for label in LOST_REASONS
    ]
    stage_t, pipe_t = table_of(Stage), table_of(Pipeline)
    pipelines: list[tuple[int, str, list[int]]] = []
    for pid, currency in session.execute(
        select(pipe_t.c.id, pipe_t.c.currency).order_by(pipe_t.c.id)
    ).tuples():
        stages = list(
            session.execute(
                select(stage_t.c.id)
                .where(stage_t.c.pipeline_id == pid)
                .order_by(stage_t.c.position)
            ).scalars()
        )
        pipelines.append((pid, currency, stages))
    contact_t = table_of(Contact)
    contacts_of: dict[int, list[tuple[int, int | None, str]]] = {}
    for cid, owner, org, family in session.execute(
        select(
            contact_t.c.id,
            contact_t.c.owner_id,
            contact_t.c.organisation_id,
            contact_t.c.family_name,
        ).order_by(contact_t.c.id)
    ).tuples():
        contacts_of.setdefault(owner, []).append((cid, org, family))

    weights = [6, 3, 2][: len(pipelines)]
    total = int(DEALS_PER_SCALE * world.scale)
    deal_ids: list[int] = []
    made_changes = made_touches = 0
    # A batch at a time, so scale 10 (200k deals, a million rows of history) fits in memory.
    for first in range(0, total, CHUNK):
        walks: list[_Walk] = []
        for _ in range(min(CHUNK, total - first)):
            owner = rng.choice(world.owner_ids)
            pipeline = rng.choices(pipelines, weights=weights)[0]
            mine = contacts_of.get(owner)
            contact = rng.choice(mine) if mine and rng.random() < 0.9 else None
            walks.append(_walk(world, now, owner, pipeline, contact, reasons))
        before = max_id(session, Deal)
        bulk_insert(session, Deal, (w.deal for w in walks))
        ids = new_ids(session, Deal, before)
        deal_ids.extend(ids)
        made_changes += bulk_insert(
            session,
            StageChange,
            ({**row, "deal_id": i} for i, w in zip(ids, walks, strict=True) for row in w.changes),
        )
        made_touches += bulk_insert(
            session,
            Interaction,
            ({**row, "deal_id": i} for i, w in zip(ids, walks, strict=True) for row in w.touches),
        )
        # The forecast summary, by the function every command keeps it with.
        apply_deal_deltas(session, ((None, facts_of(w.deal)) for w in walks))
        session.commit()
    world.ids["deal"] = deal_ids
    return {
        "pipelines": len(pipelines),
        "deals": len(deal_ids),
        "stage changes": made_changes,
        "deal interactions": made_touches,
    }
