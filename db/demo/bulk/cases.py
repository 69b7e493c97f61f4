"""Cases at benchmark scale: concerns with their append-only timelines, in bulk.

Scale 1 is 2k concerns over six years. Each is walked through the life the demo's
concerns have (received → claimed → acknowledged → severity → under review → message →
maybe a reply → closed), simulated in memory, and written with executemany. The case
row's state columns are what the case commands would leave: status, severity and its
rank, outcome, assignee, the acknowledgement, feedback and closing times, the deadlines
computed by the SLA clock from the category's policy, last activity and the version.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.cases.common import REPORTER_LABEL, ensure_categories
from db.cases.intake import RECEIPT_ALPHABET, REFERENCE_LENGTH, REFERENCE_PREFIX, hash_receipt
from db.cases.sla import SlaPolicy, ack_due, feedback_due, feedback_start, running_deadline
from db.core.types import utcnow
from db.demo.bulk.rows import World, bulk_insert, max_id, new_ids, table_of
from db.demo.cases import (
    CATEGORY_WEIGHTS,
    PLACES,
    REPLIES,
    REPORTER_ADDS,
    SEED_RECEIPT_LOG2N,
    STORIES,
)
from db.models.auth import Role, User, UserRole
from db.models.cases import (
    SEVERITY_RANK,
    Case,
    CaseCategory,
    CaseEvent,
    CaseStatus,
    EventKind,
    Outcome,
    Severity,
)

CASES_PER_SCALE = 2_000


@dataclass
class _Life:
    """One simulated concern: its row and its timeline, before it has an id."""

    case: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)


def _reference(rng: random.Random, taken: set[str]) -> str:
    while True:
        ref = REFERENCE_PREFIX + "".join(
            rng.choice(RECEIPT_ALPHABET) for _ in range(REFERENCE_LENGTH)
        )
        if ref not in taken:
            taken.add(ref)
            return ref


def _live(
    rng: random.Random,
    now: datetime,
    n: int,
    reference: str,
    receipt_hash: str,
    category: str,
    policy: SlaPolicy,
    reviewers: list[tuple[int, str]],
) -> _Life:
    days_ago = int(rng.triangular(0, 6 * 365, 0))
    received = now - timedelta(days=days_ago, hours=rng.randint(0, 23))
    anonymous = rng.random() < 0.65
    case: dict[str, Any] = {
        "category": category,
        "what_happened": rng.choice(STORIES[category]),
        "where_when": rng.choice(PLACES) or None,
        "occurred_on": None,
        "people_involved": None,
        "urgency": rng.choice(["low", "medium", "medium", "high"]),
        "reference": reference,
        "kind": "concern",
        "anonymous": anonymous,
        "contact_name": None if anonymous else f"Bulk reporter {n + 1}",
        "contact_email": None if anonymous else f"reporter{n + 1}@example.org",
        "contact_phone": None,
        "contact_id": None,
        "status": CaseStatus.new.value,
        "severity": None,
        "severity_rank": -1,
        "outcome": None,
        "assignee_id": None,
        "received_at": received,
        "ack_due_at": ack_due(received, policy),
        "acknowledged_at": None,
        "feedback_due_at": None,
        "feedback_at": None,
        "closed_at": None,
        "reopened_at": None,
        "last_activity_at": received,
        "receipt_hash": receipt_hash,
        "failed_attempts": 0,
        "retry_after": None,
        "purged_at": None,
        "version": 1,
    }
    life = _Life(case)

    def event(kind: EventKind, at: datetime, who: tuple[int, str] | None, **fields: Any) -> None:
        row = {
            "occurred_at": at,
            "kind": kind.value,
            "actor_id": None if who is None else who[0],
            "actor_label": REPORTER_LABEL if who is None else who[1],
            "body": None,
            "from_status": None,
            "to_status": None,
            "severity": None,
            "outcome": None,
            "assignee_id": None,
        }
        row.update(fields)
        life.events.append(row)
        case["last_activity_at"] = at

    event(EventKind.received, received, None)
    _handle(rng, now, life, event, reviewers)
    start = feedback_start(case["acknowledged_at"], case["reopened_at"])
    case["feedback_due_at"] = None if start is None else feedback_due(start, policy)
    _stage, case["sla_due_at"] = running_deadline(
        received_at=received,
        acknowledged_at=case["acknowledged_at"],
        feedback_at=case["feedback_at"],
        closed_at=case["closed_at"],
        reopened_at=case["reopened_at"],
        policy=policy,
    )
    return life


def _handle(
    rng: random.Random, now: datetime, life: _Life, event: Any, reviewers: list[tuple[int, str]]
) -> None:
    """The same steps, odds and delays as the demo's cases_seed._handle."""
    case = life.case
    lead = rng.choice(reviewers)
    ack_after = timedelta(hours=rng.randint(2, 24 * (10 if rng.random() < 0.15 else 6)))
    if now - case["received_at"] < ack_after or rng.random() < 0.04:
        return
    at = case["received_at"] + ack_after
    event(EventKind.assigned, at, lead, assignee_id=lead[0], body="Claimed the case.")
    case["assignee_id"] = lead[0]
    case["version"] += 1
    event(
        EventKind.acknowledged,
        at,
        lead,
        from_status=CaseStatus.new.value,
        to_status=CaseStatus.acknowledged.value,
    )
    event(
        EventKind.message_to_reporter,
        at,
        lead,
        body="We have received your concern and a reviewer is looking at it.",
    )
    case["status"], case["acknowledged_at"] = CaseStatus.acknowledged.value, at
    case["version"] += 1
    grade = rng.choice(list(Severity)[:4])
    at += timedelta(hours=rng.randint(1, 48))
    if at >= now:
        return
    event(
        EventKind.severity_set,
        at,
        lead,
        severity=grade.value,
        body="Initial assessment of potential harm.",
    )
    case["severity"], case["severity_rank"] = grade.value, SEVERITY_RANK[grade]
    case["version"] += 1
    at += timedelta(days=rng.randint(1, 20))
    if at >= now:
        return
    event(
        EventKind.status_changed,
        at,
        lead,
        from_status=CaseStatus.acknowledged.value,
        to_status=CaseStatus.under_review.value,
        body="Gathering information from the team.",
    )
    case["status"] = CaseStatus.under_review.value
    case["version"] += 1
    at += timedelta(days=rng.randint(3, 100 if rng.random() < 0.2 else 60))
    if at >= now:
        return
    event(EventKind.message_to_reporter, at, lead, body=rng.choice(REPLIES))
    case["feedback_at"] = at
    case["version"] += 1
    if rng.random() < 0.3:
        at += timedelta(days=rng.randint(1, 5))
        if at >= now:
            return
        event(EventKind.message_from_reporter, at, None, body=rng.choice(REPORTER_ADDS))
        case["version"] += 1
    at += timedelta(days=rng.randint(5, 60))
    if at >= now or rng.random() < 0.1:
        return
    outcome = rng.choice(list(Outcome)[:6])
    event(
        EventKind.closed,
        at,
        lead,
        from_status=case["status"],
        to_status=CaseStatus.closed.value,
        outcome=outcome.value,
        body="Findings shared with the reporter; actions agreed with the service lead.",
    )
    case["status"], case["outcome"], case["closed_at"] = CaseStatus.closed.value, outcome.value, at
    case["version"] += 1


def seed_cases_bulk(session: Session, world: World) -> dict[str, int]:
    """Concerns and their timelines at scale."""
    rng, now = world.rng, utcnow()
    ensure_categories(session=session)
    user_t, role_t = table_of(User), table_of(UserRole)
    reviewers = [
        (uid, name)
        for uid, name in session.execute(
            select(user_t.c.id, user_t.c.display_name)
            .join(role_t, role_t.c.user_id == user_t.c.id)
            .where(role_t.c.role == Role.reviewer.value)
            .order_by(user_t.c.id)
        ).tuples()
    ]
    if not reviewers:
        return {}
    cat_t = table_of(CaseCategory)
    policies = {
        key: SlaPolicy(ack_days=ack, feedback_months=months)
        for key, ack, months in session.execute(
            select(cat_t.c.key, cat_t.c.ack_days, cat_t.c.feedback_months)
        ).tuples()
    }
    categories = [c for c in CATEGORY_WEIGHTS if c in policies]
    weights = [CATEGORY_WEIGHTS[c] for c in categories]
    # Nobody follows bulk cases up, so they share one receipt hash at scrypt's lowest
    # cost (hashing one per case would take minutes at scale 10); the receipt is dropped.
    receipt_hash = hash_receipt(
        "".join(rng.choice(RECEIPT_ALPHABET) for _ in range(20)), log2n=SEED_RECEIPT_LOG2N
    )
    taken = set(session.execute(select(table_of(Case).c.reference)).scalars())
    lives = []
    for n in range(int(CASES_PER_SCALE * world.scale)):
        category = rng.choices(categories, weights=weights)[0]
        lives.append(
            _live(
                rng,
                now,
                n,
                _reference(rng, taken),
                receipt_hash,
                category,
                policies[category],
                reviewers,
            )
        )
    before = max_id(session, Case)
    bulk_insert(session, Case, (life.case for life in lives))
    case_ids = new_ids(session, Case, before)
    world.ids["case"] = case_ids

    def events() -> Iterator[dict[str, Any]]:
        for case_id, life in zip(case_ids, lives, strict=True):
            for row in life.events:
                yield {**row, "case_id": case_id}

    made_events = bulk_insert(session, CaseEvent, events())
    return {"cases": len(case_ids), "case events": made_events}
