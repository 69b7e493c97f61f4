"""Duplicates in the database, the check at entry, merging and undoing a merge."""

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from db.auth.accounts import get_user_by_username
from db.core.errors import Conflict, Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.duplicates.merge import (
    MERGE_PARTICIPANTS,
    MergeParticipant,
    merge_contacts,
    reference_columns,
    undo_merge,
)
from db.duplicates.report import CSV_HEADER, find_duplicate_pairs, likely_duplicates_of, pairs_csv
from db.models.auth import User
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    ContactTag,
    ContactUpdate,
    Direction,
    Interaction,
    InteractionCreate,
    Purpose,
    Task,
    TaskCreate,
)
from db.people.contacts import create_contact, get_contact, tags_of, update_contact
from db.people.interactions import create_task, log_interaction


@pytest.fixture
def people(session: Session) -> Session:
    seed_users(session=session)
    return session


def actor(session: Session, name: str = "admin") -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def contact(session: Session, **values: object) -> Contact:
    return create_contact(
        session=session, contact_in=ContactCreate.model_validate(values), actor=actor(session)
    )


def linked_pair(session: Session) -> tuple[Contact, Contact]:
    admin = actor(session)
    left = contact(
        session,
        given_name="Robert",
        family_name="Smith",
        email="rob@example.org",
        date_of_birth=date(1970, 3, 4),
        external_ref="A-1",
        tags=["vip"],
    )
    right = contact(
        session,
        given_name="Bob",
        family_name="Smtih",
        phone="+44 20 7946 0018",
        date_of_birth=date(1970, 3, 4),
        external_ref="B-9",
        tags=["newsletter", "vip"],
    )
    for who in (left, right):
        log_interaction(
            session=session,
            interaction_in=InteractionCreate(
                contact_id=who.id or 0,
                channel=Channel.phone,
                direction=Direction.inbound,
                purpose=Purpose.service,
                subject="Call",
                occurred_at=utcnow() - timedelta(days=1),
            ),
            actor=admin,
        )
    create_task(
        session=session,
        task_in=TaskCreate(title="Call back", due_on=date.today(), contact_id=right.id),
        actor=admin,
    )
    return left, right


def test_duplicates_are_found_with_reasons_and_written_as_csv(people: Session) -> None:
    left, right = linked_pair(people)
    contact(people, given_name="Grace", family_name="Hopper", email="grace@example.org")
    pairs = find_duplicate_pairs(session=people, actor=actor(people))
    assert [(p.left_id, p.right_id) for p in pairs] == [(left.id, right.id)]
    assert "given name is a nickname" in pairs[0].reasons
    assert "same date of birth" in pairs[0].reasons
    lines = pairs_csv(pairs).splitlines()
    assert lines[0] == ",".join(CSV_HEADER)
    assert lines[1].startswith(f"{left.id},A-1,{right.id},B-9,")


def test_a_new_contact_that_duplicates_an_existing_one_shows_candidates(
    people: Session,
) -> None:
    left, _ = linked_pair(people)
    found = likely_duplicates_of(
        session=people,
        candidate=ContactCreate(given_name="Rob", family_name="Smith", email="ROB@example.org"),
        actor=actor(people),
    )
    assert found and found[0].contact.id == left.id and "same email" in found[0].reasons
    nobody = likely_duplicates_of(
        session=people,
        candidate=ContactCreate(given_name="Ada", family_name="Lovelace"),
        actor=actor(people),
    )
    assert nobody == []


def test_a_merge_keeps_every_linked_row_and_leaves_a_tombstone(people: Session) -> None:
    left, right = linked_pair(people)
    assert left.id and right.id
    links_before = {
        f"{t.name}.{c}": people.exec(select(func.count()).select_from(t)).one()
        for t, c in reference_columns()
    }
    merge_contacts(
        session=people,
        survivor_id=left.id,
        merged_id=right.id,
        actor=actor(people),
        choices={"phone": "merged"},
    )
    people.expire_all()
    assert people.exec(select(func.count()).select_from(Interaction)).one() == 2
    assert all(i.contact_id == left.id for i in people.exec(select(Interaction)))
    assert people.exec(select(Task)).one().contact_id == left.id
    assert tags_of(session=people, contact_id=left.id) == ["newsletter", "vip"]
    assert people.exec(select(ContactTag).where(ContactTag.contact_id == right.id)).all() == []
    survivor = people.get(Contact, left.id)
    assert survivor is not None and survivor.phone == "+442079460018"
    assert survivor.given_name == "Robert"
    # The merged record stays, pointing at the survivor; its reference still resolves.
    tombstone = people.get(Contact, right.id)
    assert tombstone is not None and tombstone.merged_into_id == left.id
    assert get_contact(session=people, contact_id=right.id, actor=actor(people)).id == left.id
    for t, c in reference_columns():
        if t.name != "contact_tag":
            total = people.exec(select(func.count()).select_from(t)).one()
            assert total == links_before[f"{t.name}.{c}"]
    assert find_duplicate_pairs(session=people, actor=actor(people)) == []


def test_a_merge_is_undone_from_its_audit_entry(people: Session) -> None:
    left, right = linked_pair(people)
    assert left.id and right.id
    event = merge_contacts(
        session=people, survivor_id=left.id, merged_id=right.id, actor=actor(people)
    )
    details = json.loads(event.details)
    assert details["moved"]["interaction.contact_id"] and details["moved"]["task.contact_id"]
    undo_merge(session=people, event_id=event.seq, actor=actor(people))
    people.expire_all()
    restored = people.get(Contact, right.id)
    assert restored is not None and restored.merged_into_id is None
    assert people.exec(select(Task)).one().contact_id == right.id
    owners = sorted(i.contact_id for i in people.exec(select(Interaction)))
    assert owners == sorted([left.id, right.id])
    assert tags_of(session=people, contact_id=left.id) == ["vip"]
    assert tags_of(session=people, contact_id=right.id) == ["newsletter", "vip"]
    with pytest.raises(Conflict, match="already undone"):
        undo_merge(session=people, event_id=event.seq, actor=actor(people))


def test_a_merge_is_not_undone_after_either_record_changed(people: Session) -> None:
    left, right = linked_pair(people)
    assert left.id and right.id
    event = merge_contacts(
        session=people, survivor_id=left.id, merged_id=right.id, actor=actor(people)
    )
    survivor = people.get(Contact, left.id)
    assert survivor is not None
    update_contact(
        session=people,
        contact_id=left.id,
        patch=ContactUpdate(job_title="Chair"),
        version=survivor.version,
        actor=actor(people),
    )
    with pytest.raises(Conflict, match="changed after the merge"):
        undo_merge(session=people, event_id=event.seq, actor=actor(people))


def test_merge_participants_run_inside_the_merge_and_its_undo(people: Session) -> None:
    calls: list[str] = []

    def on_merge(_s: Session, survivor: int, merged: int, _a: object) -> dict[str, object]:
        calls.append(f"merge {merged}->{survivor}")
        return {"state": "withdrawn"}

    def on_undo(
        _s: Session, survivor: int, merged: int, part: dict[str, object], _a: object
    ) -> None:
        calls.append(f"undo {part['state']}")

    MERGE_PARTICIPANTS.append(MergeParticipant("consent", on_merge, on_undo))
    try:
        left, right = linked_pair(people)
        assert left.id and right.id
        event = merge_contacts(
            session=people, survivor_id=left.id, merged_id=right.id, actor=actor(people)
        )
        undo_merge(session=people, event_id=event.seq, actor=actor(people))
    finally:
        MERGE_PARTICIPANTS.pop()
    assert calls == [f"merge {right.id}->{left.id}", "undo withdrawn"]


def test_sales_cannot_merge(people: Session) -> None:
    left, right = linked_pair(people)
    with pytest.raises(Forbidden):
        merge_contacts(
            session=people,
            survivor_id=left.id or 0,
            merged_id=right.id or 0,
            actor=actor(people, "sales"),
        )


def test_a_stale_pair_is_refused(people: Session) -> None:
    left, right = linked_pair(people)
    with pytest.raises(Conflict):
        merge_contacts(
            session=people,
            survivor_id=left.id or 0,
            merged_id=right.id or 0,
            actor=actor(people),
            versions=(left.version + 1, right.version),
        )


def test_duplicate_organisations_are_listed_with_reasons(people: Session) -> None:
    from db.duplicates.report import find_duplicate_organisations
    from db.models.people import OrganisationCreate
    from db.people.contacts import create_organisation

    admin = actor(people)
    for name, domain in (
        ("Kestrel Health Ltd", "kestrel.example"),
        ("Kestrel Health", "kestrel.example"),
        ("Harbour Foods", None),
    ):
        create_organisation(
            session=people, org_in=OrganisationCreate(name=name, domain=domain), actor=admin
        )
    pairs = find_duplicate_organisations(session=people, actor=admin)
    assert [(p.left_name, p.right_name) for p in pairs] == [
        ("Kestrel Health Ltd", "Kestrel Health")
    ]
    assert "same domain" in pairs[0].reasons
