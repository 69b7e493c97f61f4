"""Organisations, contacts, interactions and tasks: rules, validation and access."""

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import Session, func, select

from db.auth.accounts import get_user_by_username
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.types import utcnow
from db.core.validation import parse_model
from db.demo.fixtures import seed_users
from db.models.auth import User
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    ContactKind,
    ContactUpdate,
    Direction,
    Interaction,
    InteractionCreate,
    OrganisationCreate,
    Purpose,
    TaskCreate,
)
from db.people.contacts import (
    ContactFilter,
    create_contact,
    create_organisation,
    find_contacts,
    get_contact,
    tags_of,
    update_contact,
)
from db.people.interactions import (
    INTERACTION_CHECKS,
    InteractionFilter,
    complete_task,
    create_task,
    list_interactions,
    log_interaction,
    overdue_tasks,
)


@pytest.fixture
def people(session: Session) -> Session:
    seed_users(session=session)
    return session


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def contact_for(session: Session, owner: str, **values: object) -> Contact:
    data: dict[str, object] = {"given_name": "Ana", "family_name": "Silva"}
    data.update(values)
    return create_contact(
        session=session, contact_in=parse_model(ContactCreate, data), actor=user(session, owner)
    )


def call(contact: Contact, **values: object) -> InteractionCreate:
    data: dict[str, object] = {
        "contact_id": contact.id,
        "channel": Channel.phone,
        "direction": Direction.inbound,
        "purpose": Purpose.service,
        "subject": "Question",
    }
    data.update(values)
    return InteractionCreate.model_validate(data)


def test_emails_and_phones_are_normalised_on_entry(people: Session) -> None:
    contact = contact_for(
        people,
        "sales",
        email="  Ana.Silva@Example.ORG ",
        phone="020 7946 0018",
        country="gb",
        tags=["VIP", " vip ", "Board"],
    )
    assert contact.email == "ana.silva@example.org"
    assert contact.phone == "+442079460018"
    assert contact.country == "GB"
    assert tags_of(session=people, contact_id=contact.id or 0) == ["board", "vip"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"email": "ana@"}, "Email"),
        ({"phone": "12"}, "Phone"),
        ({"country": "Britain"}, "Country"),
        ({"country": "gbr"}, "Country"),
        ({"kind": "alien"}, "Kind"),
        ({"given_name": "", "family_name": "  "}, "Name"),
        ({"family_name": "x" * 101}, "Family name"),
    ],
)
def test_bad_contact_details_are_refused_naming_the_field(
    people: Session, values: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=f"^{field}:"):
        contact_for(people, "sales", **values)
    assert people.exec(select(func.count()).select_from(Contact)).one() == 0


def test_sales_read_their_team_and_change_only_their_own(people: Session) -> None:
    mine = contact_for(people, "sales", family_name="Mine")
    other_team = contact_for(people, "sales2", family_name="Theirs")
    sales = user(people, "sales")
    visible, total = find_contacts(session=people, actor=sales)
    assert [c.family_name for c in visible] == ["Mine"] and total == 1
    with pytest.raises(NotFound):
        get_contact(session=people, contact_id=other_team.id or 0, actor=sales)
    manager = user(people, "manager")  # North, like sales
    colleague = contact_for(people, "manager", family_name="Colleague")
    assert get_contact(session=people, contact_id=colleague.id or 0, actor=sales)
    with pytest.raises(Forbidden):
        update_contact(
            session=people,
            contact_id=colleague.id or 0,
            patch=ContactUpdate(job_title="CEO"),
            version=1,
            actor=sales,
        )
    update_contact(
        session=people,
        contact_id=mine.id or 0,
        patch=ContactUpdate(job_title="CEO"),
        version=1,
        actor=manager,
    )


@pytest.mark.parametrize("role_user", ["reviewer", "hr"])
def test_roles_without_contact_access_are_refused(people: Session, role_user: str) -> None:
    contact_for(people, "sales")
    with pytest.raises(Forbidden):
        find_contacts(session=people, actor=user(people, role_user))


def test_privacy_and_admin_read_every_team(people: Session) -> None:
    contact_for(people, "sales")
    contact_for(people, "sales2")
    for name in ("privacy", "admin"):
        assert find_contacts(session=people, actor=user(people, name))[1] == 2


def test_a_stale_edit_is_refused_naming_who_changed_it(people: Session) -> None:
    contact = contact_for(people, "sales")
    manager = user(people, "manager")
    update_contact(
        session=people,
        contact_id=contact.id or 0,
        patch=ContactUpdate(job_title="Head of care"),
        version=1,
        actor=manager,
    )
    with pytest.raises(Conflict, match="changed by Maya Manager"):
        update_contact(
            session=people,
            contact_id=contact.id or 0,
            patch=ContactUpdate(job_title="Nurse"),
            version=1,
            actor=user(people, "sales"),
        )
    assert (
        get_contact(session=people, contact_id=contact.id or 0, actor=manager).job_title
        == "Head of care"
    )


def test_search_filters_in_sql_and_pages(people: Session) -> None:
    for i in range(7):
        contact_for(people, "sales", family_name=f"Smith{i}", kind=ContactKind.patient)
    contact_for(people, "sales", family_name="Jones", tags=["vip"])
    sales = user(people, "sales")
    page, total = find_contacts(
        session=people, actor=sales, flt=ContactFilter(query="smi"), offset=5, limit=5
    )
    assert total == 7 and [c.family_name for c in page] == ["Smith5", "Smith6"]
    assert find_contacts(session=people, actor=sales, flt=ContactFilter(tag="VIP"))[1] == 1
    assert (
        find_contacts(session=people, actor=sales, flt=ContactFilter(kind=ContactKind.patient))[1]
        == 7
    )


def test_the_timeline_is_newest_first_filterable_and_paginated(people: Session) -> None:
    contact = contact_for(people, "sales")
    sales = user(people, "sales")
    now = utcnow()
    for days, channel in [(3, Channel.email), (1, Channel.phone), (2, Channel.sms)]:
        log_interaction(
            session=people,
            actor=sales,
            interaction_in=call(contact, channel=channel, occurred_at=now - timedelta(days=days)),
        )
    rows, total = list_interactions(session=people, contact_id=contact.id or 0, actor=sales)
    assert total == 3 and [r.channel for r in rows] == ["phone", "sms", "email"]
    rows, total = list_interactions(
        session=people,
        contact_id=contact.id or 0,
        actor=sales,
        flt=InteractionFilter(channels=(Channel.email, Channel.sms)),
        limit=1,
        offset=1,
    )
    assert total == 2 and [r.channel for r in rows] == ["email"]


def test_an_interaction_in_the_future_is_refused(people: Session) -> None:
    contact = contact_for(people, "sales")
    with pytest.raises(ValidationError, match="^When:"):
        log_interaction(
            session=people,
            actor=user(people, "sales"),
            interaction_in=call(contact, occurred_at=utcnow() + timedelta(hours=2)),
        )


@pytest.fixture
def refuse_marketing() -> Iterator[None]:
    def check(session: Session, contact: Contact, item: InteractionCreate, actor: object) -> None:
        if item.purpose == Purpose.marketing and not item.override_reason:
            raise ValidationError("Purpose: no consent for marketing.", field="purpose")

    INTERACTION_CHECKS.append(check)
    yield
    INTERACTION_CHECKS.remove(check)


def test_a_registered_check_can_refuse_an_interaction_and_nothing_is_saved(
    people: Session, refuse_marketing: None
) -> None:
    contact = contact_for(people, "sales")
    sales = user(people, "sales")
    with pytest.raises(ValidationError, match="no consent"):
        log_interaction(
            session=people,
            actor=sales,
            interaction_in=call(contact, purpose=Purpose.marketing, direction=Direction.outbound),
        )
    assert people.exec(select(func.count()).select_from(Interaction)).one() == 0
    saved = log_interaction(
        session=people,
        actor=sales,
        interaction_in=call(
            contact, purpose=Purpose.marketing, override_reason="Asked for it by phone"
        ),
    )
    assert saved.override_reason == "Asked for it by phone"


def test_overdue_tasks_respect_teams_and_completing_one_clears_it(people: Session) -> None:
    contact = contact_for(people, "sales")
    sales = user(people, "sales")
    past = date.today() - timedelta(days=3)
    task = create_task(
        session=people,
        actor=sales,
        task_in=TaskCreate(title="Call back", due_on=past, contact_id=contact.id),
    )
    create_task(
        session=people,
        actor=user(people, "sales2"),
        task_in=TaskCreate(title="Elsewhere", due_on=past),
    )
    assert [t.title for t in overdue_tasks(session=people, actor=sales)] == ["Call back"]
    assert len(overdue_tasks(session=people, actor=user(people, "admin"))) == 2
    complete_task(session=people, task_id=task.id or 0, version=task.version, actor=sales)
    assert overdue_tasks(session=people, actor=sales) == []
    with pytest.raises(Conflict):
        complete_task(session=people, task_id=task.id or 0, version=task.version, actor=sales)


def test_an_organisation_must_be_visible_to_link_a_contact(people: Session) -> None:
    org = create_organisation(
        session=people,
        actor=user(people, "sales2"),
        org_in=OrganisationCreate(name="South Ltd", domain="https://www.South.example.org/about"),
    )
    assert org.domain == "south.example.org"
    with pytest.raises(NotFound):
        contact_for(people, "sales", organisation_id=org.id)


def test_a_contact_and_its_tags_are_saved_together_or_not_at_all(people: Session) -> None:
    from db.people.contacts import save_contact, set_tags

    admin = user(people, "admin")
    contact = contact_for(people, "admin", given_name="Tove", family_name="Lind")
    set_tags(session=people, contact_id=contact.id or 0, tags=["kept"], actor=admin)
    people.refresh(contact)
    with pytest.raises(ValidationError):
        save_contact(
            session=people,
            contact_id=contact.id or 0,
            patch=ContactUpdate(job_title="Nurse"),
            version=contact.version,
            tags=["x" * 500],  # a tag too long: the whole save is refused
            actor=admin,
        )
    people.rollback()
    people.expire_all()
    kept = people.get(Contact, contact.id)
    assert kept is not None and kept.job_title is None
    assert tags_of(session=people, contact_id=contact.id or 0) == ["kept"]
    saved = save_contact(
        session=people,
        contact_id=contact.id or 0,
        patch=ContactUpdate(job_title="Nurse"),
        version=kept.version,
        tags=["ward 3", "night"],
        actor=admin,
    )
    assert saved.job_title == "Nurse"
    assert tags_of(session=people, contact_id=contact.id or 0) == ["night", "ward 3"]
