"""Duplicate organisations: found, merged without losing a contact or deal, tombstoned,
audit-logged, and undone."""

import json
from decimal import Decimal

import pytest
from sqlmodel import Session, func, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import Conflict, Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.duplicates.org_merge import (
    merge_organisations,
    recent_organisation_merges,
    undo_organisation_merge,
)
from db.duplicates.report import find_duplicate_organisations
from db.imports.batches import run_import
from db.imports.export import export_csv
from db.models.audit import AuditEvent
from db.models.auth import User
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    Direction,
    InteractionCreate,
    Organisation,
    OrganisationUpdate,
    Purpose,
)
from db.models.pipeline import Deal, DealCreate
from db.people.contacts import create_contact, find_organisations, update_organisation
from db.people.interactions import log_interaction
from db.people.timeline import timeline
from db.pipeline.commands import create_deal
from db.pipeline.setup import StageSpec, create_pipeline


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    create_pipeline(
        session=session,
        name="New business",
        stages=[StageSpec("Lead", 10, 14), StageSpec("Won over", 90, 5)],
        actor=OPERATOR,
    )
    return session


def user(session: Session, name: str = "admin") -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def twins(session: Session) -> tuple[Organisation, Organisation]:
    """One organisation entered twice, each copy with its own contacts, deal and history."""
    admin = user(session)
    left = Organisation(name="Kestrel Health Ltd", domain="kestrel.example", owner_id=admin.id)
    right = Organisation(name="The Kestrel Health", postcode="LS1 4AP", owner_id=admin.id)
    session.add(left)
    session.add(right)
    session.commit()
    for org, given in ((left, "Ana"), (right, "Ben"), (right, "Cy")):
        person = create_contact(
            session=session,
            contact_in=ContactCreate(given_name=given, family_name="Silva", organisation_id=org.id),
            actor=admin,
        )
        log_interaction(
            session=session,
            interaction_in=InteractionCreate(
                contact_id=person.id or 0,
                channel=Channel.phone,
                direction=Direction.outbound,
                purpose=Purpose.service,
                subject=f"Call with {given}",
                occurred_at=utcnow(),
            ),
            actor=admin,
        )
    from db.models.pipeline import Pipeline

    pipeline_id = session.exec(select(Pipeline.id)).one()
    for org in (left, right):
        create_deal(
            session=session,
            deal_in=DealCreate(
                title=f"Deal with {org.name}",
                pipeline_id=pipeline_id,
                organisation_id=org.id,
                amount=Decimal("100"),
            ),
            actor=admin,
        )
    return left, right


def test_duplicate_organisations_are_found_by_name_without_legal_suffixes(
    world: Session,
) -> None:
    left, right = twins(world)
    world.add(Organisation(name="Heron Trust"))
    world.commit()
    pairs = find_duplicate_organisations(session=world, actor=user(world))
    assert [(p.left_id, p.right_id) for p in pairs] == [(left.id, right.id)]
    assert "same name" in pairs[0].reasons


def test_merging_organisations_keeps_every_contact_deal_and_timeline_item(
    world: Session,
) -> None:
    left, right = twins(world)
    admin = user(world)
    contacts_before = world.exec(select(Contact.id)).all()
    event = merge_organisations(
        session=world,
        survivor_id=left.id or 0,
        merged_id=right.id or 0,
        actor=admin,
        choices={"postcode": "merged"},
    )
    world.expire_all()
    assert sorted(world.exec(select(Contact.organisation_id)).all()) == [left.id] * 3
    assert sorted(world.exec(select(Deal.organisation_id)).all()) == [left.id] * 2
    assert sorted(world.exec(select(Contact.id)).all()) == sorted(contacts_before)
    for person in world.exec(select(Contact)).all():
        items, _total = timeline(session=world, contact_id=person.id or 0, actor=admin)
        assert any(i.title == f"Call with {person.given_name}" for i in items)
    survivor = world.get(Organisation, left.id)
    tombstone = world.get(Organisation, right.id)
    assert survivor is not None and tombstone is not None
    assert (survivor.name, survivor.domain, survivor.postcode) == (
        "Kestrel Health Ltd",
        "kestrel.example",
        "LS1 4AP",
    )
    assert tombstone.merged_into_id == left.id, "the loser stays as a tombstone"
    assert event.action == "organisation.merge"
    details = json.loads(event.details)
    assert sorted(details["moved"]["contact.organisation_id"]) == sorted(
        world.exec(select(Contact.id).where(Contact.given_name != "Ana")).all()
    )
    assert len(details["moved"]["deal.organisation_id"]) == 1
    assert world.exec(select(AuditEvent).where(AuditEvent.seq == event.seq)).one()
    listed, total = find_organisations(session=world, actor=admin)
    assert [o.id for o in listed] == [left.id] and total == 1
    assert b"The Kestrel Health" not in export_csv(session=world, actor=admin, kind="organizations")
    assert find_duplicate_organisations(session=world, actor=admin) == []


def test_an_import_naming_a_merged_organisation_links_to_the_survivor(world: Session) -> None:
    left, right = twins(world)
    admin = user(world)
    merge_organisations(
        session=world, survivor_id=left.id or 0, merged_id=right.id or 0, actor=admin
    )
    result = run_import(
        session=world,
        actor=admin,
        kind="contacts",
        data=b"given_name,family_name,organisation\nDee,Okafor,The Kestrel Health\n",
        filename="c.csv",
    )
    assert result.created == 1
    dee = world.exec(select(Contact).where(Contact.given_name == "Dee")).one()
    assert dee.organisation_id == left.id
    assert world.exec(select(func.count()).select_from(Organisation)).one() == 2


def test_undoing_an_organisation_merge_puts_everything_back(world: Session) -> None:
    left, right = twins(world)
    admin = user(world)
    before = {c.id: c.organisation_id for c in world.exec(select(Contact)).all()}
    event = merge_organisations(
        session=world, survivor_id=left.id or 0, merged_id=right.id or 0, actor=admin
    )
    entries = recent_organisation_merges(session=world, actor=admin)
    assert [(e.survivor_id, e.merged_id, e.undone) for e in entries] == [(left.id, right.id, False)]
    undo_organisation_merge(session=world, event_id=event.seq or 0, actor=admin)
    world.expire_all()
    assert {c.id: c.organisation_id for c in world.exec(select(Contact)).all()} == before
    assert sorted(world.exec(select(Deal.organisation_id)).all()) == sorted([left.id, right.id])
    restored = world.get(Organisation, right.id)
    assert restored is not None and restored.merged_into_id is None
    assert recent_organisation_merges(session=world, actor=admin)[0].undone
    with pytest.raises(Conflict, match="already undone"):
        undo_organisation_merge(session=world, event_id=event.seq or 0, actor=admin)


def test_an_organisation_merge_is_not_undone_over_a_later_edit(world: Session) -> None:
    left, right = twins(world)
    admin = user(world)
    event = merge_organisations(
        session=world, survivor_id=left.id or 0, merged_id=right.id or 0, actor=admin
    )
    survivor = world.get(Organisation, left.id)
    assert survivor is not None
    update_organisation(
        session=world,
        org_id=survivor.id or 0,
        patch=OrganisationUpdate(industry="Health"),
        version=survivor.version,
        actor=admin,
    )
    with pytest.raises(Conflict, match="Nothing was undone"):
        undo_organisation_merge(session=world, event_id=event.seq or 0, actor=admin)


def test_a_tombstone_cannot_be_merged_again_and_sales_cannot_merge(world: Session) -> None:
    left, right = twins(world)
    admin = user(world)
    with pytest.raises(Forbidden):
        merge_organisations(
            session=world,
            survivor_id=left.id or 0,
            merged_id=right.id or 0,
            actor=user(world, "sales"),
        )
    merge_organisations(
        session=world, survivor_id=left.id or 0, merged_id=right.id or 0, actor=admin
    )
    with pytest.raises(Conflict, match="already merged"):
        merge_organisations(
            session=world, survivor_id=right.id or 0, merged_id=left.id or 0, actor=admin
        )
    assert world.exec(select(func.count()).select_from(Deal)).one() == 2
