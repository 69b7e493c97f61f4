"""Importing deals and employees through the shared machinery: formats, links, bad rows,
update-by, all-or-nothing, dry runs and revert."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, col, func, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import Conflict, Forbidden, NotFound
from db.demo.fixtures import seed_users
from db.imports.batches import list_batches, revert_batch, run_import
from db.imports.export import export_csv
from db.models.auth import User
from db.models.people import Organisation
from db.models.pipeline import Deal, DealStatus, Stage, StageChange
from db.models.surveys import Employee, EmployeeCreate
from db.pipeline.commands import move_deal
from db.pipeline.setup import StageSpec, create_pipeline
from db.surveys.employees import create_employee

HUBSPOT_DEALS = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Pipeline,Deal owner,Associated Company\n"
    "9001,Kestrel renewal,Qualified,12500,2026-03-31,New business,sales@example.org,"
    "Kestrel Health\n"
    "9002,Heron pilot,Closed Won,4000.50,2025-12-01,New business,manager,heron.example\n"
    "9003,Owl expansion,Somewhere else,100,2026-01-01,New business,sales,\n"
    "9004,Wren upsell,Lead,-5,2026-01-01,New business,sales,\n"
    "9005,Finch deal,Lead,300,2026-02-30,New business,nobody@example.org,\n"
)
SALESFORCE_OPPORTUNITIES = (
    "Id,Name,StageName,Amount,Probability,CloseDate,AccountId,OwnerId\n"
    "0065g00000Aa1,Kestrel framework,Proposal,25000,60,2026-06-30,Kestrel Health,"
    "sales@example.org\n"
    "0065g00000Aa2,Lost tender,Closed Lost,800,0,2025-10-01,0015g00000XyZaB,sales\n"
    "0065g00000Aa3,,Lead,10,10,2026-01-01,,sales\n"
)
EMPLOYEES = (
    "name,email,department,team,location,manager_email,start_date,employment_type\n"
    "Lena Boss,lena@example.org,Care,North,Leeds,,2019-04-01,full-time\n"
    "Omar Hale,OMAR@example.org,Care,North,Leeds,lena@example.org,2021-09-13,Part time\n"
    "No Email,,Care,North,Leeds,,2020-01-01,\n"
    "Bad Start,bad@example.org,Care,North,Leeds,,31/02/2020,\n"
    "Kai Ng,kai@example.org,Finance,South,York,not-an-email,2022-01-10,\n"
)


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    create_pipeline(
        session=session,
        name="New business",
        currency="GBP",
        stages=[
            StageSpec("Lead", 10, 14),
            StageSpec("Qualified", 25, 14),
            StageSpec("Proposal", 50, 10),
        ],
        actor=OPERATOR,
    )
    session.add(Organisation(name="Heron Trust", domain="heron.example"))
    session.commit()
    return session


def user(session: Session, name: str = "admin") -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def deal(session: Session, ref: str) -> Deal:
    return session.exec(select(Deal).where(Deal.external_ref == ref)).one()


def stage_name(session: Session, stage_id: int) -> str:
    stage = session.get(Stage, stage_id)
    assert stage is not None
    return stage.name


def count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_hubspot_deals_export_links_stages_owners_and_organisations(world: Session) -> None:
    result = run_import(
        session=world, actor=user(world), kind="deals", data=HUBSPOT_DEALS.encode(), filename="d"
    )
    assert result.source_format == "hubspot"
    assert result.created == 3
    assert [(p.row, p.column) for p in result.rejected] == [(4, "stage"), (5, "amount")]
    assert (
        "Somewhere else" in result.rejected[0].reason and "Qualified" in result.rejected[0].reason
    )
    assert "negative" in result.rejected[1].reason
    assert {(p.row, p.column) for p in result.warnings} == {(6, "owner"), (6, "expected_close")}
    renewal = deal(world, "9001")
    assert stage_name(world, renewal.stage_id) == "Qualified"
    assert renewal.owner_id == user(world, "sales").id
    assert (renewal.amount, renewal.expected_close) == (Decimal("12500.00"), date(2026, 3, 31))
    org = world.get(Organisation, renewal.organisation_id)
    assert org is not None and org.name == "Kestrel Health"
    pilot = deal(world, "9002")
    heron = world.exec(select(Organisation).where(Organisation.domain == "heron.example")).one()
    assert pilot.organisation_id == heron.id, "linked by domain, not created again"
    assert pilot.status == DealStatus.won and pilot.closed_at is not None
    assert pilot.owner_id == user(world, "manager").id, "owner found by username"
    finch = deal(world, "9005")
    assert finch.owner_id == user(world).id and finch.expected_close is None
    events = world.exec(select(StageChange.event).where(StageChange.deal_id == pilot.id)).all()
    assert sorted(events) == ["created", "won"]


def test_a_salesforce_opportunity_export_is_detected_and_mapped(world: Session) -> None:
    result = run_import(
        session=world,
        actor=user(world),
        kind="deals",
        data=SALESFORCE_OPPORTUNITIES.encode(),
        filename="opps.csv",
    )
    assert result.source_format == "salesforce"
    assert result.created == 2
    assert [(p.row, p.column) for p in result.rejected] == [(4, "title")]
    framework = deal(world, "0065g00000Aa1")
    assert framework.probability_override == 60
    assert stage_name(world, framework.stage_id) == "Proposal"
    tender = deal(world, "0065g00000Aa2")
    assert tender.status == DealStatus.lost and tender.organisation_id is None
    assert any(p.column == "organisation" for p in result.warnings), "an account id is unlinked"


def test_importing_deals_again_updates_by_external_ref_and_revert_restores(
    world: Session,
) -> None:
    admin = user(world)
    first = run_import(
        session=world, actor=admin, kind="deals", data=HUBSPOT_DEALS.encode(), filename="d"
    )
    changed = HUBSPOT_DEALS.replace("12500,2026-03-31", "13000,2026-04-30").replace(
        "9001,Kestrel renewal,Qualified", "9001,Kestrel renewal,Lead"
    )
    second = run_import(
        session=world,
        actor=admin,
        kind="deals",
        data=changed.encode(),
        filename="d2",
        update_by="external_ref",
    )
    assert (second.created, second.updated) == (0, 1)
    renewal = deal(world, "9001")
    assert (renewal.amount, stage_name(world, renewal.stage_id)) == (Decimal("13000.00"), "Lead")
    assert count(world, Deal) == 3
    revert_batch(session=world, batch_id=second.batch_id or 0, actor=admin)
    world.expire_all()
    renewal = deal(world, "9001")
    assert renewal.amount == Decimal("12500.00")
    assert renewal.expected_close == date(2026, 3, 31)
    assert stage_name(world, renewal.stage_id) == "Qualified"
    assert (
        world.exec(
            select(func.count()).select_from(StageChange).where(StageChange.deal_id == renewal.id)
        ).one()
        == 1
    ), "the move the import made is gone with it"
    revert_batch(session=world, batch_id=first.batch_id or 0, actor=admin)
    assert count(world, Deal) == 0
    assert count(world, StageChange) == 0
    assert world.exec(select(Organisation.name)).all() == ["Heron Trust"], "created org removed"


def test_a_deal_batch_is_not_reverted_over_a_later_move(world: Session) -> None:
    admin = user(world)
    result = run_import(
        session=world, actor=admin, kind="deals", data=HUBSPOT_DEALS.encode(), filename="d"
    )
    renewal = deal(world, "9001")
    lead = world.exec(select(Stage).where(Stage.name == "Lead")).one()
    move_deal(
        session=world,
        deal_id=renewal.id or 0,
        stage_id=lead.id or 0,
        version=renewal.version,
        actor=admin,
    )
    with pytest.raises(Conflict, match="Nothing was reverted"):
        revert_batch(session=world, batch_id=result.batch_id or 0, actor=admin)
    world.rollback()
    assert count(world, Deal) == 3


def test_all_or_nothing_and_dry_run_leave_no_deal_behind(world: Session) -> None:
    admin = user(world)
    strict = run_import(
        session=world,
        actor=admin,
        kind="deals",
        data=HUBSPOT_DEALS.encode(),
        filename="d",
        all_or_nothing=True,
    )
    assert not strict.saved and strict.created == 3 and len(strict.rejected) == 2
    dry = run_import(
        session=world,
        actor=admin,
        kind="deals",
        data=HUBSPOT_DEALS.encode(),
        filename="d",
        dry_run=True,
    )
    assert dry.dry_run and dry.created == 3
    assert count(world, Deal) == 0
    assert count(world, StageChange) == 0
    assert world.exec(select(Organisation.name)).all() == ["Heron Trust"]


def test_an_exported_deal_file_imports_back_into_the_same_deals(world: Session) -> None:
    admin = user(world)
    run_import(session=world, actor=admin, kind="deals", data=HUBSPOT_DEALS.encode(), filename="d")
    exported = export_csv(session=world, actor=admin, kind="deals")
    assert exported.splitlines()[0].startswith(b"external_ref,title,pipeline,stage,status")
    again = run_import(
        session=world,
        actor=admin,
        kind="deals",
        data=exported,
        filename="deals.csv",
        update_by="external_ref",
    )
    assert again.source_format == "rapport"
    assert (again.created, again.updated, again.rejected) == (0, 0, [])
    assert count(world, Deal) == 3


def test_sales_staff_cannot_import_deals(world: Session) -> None:
    with pytest.raises(Forbidden):
        run_import(
            session=world,
            actor=user(world, "sales"),
            kind="deals",
            data=HUBSPOT_DEALS.encode(),
            filename="d",
        )


def test_employees_import_into_the_directory_with_bad_rows_reported(world: Session) -> None:
    result = run_import(
        session=world,
        actor=user(world, "hr"),
        kind="employees",
        data=EMPLOYEES.encode(),
        filename="e",
    )
    assert result.source_format == "rapport"
    assert result.created == 3
    assert [(p.row, p.column) for p in result.rejected] == [(4, "email"), (5, "start_date")]
    assert [(p.row, p.column) for p in result.warnings] == [(6, "manager_email")]
    omar = world.exec(select(Employee).where(Employee.email == "omar@example.org")).one()
    assert (omar.manager_email, omar.employment_type) == ("lena@example.org", "part-time")
    kai = world.exec(select(Employee).where(Employee.email == "kai@example.org")).one()
    assert kai.manager_email is None


def test_employees_update_by_email_and_leavers_are_kept(world: Session) -> None:
    hr = user(world, "hr")
    leaver = create_employee(
        session=world,
        employee_in=EmployeeCreate(
            name="Old Timer",
            email="old@example.org",
            department="Care",
            team="South",
            location="Hull",
            start_date=date(2010, 1, 1),
        ),
        actor=hr,
    )
    leaver.left_on = date(2024, 5, 31)
    world.add(leaver)
    world.commit()
    first = run_import(
        session=world, actor=hr, kind="employees", data=EMPLOYEES.encode(), filename="e"
    )
    moved = (
        "Name,Email,Department,Team,Location,Manager,Start date\n"
        "Omar Hale,omar@example.org,Care,South,Leeds,lena@example.org,2021-09-13\n"
        "Old Timer,old@example.org,Care,North,Hull,,2010-01-01\n"
    )
    second = run_import(
        session=world, actor=hr, kind="employees", data=moved.encode(), filename="e2"
    )
    assert (second.created, second.updated) == (0, 2)
    world.expire_all()
    omar = world.exec(select(Employee).where(Employee.email == "omar@example.org")).one()
    assert omar.team == "South"
    old = world.exec(select(Employee).where(Employee.email == "old@example.org")).one()
    assert (old.team, old.left_on) == ("North", date(2024, 5, 31)), "still a leaver"
    assert count(world, Employee) == 4, "nobody missing from the file was removed"
    revert_batch(session=world, batch_id=second.batch_id or 0, actor=hr)
    world.expire_all()
    assert world.exec(select(Employee.team).where(Employee.email == "omar@example.org")).one() == (
        "North"
    )
    revert_batch(session=world, batch_id=first.batch_id or 0, actor=hr)
    assert world.exec(select(Employee.email)).all() == ["old@example.org"]


def test_update_by_none_refuses_an_employee_already_in_the_directory(world: Session) -> None:
    hr = user(world, "hr")
    run_import(session=world, actor=hr, kind="employees", data=EMPLOYEES.encode(), filename="e")
    again = run_import(
        session=world,
        actor=hr,
        kind="employees",
        data=EMPLOYEES.encode(),
        filename="e",
        update_by="none",
        all_or_nothing=True,
    )
    assert not again.saved
    assert ("lena@example.org" in again.rejected[0].reason) and again.rejected[0].row == 2


@pytest.mark.parametrize(
    ("username", "kind", "allowed"),
    [
        ("hr", "employees", True),
        ("admin", "employees", True),
        ("manager", "employees", False),
        ("privacy", "employees", False),
        ("hr", "contacts", False),
        ("hr", "deals", False),
        ("manager", "deals", True),
    ],
)
def test_who_may_import_each_kind(world: Session, username: str, kind: str, allowed: bool) -> None:
    data = EMPLOYEES if kind == "employees" else HUBSPOT_DEALS
    if kind == "contacts":
        data = "given_name,family_name\nAna,Silva\n"
    call = lambda: run_import(  # noqa: E731
        session=world, actor=user(world, username), kind=kind, data=data.encode(), filename="f"
    )
    if allowed:
        assert call().saved
    else:
        with pytest.raises(Forbidden):
            call()


def test_hr_sees_and_reverts_only_employee_batches(world: Session) -> None:
    hr, admin = user(world, "hr"), user(world)
    deals = run_import(
        session=world, actor=admin, kind="deals", data=HUBSPOT_DEALS.encode(), filename="d"
    )
    people = run_import(
        session=world, actor=hr, kind="employees", data=EMPLOYEES.encode(), filename="e"
    )
    assert [b.id for b in list_batches(session=world, actor=hr)] == [people.batch_id]
    assert {b.id for b in list_batches(session=world, actor=admin)} == {
        deals.batch_id,
        people.batch_id,
    }
    with pytest.raises(NotFound):
        revert_batch(session=world, batch_id=deals.batch_id or 0, actor=hr)
    assert list_batches(session=world, actor=user(world, "manager"))[0].id == deals.batch_id
    assert world.exec(select(func.count()).select_from(Deal).where(col(Deal.id) > 0)).one() == 3
