"""The demo world at benchmark scale, written with bulk inserts.

`manage.py seed --scale N` uses this: scale 1 is about 1k organisations, 10k contacts,
100k interactions and 10k tasks (other areas add theirs through `BULK_SEEDERS`). It
shares its names and places with the demo seeders, so the benchmark sees the same kind
of world as the demo, only larger. Rows go in with executemany in chunks; the commands
of `db/` are used for the users, whose passwords must be hashed and audited.
"""

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlmodel import Session, SQLModel

from db.audit import OPERATOR, record
from db.fixtures import seed_users
from db.models.auth import AppMeta, Role, User, UserRole
from db.models.people import (
    Channel,
    Contact,
    ContactKind,
    ContactTag,
    Direction,
    Interaction,
    Organisation,
    Purpose,
    Sentiment,
    Task,
)
from db.people_seed import FAMILY, GIVEN, INDUSTRIES, ORG_KINDS, ORG_WORDS, SUBJECTS, TOWNS
from db.types import utcnow

CHUNK = 5000
SCALE_MARKER = "bulk_scale"


@dataclass
class World:
    """What the bulk seeders share: the generator, the scale and the ids made so far."""

    rng: random.Random
    scale: float
    owner_ids: list[int]
    team_of: dict[int, str | None]
    ids: dict[str, list[int]]


BulkSeeder = Callable[[Session, World], dict[str, int]]
BULK_SEEDERS: list[BulkSeeder] = []


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def bulk_insert(session: Session, model: type[SQLModel], rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in chunks with executemany; returns how many."""
    table = _table(model)
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            session.execute(insert(table), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        session.execute(insert(table), chunk)
        count += len(chunk)
    session.commit()
    return count


def new_ids(session: Session, model: type[SQLModel], before: int) -> list[int]:
    """Ids of the rows of `model` inserted after id `before`, in order."""
    table = _table(model)
    return list(
        session.execute(
            select(table.c.id).where(table.c.id > before).order_by(table.c.id)
        ).scalars()
    )


def max_id(session: Session, model: type[SQLModel]) -> int:
    """The largest id of `model` so far (0 for an empty table)."""
    table = _table(model)
    return int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def _extra_sales_users(session: Session, rng: random.Random, count: int) -> None:
    # A real organisation has many sellers in several teams; bcrypt cost is irrelevant
    # here (nobody signs in as them), so they share one hash.
    from db.auth import hash_password

    shared_hash = hash_password("bulk-users-cannot-sign-in-" + str(rng.random()))
    teams = ["North", "South", "East", "West"]
    users = [
        {
            "username": f"seller{i:03d}",
            "display_name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
            "email": f"seller{i:03d}@example.org",
            "team": teams[i % len(teams)],
            "password_hash": shared_hash,
            "is_active": True,
            "failed_logins": 0,
            "password_changed_at": utcnow(),
            "created_at": utcnow(),
            "version": 1,
        }
        for i in range(count)
    ]
    before = max_id(session, User)
    bulk_insert(session, User, iter(users))
    ids = new_ids(session, User, before)
    bulk_insert(session, UserRole, ({"user_id": uid, "role": Role.sales.value} for uid in ids))


def seed_people_bulk(session: Session, world: World) -> dict[str, int]:
    """Organisations, contacts, interactions and tasks at scale."""
    rng, scale = world.rng, world.scale
    now = utcnow()
    n_orgs, n_contacts = int(1000 * scale), int(10_000 * scale)
    n_interactions, n_tasks = int(100_000 * scale), int(10_000 * scale)

    def orgs() -> Iterator[dict[str, Any]]:
        for i in range(n_orgs):
            town, postcode, region = rng.choice(TOWNS)
            name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)} {i}"
            yield {
                "name": name,
                "domain": f"org{i}.example.org",
                "industry": rng.choice(INDUSTRIES),
                "size": rng.choice(["1-10", "11-50", "51-250", "250+"]),
                "locality": town,
                "postcode": postcode,
                "region": region,
                "country": "GB",
                "owner_id": rng.choice(world.owner_ids),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }

    before = max_id(session, Organisation)
    bulk_insert(session, Organisation, orgs())
    org_ids = new_ids(session, Organisation, before)

    kinds = list(ContactKind)
    channels = [Channel.email, Channel.phone, Channel.sms, None]

    def contacts() -> Iterator[dict[str, Any]]:
        for i in range(n_contacts):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            town, postcode, region = rng.choice(TOWNS)
            kind = rng.choices(kinds, weights=[5, 3, 2, 2, 1, 1])[0]
            yield {
                "kind": kind.value,
                "given_name": given,
                "family_name": family,
                "organisation_id": rng.choice(org_ids) if org_ids and rng.random() < 0.6 else None,
                "email": f"c{i}@example.org" if rng.random() < 0.85 else None,
                "phone": f"+44207946{i % 10000:04d}" if rng.random() < 0.7 else None,
                "street": f"{rng.randint(1, 200)} {rng.choice(ORG_WORDS)} Road",
                "locality": town,
                "postcode": postcode,
                "region": region,
                "country": "GB",
                "date_of_birth": date(1940, 1, 1) + timedelta(days=rng.randint(0, 25000))
                if kind in {ContactKind.patient, ContactKind.citizen}
                else None,
                "external_ref": f"EXT-{i}",
                "preferred_channel": (c.value if (c := rng.choice(channels)) else None),
                "owner_id": rng.choice(world.owner_ids),
                "created_at": now - timedelta(days=rng.randint(0, 1000)),
                "updated_at": now,
                "version": 1,
            }

    before = max_id(session, Contact)
    bulk_insert(session, Contact, contacts())
    contact_ids = new_ids(session, Contact, before)
    world.ids["contact"] = contact_ids
    world.ids["organisation"] = org_ids
    owner_of = dict(
        session.execute(
            select(_table(Contact).c.id, _table(Contact).c.owner_id).where(
                _table(Contact).c.id > before
            )
        )
        .tuples()
        .all()
    )

    tags = ["vip", "newsletter", "renewal", "accessibility", "board"]
    bulk_insert(
        session,
        ContactTag,
        ({"contact_id": cid, "tag": rng.choice(tags)} for cid in contact_ids if rng.random() < 0.2),
    )
    purposes = list(Purpose)
    all_channels = list(Channel)
    sentiments = list(Sentiment)

    def interactions() -> Iterator[dict[str, Any]]:
        for _ in range(n_interactions):
            cid = rng.choice(contact_ids)
            purpose = rng.choices(purposes, weights=[4, 4, 1, 2])[0]
            outbound = purpose is Purpose.marketing or rng.random() < 0.5
            yield {
                "contact_id": cid,
                "channel": Channel.email.value
                if purpose is Purpose.marketing
                else rng.choice(all_channels).value,
                "direction": (Direction.outbound if outbound else Direction.inbound).value,
                "purpose": purpose.value,
                "subject": rng.choice(SUBJECTS[purpose]),
                "body": "Notes from the conversation.",
                "occurred_at": now - timedelta(minutes=rng.randint(5, 60 * 24 * 730)),
                "sentiment": rng.choices(sentiments, weights=[3, 6, 1])[0].value,
                "user_id": owner_of[cid],
                "created_at": now,
            }

    made_interactions = bulk_insert(session, Interaction, interactions())

    def tasks() -> Iterator[dict[str, Any]]:
        for _ in range(n_tasks):
            cid = rng.choice(contact_ids)
            due = now.date() + timedelta(days=rng.randint(-60, 60))
            yield {
                "title": rng.choice(["Call back", "Send proposal", "Book a visit", "Check in"]),
                "due_on": due,
                "contact_id": cid,
                "owner_id": owner_of[cid],
                "done_at": now if due < now.date() and rng.random() < 0.7 else None,
                "created_at": now,
                "version": 1,
            }

    made_tasks = bulk_insert(session, Task, tasks())
    return {
        "organisations": len(org_ids),
        "contacts": len(contact_ids),
        "interactions": made_interactions,
        "tasks": made_tasks,
    }


BULK_SEEDERS.append(seed_people_bulk)


def seed_scale(*, session: Session, scale: float, seed: int = 7) -> dict[str, int]:
    """Build the benchmark world at `scale` into an empty database; returns counts."""
    rng = random.Random(seed)
    counts = {"users": seed_users(session=session)}
    _extra_sales_users(session, rng, max(8, int(40 * scale)))
    owners: Sequence[tuple[int, str | None]] = (
        session.execute(
            select(_table(User).c.id, _table(User).c.team)
            .join(_table(UserRole), _table(UserRole).c.user_id == _table(User).c.id)
            .where(_table(UserRole).c.role.in_([Role.sales.value, Role.manager.value]))
        )
        .tuples()
        .all()
    )
    world = World(
        rng=rng,
        scale=scale,
        owner_ids=[o[0] for o in owners],
        team_of={o[0]: o[1] for o in owners},
        ids={},
    )
    counts["users"] = int(
        session.execute(select(func.count()).select_from(_table(User))).scalar_one()
    )
    for seeder in BULK_SEEDERS:
        counts.update(seeder(session, world))
    record(
        session=session,
        actor=OPERATOR,
        action="seed.bulk",
        entity="database",
        details={"scale": scale, "seed": seed, "counts": counts},
    )
    session.merge(AppMeta(key=SCALE_MARKER, value=str(scale)))
    session.commit()
    return counts
