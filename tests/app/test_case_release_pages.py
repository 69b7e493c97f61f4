"""A reviewer releases a case to an access request from the case page; the queue says so."""

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from components.text import escape_markdown
from db.auth.accounts import get_user_by_username
from db.cases.welfare import open_welfare_case
from db.consent.requests import register_request
from db.core.engine import make_engine, session_scope
from db.models.cases import CaseRelease, WelfareCreate
from db.models.consent import PrivacyRequestCreate, RequestKind
from db.models.people import ContactCreate
from db.people.contacts import create_contact
from tests.app.conftest import RunPage


@pytest.fixture
def app_engine(app_database: str) -> Iterator[Engine]:
    engine = make_engine(app_database)
    yield engine
    engine.dispose()


def test_a_reviewer_releases_a_named_case_to_an_access_request(
    run_page: RunPage, app_engine: Engine
) -> None:
    with session_scope(app_engine) as session:
        sales = get_user_by_username(session=session, username="sales")
        reviewer = get_user_by_username(session=session, username="reviewer")
        officer = get_user_by_username(session=session, username="privacy")
        assert sales and reviewer and officer
        contact = create_contact(
            session=session,
            contact_in=ContactCreate(given_name="Noor", family_name="Release"),
            actor=sales,
        )
        case = open_welfare_case(
            session=session,
            actor=reviewer,
            welfare_in=WelfareCreate(
                person_name="Noor Release",
                contact_id=contact.id,
                reason="Support after a fall",
                first_check_in=date.today(),
            ),
        )
        request = register_request(
            session=session,
            request_in=PrivacyRequestCreate(
                kind=RequestKind.access, contact_id=contact.id or 0, received_on=date.today()
            ),
            actor=officer,
        )
        reference, case_id, request_id = case.reference, case.id, request.id
    queue = run_page("pages/case_queue.py", "reviewer")
    assert not queue.exception
    # The page shows references as escaped markdown, like every value it displays.
    assert any(escape_markdown(reference) in i.value for i in queue.info)
    at = run_page("pages/case.py", "reviewer")
    at.text_input(key="case_ref").input(reference)
    at.run()
    at.text_area(key=f"case_release_{request_id}_{reference}").input(
        "We checked in weekly after the fall."
    )
    at.button(key=f"case_release_go_{request_id}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    with session_scope(app_engine) as session:
        release = session.exec(
            select(CaseRelease).where(
                CaseRelease.case_id == case_id, CaseRelease.request_id == request_id
            )
        ).one()
        assert release.content == "We checked in weekly after the fall."
    assert "We checked in weekly after the fall." in [t.value for t in at.text]
