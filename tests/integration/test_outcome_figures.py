"""Team outcome figures found in SQL equal the same figures counted one by one."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from sqlmodel import Session, select

from db.demo.fixtures import seed_users
from db.experience.responsiveness import (
    INBOUND_CHANNELS,
    median_response_hours,
    teams_exchanges,
    teams_median_response_hours,
)
from db.models.auth import User
from db.models.people import Channel, Contact, Direction, Interaction, Purpose

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)
TEAMS = ["North", "South", "Quiet"]


def random_world(session: Session, seed: int) -> None:
    """Contacts of two teams (one more with no answers at all), and interactions at
    random microseconds around the period, some merged or erased away."""
    rng = random.Random(seed)
    seed_users(session=session)
    owners = [u for u in session.exec(select(User)).all() if u.team in ("North", "South")]
    contacts = []
    for i in range(30):
        person = Contact(
            given_name=f"Random {i}",
            owner_id=rng.choice(owners).id,
            erased_at=START if i == 7 else None,
        )
        session.add(person)
        contacts.append(person)
    session.flush()
    channels = [*INBOUND_CHANNELS, Channel.meeting]
    for _ in range(600):
        when = START - timedelta(days=5) + timedelta(microseconds=rng.randrange(40 * 86400 * 10**6))
        session.add(
            Interaction(
                contact_id=rng.choice(contacts).id or 0,
                channel=rng.choice(channels),
                direction=rng.choice([Direction.inbound, Direction.outbound]),
                purpose=Purpose.service,
                # Whole seconds now and then: ties between waits must not matter.
                occurred_at=when.replace(microsecond=0) if rng.random() < 0.3 else when,
            )
        )
    session.commit()


def one_by_one(session: Session, teams: list[str]) -> dict[str, float | None]:
    """The straightforward figure: every exchange read, then the median per team."""
    exchanges = teams_exchanges(session=session, teams=teams, start=START, end=END)
    return {
        team: median_response_hours([e for e in exchanges if e.team == team]) for team in teams
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_median_hours_to_answer_in_sql_equal_the_median_over_every_exchange(
    session: Session, seed: int
) -> None:
    random_world(session, seed)
    found = teams_median_response_hours(session=session, teams=TEAMS, start=START, end=END)
    assert found == one_by_one(session, TEAMS)
    assert found["North"] is not None and found["Quiet"] is None
    together = teams_median_response_hours(
        session=session, teams=TEAMS, start=START, end=END, together="company"
    )
    everyone = teams_exchanges(session=session, teams=TEAMS, start=START, end=END)
    assert together == {"company": median_response_hours(everyone)}
