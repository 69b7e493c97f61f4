"""The consent ledger at benchmark scale: 100k events per scale unit, validly chained.

Purposes and notice versions go through `db/consent/records.py` (a handful of rows); the events
are simulated per contact — grants on the channels a person chose, withdrawals,
re-grants, objections to marketing, refreshes — back-dated to when they happened and
recorded now, then streamed to the database with executemany. Each event gets its
sequence number and the SHA-256 link `db/consent/ledger.py` would give it, and the ledger
head ends on the last one, so `verify_ledger` accepts the seeded chain.
"""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.consent.ledger import evidence_digest, link_hash
from db.consent.records import add_months_dt, create_purpose, publish_notice
from db.core.types import utcnow
from db.demo.bulk.rows import CHUNK, World, table_of
from db.demo.consent import EVIDENCE
from db.models.audit import GENESIS_HASH
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentHead,
    ConsentPurposeCreate,
    ConsentSource,
    LawfulBasis,
    Notice,
)

EVENTS_PER_SCALE = 100_000
# code, name, basis, refresh months, covers marketing, wording ages in days (oldest first)
PURPOSES: tuple[tuple[str, str, LawfulBasis, int, bool, tuple[int, ...]], ...] = (
    ("marketing", "Marketing news and offers", LawfulBasis.consent, 24, True, (1200, 240)),
    ("customer-offers", "Offers like what you bought", LawfulBasis.soft_opt_in, 24, True, (1200,)),
    ("research", "Service research", LawfulBasis.consent, 12, False, (900, 300)),
    ("events", "Invitations to events", LawfulBasis.consent, 24, True, (1000,)),
    ("partners", "Sharing with partner charities", LawfulBasis.consent, 12, False, (800,)),
)
# How often each purpose comes up for a person, in PURPOSES' order.
PURPOSE_WEIGHTS = (6, 2, 3, 2, 1)
CHANNELS = (
    ConsentChannel.email,
    ConsentChannel.any,
    ConsentChannel.sms,
    ConsentChannel.phone,
    ConsentChannel.post,
)
CHANNEL_WEIGHTS = (8, 3, 2, 2, 1)


def _notice_at(notices: list[tuple[int, datetime]], when: datetime) -> int:
    shown = [nid for nid, published in notices if published <= when]
    return shown[-1] if shown else notices[0][0]


def _history(
    rng: random.Random,
    now: datetime,
    contact_id: int,
    purpose: tuple[int, int, bool, list[tuple[int, datetime]]],
) -> list[dict[str, Any]]:
    """One person's story for one purpose and channel: a grant, then what they did next."""
    purpose_id, refresh, marketing, notices = purpose
    channel = rng.choices(CHANNELS, weights=CHANNEL_WEIGHTS)[0]
    earliest = notices[0][1]
    span = (now - earliest).total_seconds()
    at = earliest + timedelta(seconds=span * rng.uniform(0.05, 0.9))
    events = []

    def add(action: ConsentAction, when: datetime, on: ConsentChannel) -> None:
        source = rng.choice(list(ConsentSource))
        events.append(
            {
                "contact_id": contact_id,
                "purpose_id": purpose_id,
                "channel": on.value,
                "action": action.value,
                "notice_id": _notice_at(notices, when) if action == ConsentAction.grant else None,
                "source": source.value,
                "evidence": EVIDENCE[source],
                "occurred_at": when,
                "expires_at": add_months_dt(when, refresh)
                if action == ConsentAction.grant
                else None,
            }
        )

    add(ConsentAction.grant, at, channel)
    while True:
        at = at + (now - at) * rng.uniform(0.2, 0.8)
        if now - at < timedelta(hours=1):
            return events
        roll = rng.random()
        if roll < 0.45:
            add(ConsentAction.withdraw, at, channel)
            if rng.random() < 0.5:
                return events
            at = at + (now - at) * rng.uniform(0.2, 0.8)
            add(ConsentAction.grant, at, channel)
        elif roll < 0.55 and marketing:
            add(ConsentAction.object, at, ConsentChannel.any)
            return events
        elif roll < 0.85:
            add(ConsentAction.grant, at, channel)  # asked again before the grant lapsed
        else:
            return events


def seed_consent_bulk(session: Session, world: World) -> dict[str, int]:
    """Purposes, notices and a chained consent ledger at scale."""
    rng, now = world.rng, utcnow()
    officer = get_user_by_username(session=session, username="privacy")
    contacts = world.ids.get("contact", [])
    if officer is None or not contacts:
        return {}
    purposes: list[tuple[int, int, bool, list[tuple[int, datetime]]]] = []
    for code, name, basis, refresh, marketing, ages in PURPOSES:
        purpose = create_purpose(
            session=session,
            purpose_in=ConsentPurposeCreate(
                code=code,
                name=name,
                description=f"{name}.",
                lawful_basis=basis,
                refresh_months=refresh,
                covers_marketing=marketing,
            ),
            actor=officer,
        )
        notices: list[Notice] = [
            publish_notice(
                session=session,
                purpose_id=purpose.id or 0,
                wording=f"{name}: version {v + 1} of what we tell people.",
                actor=officer,
                published_at=now - timedelta(days=age),
            )
            for v, age in enumerate(ages)
        ]
        purposes.append(
            (purpose.id or 0, refresh, marketing, [(n.id or 0, n.published_at) for n in notices])
        )
    target = int(EVENTS_PER_SCALE * world.scale)

    def events() -> Iterator[dict[str, Any]]:
        # Recorded now, back-dated to when they happened, in the order they are
        # entered — as the demo's consent seeder and an import from an old CRM record
        # them; streamed, so a million events never sit in memory at once.
        made = 0
        while made < target:
            contact_id = rng.choice(contacts)
            chosen = rng.choices(purposes, weights=PURPOSE_WEIGHTS[: len(purposes)])[0]
            for event in _history(rng, now, contact_id, chosen)[: target - made]:
                event["recorded_at"] = now
                made += 1
                yield event

    made = _write_chain(session, events(), officer.id, officer.username)
    return {"consent events": made, "consent purposes": len(purposes)}


def _write_chain(
    session: Session, events: Iterator[dict[str, Any]], officer_id: int | None, officer_name: str
) -> int:
    """Number and link the events after the ledger's current head; move the head."""
    head = session.get(ConsentHead, 1)
    seq, prev = (head.seq, head.last_hash) if head else (0, GENESIS_HASH)
    table = table_of(ConsentEvent)

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal seq, prev
        for event in events:
            seq += 1
            row = {
                **event,
                "seq": seq,
                "evidence_digest": evidence_digest(event["evidence"]),
                "recorded_by_id": officer_id,
                "recorded_by_name": officer_name,
                "request_id": None,
                "prev_hash": prev,
            }
            row["hash"] = link_hash(SimpleNamespace(**row), prev)
            prev = row["hash"]
            yield row

    chunk: list[dict[str, Any]] = []
    made = 0
    for row in rows():
        made += 1
        chunk.append(row)
        if len(chunk) >= CHUNK:
            session.execute(insert(table), chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
    if head is None:
        session.add(ConsentHead(id=1, seq=seq, last_hash=prev))
    else:
        head.seq, head.last_hash = seq, prev
        session.add(head)
    session.commit()
    return made
