"""The areas meet: consent and named cases on the contact timeline; erased people stay out."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from db.consent.erasure import erased_identifiers
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.imports.kinds import SUPPRESSION_CHECKS
from db.models.consent import ConsentAction
from db.people.timeline import timeline
from tests.integration.consent_helpers import consent, person, purpose, user


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def test_consent_events_appear_on_the_contact_timeline(world: Session) -> None:
    contact = person(world, "Ana", "Silva")
    made, notice = purpose(world)
    now = utcnow()
    consent(world, contact, made, ConsentAction.grant, now - timedelta(days=3), notice=notice)
    consent(world, contact, made, ConsentAction.withdraw, now - timedelta(days=1))
    items, total = timeline(session=world, contact_id=contact.id or 0, actor=user(world, "sales"))
    kinds = [(i.source, i.kind) for i in items if i.source == "consent"]
    assert sorted(kinds) == [("consent", "grant"), ("consent", "withdraw")]
    assert total >= 2


def test_named_cases_stay_off_the_timeline_for_roles_that_may_not_see_cases(
    world: Session,
) -> None:
    contact = person(world, "Ben", "Evans")
    items, _ = timeline(session=world, contact_id=contact.id or 0, actor=user(world, "manager"))
    assert all(i.source != "case" for i in items)


def test_the_importer_asks_the_consent_area_about_erased_people(world: Session) -> None:
    assert erased_identifiers in SUPPRESSION_CHECKS
    assert erased_identifiers(world, {"email": "nobody-erased@example.org"}) is None
