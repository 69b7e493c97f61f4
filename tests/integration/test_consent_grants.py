"""Who may record that a person agreed: a salesperson cannot grant consent for their own
contact to get a marketing message past the check."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from db.consent.marketing import ConsentRefused
from db.consent.records import record_consent
from db.core.errors import Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.consent import ConsentAction, ConsentChannel, ConsentEventCreate, ConsentSource
from db.models.people import Channel, Direction, InteractionCreate, Purpose
from db.people.interactions import log_interaction
from tests.integration.consent_helpers import person, purpose, user


def marketing_email(contact_id: int) -> InteractionCreate:
    return InteractionCreate.model_validate(
        {
            "contact_id": contact_id,
            "channel": Channel.email,
            "direction": Direction.outbound,
            "purpose": Purpose.marketing,
            "subject": "Spring newsletter",
        }
    )


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def said(
    contact_id: int, purpose_id: int, action: ConsentAction, notice_id: int | None = None
) -> ConsentEventCreate:
    return ConsentEventCreate(
        contact_id=contact_id,
        purpose_id=purpose_id,
        channel=ConsentChannel.email,
        action=action,
        notice_id=notice_id,
        source=ConsentSource.phone,
        evidence="Said so on the phone",
        occurred_at=utcnow() - timedelta(minutes=1),
    )


@pytest.mark.parametrize("who", ["sales", "manager", "admin"])
def test_only_a_privacy_officer_records_a_grant_even_for_a_contact_one_owns(
    world: Session, who: str
) -> None:
    made, notice = purpose(world)
    mine = person(world, "Ana", "Silva", owner="sales")
    grant = said(mine.id or 0, made.id or 0, ConsentAction.grant, notice.id)
    with pytest.raises(Forbidden, match="Only a privacy officer records"):
        record_consent(session=world, event_in=grant, actor=user(world, who))
    # The check still refuses the salesperson's marketing email: nothing was recorded.
    with pytest.raises(ConsentRefused, match="has never agreed to marketing"):
        log_interaction(
            session=world, interaction_in=marketing_email(mine.id or 0), actor=user(world, "sales")
        )
    assert record_consent(session=world, event_in=grant, actor=user(world, "privacy")).id


def test_the_salesperson_still_records_a_withdrawal_and_an_objection_at_once(
    world: Session,
) -> None:
    made, _ = purpose(world)
    mine = person(world, "Ana", "Silva", owner="sales")
    seller = user(world, "sales")
    for action in (ConsentAction.withdraw, ConsentAction.object):
        event = record_consent(
            session=world, event_in=said(mine.id or 0, made.id or 0, action), actor=seller
        )
        assert event.action == action
