"""Demo people: organisations, contacts of every kind, a year of interactions, tasks."""

import random
from datetime import date, timedelta

from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import (
    Channel,
    ContactCreate,
    ContactKind,
    Direction,
    InteractionCreate,
    OrganisationCreate,
    Purpose,
    Sentiment,
    TaskCreate,
)
from db.people.contacts import create_contact, create_organisation
from db.people.interactions import create_task, log_interaction

GIVEN = [
    "Amira",
    "Ben",
    "Chloé",
    "Dev",
    "Eilidh",
    "Femi",
    "Grace",
    "Hamza",
    "Ines",
    "Jonas",
    "Kasia",
    "Liam",
    "Mei",
    "Noor",
    "Oisín",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yusuf",
    "Zofia",
]
FAMILY = [
    "Abbott",
    "Bianchi",
    "Chen",
    "Dubois",
    "Evans",
    "Fernández",
    "Gallagher",
    "Haddad",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Murphy",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Umar",
    "Varga",
    "Walsh",
    "Xu",
    "Young",
]
ORG_WORDS = [
    "Harbour",
    "Meadow",
    "Northgate",
    "Riverside",
    "Summit",
    "Willow",
    "Beacon",
    "Castle",
    "Kestrel",
    "Orchard",
    "Lantern",
    "Thistle",
]
ORG_KINDS = [
    "Health",
    "Housing",
    "Schools Trust",
    "Logistics",
    "Care Homes",
    "Council",
    "Foods",
    "Energy",
]
INDUSTRIES = ["health", "public sector", "education", "logistics", "social care", "retail"]
TOWNS = [
    ("Leeds", "LS1 4AP", "West Yorkshire"),
    ("Bristol", "BS1 5TR", "Avon"),
    ("Glasgow", "G2 1DY", "Scotland"),
    ("Cardiff", "CF10 1EP", "Wales"),
    ("Norwich", "NR2 1NH", "Norfolk"),
    ("York", "YO1 7HH", "North Yorkshire"),
]
SUBJECTS = {
    Purpose.sales: [
        "Follow-up on proposal",
        "Pricing question",
        "Renewal discussion",
        "Demo booked",
    ],
    Purpose.service: ["Login trouble", "Invoice query", "Change of address", "Delivery delayed"],
    Purpose.marketing: ["Spring newsletter", "Event invitation", "New service launch"],
    Purpose.care: ["Welfare call", "Check-in after appointment", "Support plan review"],
}


def _demo_owners(session: Session) -> list[User]:
    owners = []
    for name in ("sales", "sales2", "manager"):
        user = get_user_by_username(session=session, username=name)
        if user is not None:
            owners.append(user)
    return owners


def seed_people(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Organisations, contacts, a year of interactions on every channel, and tasks."""
    owners = _demo_owners(session)
    if not owners:
        return {}
    n_orgs = max(4, int(24 * scale))
    n_contacts = max(10, int(180 * scale))
    orgs = []
    for i in range(n_orgs):
        town, postcode, region = rng.choice(TOWNS)
        word = ORG_WORDS[i % len(ORG_WORDS)]
        kind = ORG_KINDS[(i // len(ORG_WORDS) + i) % len(ORG_KINDS)]
        owner = rng.choice(owners)
        orgs.append(
            create_organisation(
                session=session,
                org_in=OrganisationCreate(
                    name=f"{word} {kind}",
                    domain=f"{word}-{kind}-{i}.example.org".lower().replace(" ", ""),
                    industry=rng.choice(INDUSTRIES),
                    size=rng.choice(["1-10", "11-50", "51-250", "250+"]),
                    locality=town,
                    postcode=postcode,
                    region=region,
                    country="GB",
                    owner_id=owner.id,
                ),
                actor=owner,
            )
        )
    now = utcnow()
    owner_of_org = {o.id: next(u for u in owners if u.id == o.owner_id) for o in orgs}
    contacts = []
    for i in range(n_contacts):
        owner = rng.choice(owners)
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        kind = rng.choices(list(ContactKind), weights=[5, 3, 2, 2, 1, 1])[0]
        org = (
            rng.choice(orgs)
            if kind
            in {
                ContactKind.customer,
                ContactKind.prospect,
                ContactKind.partner,
                ContactKind.supplier,
            }
            else None
        )
        if org is not None:
            owner = owner_of_org[org.id]
        town, postcode, region = rng.choice(TOWNS)
        has_email = rng.random() < 0.85
        contacts.append(
            create_contact(
                session=session,
                contact_in=ContactCreate(
                    kind=kind,
                    given_name=given,
                    family_name=family,
                    organisation_id=org.id if org else None,
                    email=f"{given}.{family}.{i}@example.org".lower()
                    .replace("'", "")
                    .replace("é", "e")
                    .replace("í", "i")
                    if has_email
                    else None,
                    phone=f"+44 20 7946 {rng.randint(0, 9999):04d}" if rng.random() < 0.7 else None,
                    street=f"{rng.randint(1, 120)} {rng.choice(ORG_WORDS)} Road",
                    locality=town,
                    postcode=postcode,
                    region=region,
                    country="GB",
                    date_of_birth=date(1950, 1, 1) + timedelta(days=rng.randint(0, 18000))
                    if kind in {ContactKind.patient, ContactKind.citizen}
                    else None,
                    external_ref=f"LEG-{10000 + i}",
                    preferred_channel=rng.choice([Channel.email, Channel.phone, Channel.sms, None]),
                    owner_id=owner.id,
                    tags=rng.sample(
                        ["vip", "newsletter", "renewal-2027", "accessibility", "board"],
                        k=rng.randint(0, 2),
                    ),
                ),
                actor=owner,
            )
        )
    owner_of = {u.id: u for u in owners}
    interactions = 0
    for contact in contacts:
        owner = owner_of[contact.owner_id]
        for _ in range(rng.randint(1, int(12 * max(scale, 0.2)) + 1)):
            purpose = rng.choices(list(Purpose), weights=[4, 4, 1, 2])[0]
            direction = rng.choice(list(Direction))
            when = now - timedelta(days=rng.uniform(0.1, 365), minutes=rng.randint(0, 600))
            channel = rng.choice(list(Channel))
            if purpose is Purpose.marketing:
                direction, channel = Direction.outbound, Channel.email
            log_interaction(
                session=session,
                interaction_in=InteractionCreate(
                    contact_id=contact.id or 0,
                    channel=channel,
                    direction=direction,
                    purpose=purpose,
                    subject=rng.choice(SUBJECTS[purpose]),
                    body="Notes from the conversation.",
                    occurred_at=when,
                    sentiment=rng.choices(list(Sentiment), weights=[3, 6, 1])[0],
                ),
                actor=owner,
            )
            interactions += 1
    tasks = 0
    for contact in rng.sample(contacts, k=min(len(contacts), max(5, int(60 * scale)))):
        owner = owner_of[contact.owner_id]
        create_task(
            session=session,
            task_in=TaskCreate(
                title=rng.choice(["Call back", "Send proposal", "Book a visit", "Check in"]),
                due_on=now.date() + timedelta(days=rng.randint(-20, 30)),
                contact_id=contact.id,
            ),
            actor=owner,
        )
        tasks += 1
    return {
        "organisations": len(orgs),
        "contacts": len(contacts),
        "interactions": interactions,
        "tasks": tasks,
    }
