"""The demo world at benchmark scale, written with bulk inserts.

`manage.py seed --scale N` uses this: scale 1 is about 1k organisations, 10k contacts,
100k interactions and 10k tasks (the other areas' seeders are listed in `BULK_SEEDERS`). It
shares its names and places with the demo seeders, so the benchmark sees the same kind
of world as the demo, only larger. Rows go in with executemany in chunks; the commands
of `db/` are used for the users, whose passwords must be hashed and audited.
"""

import random
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.auth.audit import record
from db.core.types import utcnow
from db.demo.bulk.cases import seed_cases_bulk
from db.demo.bulk.consent import seed_consent_bulk
from db.demo.bulk.pipeline import seed_pipeline_bulk
from db.demo.bulk.rows import BulkSeeder, World, bulk_insert, max_id, new_ids, table_of
from db.demo.bulk.surveys import seed_surveys_bulk
from db.demo.duplicate_data import labelled_records
from db.demo.fixtures import seed_users
from db.demo.people import FAMILY, GIVEN, INDUSTRIES, ORG_KINDS, ORG_WORDS, SUBJECTS, TOWNS
from db.duplicates.matching import parse_dob
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

SCALE_MARKER = "bulk_scale"
# Share of people entered twice (with typos, nicknames, other formats): the planted
# duplicates the Duplicates page should find.
DUPLICATE_SHARE = 0.02
# How people get in touch, in Channel's order: email, phone, meeting, chat, sms, social,
# letter, web, in person.
INBOUND_CHANNEL_WEIGHTS = [8, 6, 1, 3, 2, 2, 1, 4, 1]
REGION_OF = {
    "Leeds": "West Yorkshire",
    "Bristol": "Avon",
    "Glasgow": "Scotland",
    "Cardiff": "Wales",
    "Norwich": "Norfolk",
    "York": "North Yorkshire",
    "Derby": "Derbyshire",
    "Bath": "Somerset",
    "Hull": "East Yorkshire",
    "Exeter": "Devon",
    "Leicester": "Leicestershire",
}


def _as_date(value: object) -> date | None:
    """A planted copy may carry its birth date as text in another format."""
    if value is None or isinstance(value, date):
        return value
    parsed = parse_dob(value)
    if parsed is None:
        return None
    try:
        return date(*parsed)
    except ValueError:
        return None


def _extra_sales_users(session: Session, rng: random.Random, count: int) -> None:
    # A real organisation has many sellers in several teams; bcrypt cost is irrelevant
    # here (nobody signs in as them), so they share one hash.
    from db.auth.accounts import hash_password

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
        # Identities come from the matcher's labelled generator: varied names (common
        # surnames and made-up ones), real-looking postcodes, a few households, and a
        # small share of planted duplicates whose external_ref names their original
        # ("SRC-12-1" copies "SRC-12"), so the Duplicates page finds those and few others.
        people = labelled_records(
            max(1, round(n_contacts / 1.04)),
            seed=rng.randrange(1 << 30),
            duplicate_share=DUPLICATE_SHARE,
            max_copies=1,
            household_share=0.02,
        )[:n_contacts]
        for i, person in enumerate(people):
            kind = rng.choices(kinds, weights=[5, 3, 2, 2, 1, 1])[0]
            yield {
                "kind": kind.value,
                "given_name": person["given_name"],
                "family_name": person["family_name"],
                "organisation_id": rng.choice(org_ids) if org_ids and rng.random() < 0.6 else None,
                "email": person["email"],
                "phone": person["phone"],
                "street": person["street"],
                "locality": person["locality"],
                "postcode": person["postcode"],
                "region": REGION_OF.get(person["locality"]),
                "country": "GB",
                "date_of_birth": _as_date(person["date_of_birth"]),
                "identifier": person["identifier"],
                "external_ref": person["external_ref"] or f"EXT-{i}",
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
            select(table_of(Contact).c.id, table_of(Contact).c.owner_id).where(
                table_of(Contact).c.id > before
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

    def interaction(
        cid: int, channel: Channel, direction: Direction, purpose: Purpose, at: datetime
    ) -> dict[str, Any]:
        # People who write in are more often unhappy than people we call.
        weights = [3, 5, 2] if direction is Direction.inbound else [3, 6, 1]
        return {
            "contact_id": cid,
            "channel": channel.value,
            "direction": direction.value,
            "purpose": purpose.value,
            "subject": rng.choice(SUBJECTS[purpose]),
            "body": "Notes from the conversation.",
            "occurred_at": at,
            "sentiment": rng.choices(sentiments, weights=weights)[0].value,
            "user_id": owner_of[cid],
            "created_at": now,
        }

    def interactions() -> Iterator[dict[str, Any]]:
        made = 0
        while made < n_interactions:
            cid = rng.choice(contact_ids)
            purpose = rng.choices(purposes, weights=[4, 4, 1, 2])[0]
            at = now - timedelta(minutes=rng.randint(5, 60 * 24 * 730))
            if purpose is Purpose.marketing or rng.random() < 0.55:
                channel = (
                    Channel.email if purpose is Purpose.marketing else rng.choice(all_channels)
                )
                yield interaction(cid, channel, Direction.outbound, purpose, at)
                made += 1
                continue
            # Someone got in touch: most hear back on the same channel within days,
            # some are still waiting (recent ones above all).
            channel = rng.choices(all_channels, weights=INBOUND_CHANNEL_WEIGHTS)[0]
            yield interaction(cid, channel, Direction.inbound, purpose, at)
            made += 1
            reply_at = at + timedelta(minutes=rng.randint(20, 60 * 24 * 5))
            if made < n_interactions and reply_at < now and rng.random() < 0.7:
                yield interaction(cid, channel, Direction.outbound, purpose, reply_at)
                made += 1

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
    # What log_interaction keeps up to date, set once for the whole table.
    contact, inter = table_of(Contact), table_of(Interaction)
    session.execute(
        update(contact)
        .where(contact.c.id > before)
        .values(
            last_activity_at=select(func.max(inter.c.occurred_at))
            .where(inter.c.contact_id == contact.c.id)
            .scalar_subquery()
        )
    )
    session.commit()
    return {
        "organisations": len(org_ids),
        "contacts": len(contact_ids),
        "interactions": made_interactions,
        "tasks": made_tasks,
    }


# Every area's bulk seeder, in the order they build the world (people first: the
# others take their contacts and owners from the world).
BULK_SEEDERS: list[BulkSeeder] = [
    seed_people_bulk,
    seed_surveys_bulk,
    seed_pipeline_bulk,
    seed_cases_bulk,
    seed_consent_bulk,
]


def seed_scale(*, session: Session, scale: float, seed: int = 7) -> dict[str, int]:
    """Build the benchmark world at `scale` into an empty database; returns counts."""
    rng = random.Random(seed)
    counts = {"users": seed_users(session=session)}
    _extra_sales_users(session, rng, max(8, int(40 * scale)))
    owners: Sequence[tuple[int, str | None]] = (
        session.execute(
            select(table_of(User).c.id, table_of(User).c.team)
            .join(table_of(UserRole), table_of(UserRole).c.user_id == table_of(User).c.id)
            .where(table_of(UserRole).c.role.in_([Role.sales.value, Role.manager.value]))
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
        session.execute(select(func.count()).select_from(table_of(User))).scalar_one()
    )
    for seeder in BULK_SEEDERS:
        counts.update(seeder(session, world))
    record(
        session,
        OPERATOR,
        "seed.bulk",
        "database",
        details={"scale": scale, "seed": seed, "counts": counts},
    )
    session.merge(AppMeta(key=SCALE_MARKER, value=str(scale)))
    session.commit()
    return counts
