"""Property-based, on the database: random input to every form's command and to the
public lookups either works or is refused with a domain error, and a refusal changes
nothing that was saved.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from db.auth.accounts import create_user, get_user_by_username, update_user
from db.auth.actor import OPERATOR
from db.cases.intake import NOT_RECOGNISED, follow_up, reporter_reply, submit_concern
from db.cases.welfare import open_welfare_case
from db.consent.records import create_purpose, record_consent, update_purpose
from db.consent.requests import register_request
from db.core.errors import DomainError
from db.core.validation import parse_model
from db.demo.fixtures import seed_users
from db.imports.batches import run_import
from db.models.auth import User, UserCreate, UserUpdate
from db.models.cases import ConcernCreate, WelfareCreate
from db.models.consent import (
    ConsentEventCreate,
    ConsentPurpose,
    ConsentPurposeCreate,
    ConsentPurposeUpdate,
    PrivacyRequestCreate,
)
from db.models.people import (
    Contact,
    ContactCreate,
    ContactUpdate,
    InteractionCreate,
    Organisation,
    OrganisationCreate,
    OrganisationUpdate,
    TaskCreate,
)
from db.models.pipeline import Deal, DealCreate, DealUpdate
from db.models.surveys import (
    ActionPlanCreate,
    Employee,
    EmployeeCreate,
    EmployeeUpdate,
    SurveyCreate,
    SurveyResponse,
)
from db.people.contacts import (
    create_contact,
    create_organisation,
    update_contact,
    update_organisation,
)
from db.people.interactions import create_task, log_interaction
from db.pipeline.commands import create_deal, update_deal
from db.pipeline.setup import StageSpec, create_pipeline
from db.surveys.actions import create_action
from db.surveys.answers import open_link, submit_answers
from db.surveys.builder import create_survey
from db.surveys.distribution import issue_links, open_survey
from db.surveys.employees import create_employee, update_employee

TODAY = date.today()


def committed_rows(engine: Engine) -> dict[str, int]:
    """Rows per table as another connection sees them: what is saved, not what is pending."""
    with Session(engine) as other:
        return {
            table.name: int(other.exec(select(func.count()).select_from(table)).one())  # type: ignore[call-overload]
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """Users and one record of each kind the forms refer to."""
    seed_users(session=session)
    users = {
        name: get_user_by_username(session=session, username=name)
        for name in ("admin", "manager", "sales", "reviewer", "hr", "privacy")
    }
    org = create_organisation(
        session=session, org_in=OrganisationCreate(name="Kestrel Health"), actor=users["sales"]
    )
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva", email="ana@example.org"),
        actor=users["sales"],
    )
    pipeline = create_pipeline(
        session=session,
        name="New business",
        stages=[StageSpec("Lead", 10, 7), StageSpec("Won?", 60, None)],
        actor=OPERATOR,
    )
    deal = create_deal(
        session=session,
        deal_in=DealCreate(title="Care records", pipeline_id=pipeline.id or 0),
        actor=users["sales"],
    )
    purpose = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(code="news", name="Newsletter"),
        actor=users["privacy"],
    )
    employee = create_employee(
        session=session,
        employee_in=EmployeeCreate(
            name="Pat",
            email="pat@example.org",
            department="Sales",
            team="North",
            location="Leeds",
            start_date=TODAY - timedelta(days=300),
        ),
        actor=users["hr"],
    )
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(title="Pulse", opens_on=TODAY, closes_on=TODAY, template="pulse"),
        actor=users["hr"],
    )
    return {
        "users": users,
        "org": org.id,
        "contact": contact.id,
        "pipeline": pipeline.id,
        "deal": deal.id,
        "purpose": purpose.id,
        "employee": employee.id,
        "survey": survey.id,
    }


def version_of(session: Session, model: type[Any], row_id: int) -> int:
    session.expire_all()
    row = session.get(model, row_id)
    assert row is not None
    return int(row.version)


Run = Callable[[Session, dict[str, Any], Any], object]


def patching(
    command: Callable[..., object], id_name: str, model: type[Any], key: str, role: str
) -> Run:
    """Run `command` as an update of the world's `key` row by `role`, at its current version."""

    def run(s: Session, w: dict[str, Any], m: Any) -> object:
        return command(
            session=s,
            **{id_name: w[key]},
            patch=m,
            version=version_of(s, model, w[key]),
            actor=w["users"][role],
        )

    return run


FORMS: dict[type[SQLModel], tuple[Callable[[dict[str, Any]], dict[str, Any]], Run]] = {
    OrganisationCreate: (
        lambda w: {"name": "Acme"},
        lambda s, w, m: create_organisation(session=s, org_in=m, actor=w["users"]["sales"]),
    ),
    OrganisationUpdate: (
        lambda w: {},
        patching(update_organisation, "org_id", Organisation, "org", "sales"),
    ),
    ContactCreate: (
        lambda w: {"given_name": "Ben", "organisation_id": w["org"]},
        lambda s, w, m: create_contact(session=s, contact_in=m, actor=w["users"]["sales"]),
    ),
    ContactUpdate: (
        lambda w: {},
        patching(update_contact, "contact_id", Contact, "contact", "sales"),
    ),
    InteractionCreate: (
        lambda w: {
            "contact_id": w["contact"],
            "channel": "phone",
            "direction": "outbound",
            "purpose": "service",
        },
        lambda s, w, m: log_interaction(session=s, interaction_in=m, actor=w["users"]["sales"]),
    ),
    TaskCreate: (
        lambda w: {"title": "Call back", "due_on": TODAY, "contact_id": w["contact"]},
        lambda s, w, m: create_task(session=s, task_in=m, actor=w["users"]["sales"]),
    ),
    DealCreate: (
        lambda w: {"title": "Renewal", "pipeline_id": w["pipeline"], "amount": "100"},
        lambda s, w, m: create_deal(session=s, deal_in=m, actor=w["users"]["sales"]),
    ),
    DealUpdate: (
        lambda w: {},
        patching(update_deal, "deal_id", Deal, "deal", "sales"),
    ),
    EmployeeCreate: (
        lambda w: {
            "name": "Lee",
            "email": "lee@example.org",
            "department": "Care",
            "team": "East",
            "location": "York",
            "start_date": TODAY,
        },
        lambda s, w, m: create_employee(session=s, employee_in=m, actor=w["users"]["hr"]),
    ),
    EmployeeUpdate: (
        lambda w: {},
        patching(update_employee, "employee_id", Employee, "employee", "hr"),
    ),
    SurveyCreate: (
        lambda w: {"title": "Wave", "opens_on": TODAY, "closes_on": TODAY + timedelta(days=3)},
        lambda s, w, m: create_survey(session=s, survey_in=m, actor=w["users"]["hr"]),
    ),
    ActionPlanCreate: (
        lambda w: {"focus": "Workload", "actions": "Hire", "owner": "Pat", "due_on": TODAY},
        lambda s, w, m: create_action(
            session=s, survey_id=w["survey"], plan_in=m, team=None, actor=w["users"]["hr"]
        ),
    ),
    UserCreate: (
        lambda w: {
            "username": "casey",
            "display_name": "Casey",
            "email": "casey@example.org",
            "password": "a long enough password",
            "roles": ["sales"],
        },
        lambda s, w, m: create_user(session=s, user_in=m, actor=w["users"]["admin"]),
    ),
    UserUpdate: (
        lambda w: {},
        lambda s, w, m: update_user(
            session=s,
            user_id=w["users"]["sales"].id,
            patch=m,
            version=version_of(s, User, w["users"]["sales"].id),
            actor=w["users"]["admin"],
        ),
    ),
    ConcernCreate: (
        lambda w: {"category": "bullying", "what_happened": "Shouting."},
        lambda s, w, m: submit_concern(session=s, concern_in=m),
    ),
    WelfareCreate: (
        lambda w: {"person_name": "Sam", "reason": "Bereavement", "first_check_in": TODAY},
        lambda s, w, m: open_welfare_case(session=s, welfare_in=m, actor=w["users"]["reviewer"]),
    ),
    ConsentPurposeCreate: (
        lambda w: {"code": "events", "name": "Events"},
        lambda s, w, m: create_purpose(session=s, purpose_in=m, actor=w["users"]["privacy"]),
    ),
    ConsentPurposeUpdate: (
        lambda w: {},
        patching(update_purpose, "purpose_id", ConsentPurpose, "purpose", "privacy"),
    ),
    ConsentEventCreate: (
        lambda w: {
            "contact_id": w["contact"],
            "purpose_id": w["purpose"],
            "channel": "email",
            "action": "grant",
            "source": "web_form",
            "occurred_at": "2026-01-01T10:00:00+00:00",
        },
        lambda s, w, m: record_consent(session=s, event_in=m, actor=w["users"]["privacy"]),
    ),
    PrivacyRequestCreate: (
        lambda w: {"kind": "access", "contact_id": w["contact"], "received_on": TODAY},
        lambda s, w, m: register_request(session=s, request_in=m, actor=w["users"]["privacy"]),
    ),
}

form_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=Decimal(10**15)),
    st.text(max_size=30),
    st.text(min_size=250, max_size=6000).filter(lambda t: len(t) >= 250),
    st.sampled_from(["", " ", "x@example.org", "GB", "email", "phone", "2026-02-30", "-1"]),
    st.dates(min_value=date(1800, 1, 1), max_value=date(2200, 1, 1)),
    st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
)


@pytest.mark.parametrize("model", list(FORMS), ids=lambda m: m.__name__)
@settings(max_examples=25)
@given(data=st.data())
def test_any_form_input_is_saved_or_refused_with_nothing_changed(
    session: Session, engine: Engine, world: dict[str, Any], model: type[SQLModel], data: Any
) -> None:
    base, run = FORMS[model]
    fields = sorted(model.model_fields)
    changes = data.draw(st.dictionaries(st.sampled_from(fields), form_values, max_size=3))
    before = committed_rows(engine)
    try:
        run(session, world, parse_model(model, {**base(world), **changes}))
    except DomainError as err:
        assert err.message
        session.rollback()  # as a page's session ends with the request
        assert committed_rows(engine) == before
    else:
        session.rollback()


# --- the import pipeline, on the database -------------------------------------------

CELL = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
    st.sampled_from(["ana@example.org", "GB", "2024-01-02", "02/30/2024", "+44 20 7946 0018"]),
    st.text(min_size=201, max_size=400).filter(lambda t: len(t) > 200),
)
HEADERS = ["given_name", "family_name", "email", "phone", "country", "owner", "date_of_birth"]


@given(
    headers=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=5, unique=True),
    rows=st.lists(st.lists(CELL, min_size=5, max_size=5), max_size=4),
    all_or_nothing=st.booleans(),
)
def test_any_contact_rows_are_imported_or_reported_row_by_row(
    session: Session,
    engine: Engine,
    world: dict[str, Any],
    headers: list[str],
    rows: list[list[str]],
    all_or_nothing: bool,
) -> None:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row[: len(headers)])
    before = committed_rows(engine)
    try:
        result = run_import(
            session=session,
            actor=world["users"]["admin"],
            kind="contacts",
            data=out.getvalue().encode("utf-8"),
            filename="random.csv",
            all_or_nothing=all_or_nothing,
        )
    except DomainError as err:
        assert err.message
        session.rollback()
        assert committed_rows(engine) == before
        return
    assert all(p.row >= 2 and p.reason for p in result.rejected + result.warnings)
    if not result.saved:
        assert committed_rows(engine) == before


# --- the public lookups --------------------------------------------------------------


@given(reference=st.text(max_size=30), receipt=st.text(max_size=40))
def test_random_references_and_receipts_never_open_a_case(
    session: Session, engine: Engine, reference: str, receipt: str
) -> None:
    submitted = submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened="Shouting at new staff."),
    )
    for ref in (reference, submitted.reference):
        if receipt == submitted.receipt:
            continue
        with pytest.raises(DomainError) as refused:
            follow_up(session=session, reference=ref, receipt=receipt)
        assert refused.value.message
        before = committed_rows(engine)["case_event"]
        with pytest.raises(DomainError):
            reporter_reply(session=session, reference=ref, receipt=receipt, text="Hello")
        session.rollback()
        assert committed_rows(engine)["case_event"] == before
    # The real pair still works (random tries may have slowed it, never unlocked it).
    assert follow_up(session=session, reference=submitted.reference, receipt=submitted.receipt)


@pytest.fixture
def issued_token(session: Session, world: dict[str, Any]) -> str:
    hr = world["users"]["hr"]
    for n in range(5):  # a confidential survey needs an audience of five or more
        create_employee(
            session=session,
            employee_in=EmployeeCreate(
                name=f"Person {n}",
                email=f"p{n}@example.org",
                department="Sales",
                team="North",
                location="Leeds",
                start_date=TODAY - timedelta(days=300),
            ),
            actor=hr,
        )
    open_survey(session=session, survey_id=world["survey"], actor=hr)
    link = issue_links(session=session, survey_id=world["survey"], actor=hr)[0]
    return parse_qs(urlparse(link.url).query)["token"][0]


@given(token=st.text(max_size=250))
def test_random_survey_tokens_never_open_a_survey_or_store_an_answer(
    session: Session, engine: Engine, issued_token: str, token: str
) -> None:
    if token.strip() == issued_token:
        return
    with pytest.raises(DomainError, match="not recognised"):
        open_link(session=session, token=token)
    with pytest.raises(DomainError, match="not recognised"):
        submit_answers(session=session, token=token, answers={})
    session.rollback()
    with Session(engine) as other:
        assert other.exec(select(func.count()).select_from(SurveyResponse)).one() == 0
    assert open_link(session=session, token=issued_token).title == "Pulse"


# --- NUL, which PostgreSQL's text type cannot hold --------------------------------------


def test_a_reference_holding_nul_is_simply_not_recognised(session: Session) -> None:
    submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened="Shouting at new staff."),
    )
    with pytest.raises(DomainError) as refused:
        follow_up(session=session, reference="C-\x00AB", receipt="one-two-three")
    assert refused.value.message == NOT_RECOGNISED


def test_nul_in_typed_text_and_imported_cells_is_dropped_not_stored(
    session: Session, world: dict[str, Any]
) -> None:
    admin = world["users"]["admin"]
    org = create_organisation(
        session=session, org_in=OrganisationCreate(name="Acme\x00 Ltd"), actor=admin
    )
    assert org.name == "Acme Ltd"
    data = b"given_name,family_name,email\nAna\x00,Silva,ana\x00@example.org\n"
    result = run_import(
        session=session, actor=admin, kind="contacts", data=data, filename="nul.csv"
    )
    assert result.saved == 1 and not result.rejected
    stored = session.exec(select(Contact).where(Contact.family_name == "Silva")).one()
    assert (stored.given_name, stored.email) == ("Ana", "ana@example.org")
