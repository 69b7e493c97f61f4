"""Writes that reach across ownership: consent on someone else's contact, interactions and
tasks linked to any deal, and deal imports linking to contacts the importer cannot see."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from db.auth.accounts import create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.consent.records import record_consent
from db.core.errors import Forbidden, NotFound, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import DEMO_PASSWORD, seed_users
from db.imports.batches import run_import
from db.models.auth import Role, User, UserCreate
from db.models.consent import ConsentAction, ConsentChannel, ConsentEventCreate, ConsentSource
from db.models.people import (
    Channel,
    Contact,
    Direction,
    Interaction,
    InteractionCreate,
    Purpose,
    Task,
    TaskCreate,
)
from db.models.pipeline import Deal, DealCreate
from db.people.interactions import create_task, log_interaction
from db.pipeline.commands import create_deal
from db.pipeline.setup import StageSpec, create_pipeline
from tests.integration.consent_helpers import person, purpose

# Who may change whose records: sales their own, managers their team's (North here),
# administrators everyone's; privacy officers keep consent for everyone.
TEAMMATE = "sales3"
ACTORS = ["sales", TEAMMATE, "sales2", "manager", "admin", "privacy"]
OWNERS = ["sales", TEAMMATE, "sales2"]
MAY_RECORD_CONSENT = {
    ("sales", "sales"),
    (TEAMMATE, TEAMMATE),
    ("sales2", "sales2"),
    ("manager", "sales"),
    ("manager", TEAMMATE),
    *(("admin", owner) for owner in OWNERS),
    *(("privacy", owner) for owner in OWNERS),
}


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    create_user(
        session=session,
        user_in=UserCreate(
            username=TEAMMATE,
            display_name="Tom Teammate",
            email="sales3@example.org",
            team="North",
            password=DEMO_PASSWORD,
            roles=[Role.sales],
        ),
        actor=OPERATOR,
    )
    create_pipeline(
        session=session,
        name="New business",
        currency="GBP",
        stages=[StageSpec("Lead", 10, 14), StageSpec("Qualified", 25, 14)],
        actor=OPERATOR,
    )
    return session


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def deal_of(session: Session, owner: str, contact: Contact | None, title: str = "Renewal") -> Deal:
    from db.models.pipeline import Pipeline

    pipeline = session.exec(select(Pipeline)).first()
    assert pipeline is not None
    return create_deal(
        session=session,
        deal_in=DealCreate(
            title=title,
            pipeline_id=pipeline.id or 0,
            contact_id=contact.id if contact else None,
            owner_id=user(session, owner).id,
        ),
        actor=OPERATOR,
    )


def withdrawal(contact: Contact, purpose_id: int) -> ConsentEventCreate:
    return ConsentEventCreate(
        contact_id=contact.id or 0,
        purpose_id=purpose_id,
        channel=ConsentChannel.email,
        action=ConsentAction.withdraw,
        source=ConsentSource.phone,
        occurred_at=utcnow() - timedelta(minutes=1),
    )


def call(contact: Contact, deal: Deal | None) -> InteractionCreate:
    return InteractionCreate.model_validate(
        {
            "contact_id": contact.id,
            "deal_id": deal.id if deal else None,
            "channel": Channel.phone,
            "direction": Direction.outbound,
            "purpose": Purpose.sales,
            "subject": "Follow-up",
            "occurred_at": utcnow() - timedelta(minutes=5),
        }
    )


# --- consent ------------------------------------------------------------------------


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("actor", ACTORS)
def test_consent_is_recorded_only_by_those_who_may_change_the_contact(
    world: Session, actor: str, owner: str
) -> None:
    made, _ = purpose(world)
    contact = person(world, "Ana", "Silva", owner=owner)
    attempt = withdrawal(contact, made.id or 0)
    who = user(world, actor)
    if (actor, owner) in MAY_RECORD_CONSENT:
        assert record_consent(session=world, event_in=attempt, actor=who).id is not None
    else:
        with pytest.raises((Forbidden, NotFound)):
            record_consent(session=world, event_in=attempt, actor=who)


def test_a_seller_cannot_withdraw_a_teammates_contacts_consent_they_can_read(
    world: Session,
) -> None:
    made, _ = purpose(world)
    theirs = person(world, "Ana", "Silva", owner=TEAMMATE)
    with pytest.raises(Forbidden, match="can't record consent"):
        record_consent(
            session=world, event_in=withdrawal(theirs, made.id or 0), actor=user(world, "sales")
        )


# --- interactions and tasks linked to a deal ------------------------------------------


@pytest.mark.parametrize("command", ["interaction", "task"])
def test_a_deal_link_needs_a_deal_the_actor_may_change_of_the_same_contact(
    world: Session, command: str
) -> None:
    mine = person(world, "Ana", "Silva", owner="sales")
    other_mine = person(world, "Bo", "Berg", owner="sales")
    own_deal = deal_of(world, "sales", mine)
    other_persons_deal = deal_of(world, "sales", other_mine)
    teammates_deal = deal_of(world, TEAMMATE, mine)
    other_teams_deal = deal_of(world, "sales2", None)
    sales = user(world, "sales")

    def link(deal: Deal) -> object:
        if command == "interaction":
            return log_interaction(session=world, interaction_in=call(mine, deal), actor=sales)
        return create_task(
            session=world,
            task_in=TaskCreate(
                title="Call back",
                due_on=date.today() + timedelta(days=2),
                contact_id=mine.id,
                deal_id=deal.id,
            ),
            actor=sales,
        )

    table = Interaction if command == "interaction" else Task
    # Another team's deal: as if it did not exist, with the words of a missing one.
    with pytest.raises(NotFound, match=f"There is no deal {other_teams_deal.id} that you can see"):
        link(other_teams_deal)
    with pytest.raises(NotFound, match="that you can see"):
        link(Deal(id=10_000_000, title="none", pipeline_id=0, stage_id=0))
    with pytest.raises(Forbidden):
        link(teammates_deal)
    with pytest.raises(ValidationError, match="^Deal: that deal is with another person"):
        link(other_persons_deal)
    assert world.exec(select(table)).all() == []
    link(own_deal)
    assert [row.deal_id for row in world.exec(select(table)).all()] == [own_deal.id]


def test_a_task_on_another_teams_deal_is_refused_without_a_contact_too(world: Session) -> None:
    theirs = deal_of(world, "sales2", None)
    with pytest.raises(NotFound):
        create_task(
            session=world,
            task_in=TaskCreate(title="Snoop", due_on=date.today(), deal_id=theirs.id),
            actor=user(world, "sales"),
        )


# --- deals import -------------------------------------------------------------------

DEALS = "Deal Name,Deal Stage,Pipeline,Deal owner,Contact email,Record ID\n"


def import_deals(world: Session, rows: str) -> object:
    return run_import(
        session=world,
        actor=user(world, "manager"),
        kind="deals",
        data=(DEALS + rows).encode(),
        filename="deals.csv",
        mapping=[("Contact email", "contact_email")],
    )


def test_a_deals_import_never_links_or_reveals_a_contact_the_importer_cannot_see(
    world: Session,
) -> None:
    south = person(world, "Sia", "South", owner="sales2", email="sia@example.org")
    north = person(world, "Nia", "North", owner="sales", email="nia@example.org")
    result = import_deals(
        world,
        "Hidden,Lead,New business,sales,sia@example.org,\n"
        "Missing,Lead,New business,sales,nobody@example.org,\n"
        "Seen,Lead,New business,sales,nia@example.org,\n",
    )
    deals = {d.title: d for d in world.exec(select(Deal)).all()}
    assert deals["Hidden"].contact_id is None
    assert deals["Seen"].contact_id == north.id
    reasons = [(w.row, w.reason) for w in result.warnings]  # type: ignore[attr-defined]
    assert len(reasons) == 2
    assert reasons[0][1] == reasons[1][1]  # the other team's email reads as "not found"
    assert south.id not in {d.contact_id for d in deals.values()}


def test_a_deals_import_does_not_reveal_another_teams_deal_by_its_reference(
    world: Session,
) -> None:
    hidden = deal_of(world, "sales2", None, title="South secret")
    hidden.external_ref = "REF-1"
    world.add(hidden)
    world.commit()
    result = import_deals(world, "Mine,Lead,New business,sales,,REF-1\n")
    assert result.rejected == []  # type: ignore[attr-defined]
    world.refresh(hidden)
    assert hidden.title == "South secret"
    titles = sorted(d.title for d in world.exec(select(Deal).where(Deal.external_ref == "REF-1")))
    assert titles == ["Mine", "South secret"]
