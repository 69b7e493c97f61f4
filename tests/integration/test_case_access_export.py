"""An access request never dumps case content: cases go through the case reviewers.

The attack: a privacy officer (perhaps excluded from the case as a reviewer) completes
an access request for a person a welfare case or a concern is about, and reads the
case's text, the people involved and the receipt hash in the export.
"""

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from db.auth.accounts import create_user
from db.auth.actor import OPERATOR
from db.cases.intake import submit_concern
from db.cases.review import (
    access_requests_for_case,
    awaiting_release,
    exclude_reviewer,
    release_to_access_request,
)
from db.cases.welfare import open_welfare_case
from db.consent.requests import case_releases, complete_access, register_request, verify_identity
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.auth import Role, User, UserCreate
from db.models.cases import Case, ConcernCreate, WelfareCreate
from db.models.consent import PrivacyRequest, PrivacyRequestCreate, RequestKind
from tests.integration.consent_helpers import person, user

SECRET = "welfare-text-only-reviewers-read-5b2e"
ANONYMOUS = "anonymous-concern-text-9d41"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def access_request(session: Session, contact_id: int, officer: User) -> PrivacyRequest:
    made = register_request(
        session=session,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access,
            contact_id=contact_id,
            received_on=utcnow().date() - timedelta(days=2),
        ),
        actor=officer,
    )
    return verify_identity(
        session=session,
        request_id=made.id or 0,
        method="Identity document seen",
        note="Passport seen; the name matches the record.",
        version=made.version,
        actor=officer,
    )


def cases_about(session: Session, contact_id: int) -> tuple[Case, Case]:
    """A welfare case about the person, and an anonymous concern someone linked to them."""
    welfare = open_welfare_case(
        session=session,
        actor=user(session, "reviewer"),
        welfare_in=WelfareCreate(
            person_name="Ana Silva",
            contact_id=contact_id,
            reason=f"After the incident {SECRET}",
            first_check_in=date.today(),
        ),
    )
    welfare.what_happened = f"Colleague reported distress. {SECRET}"
    welfare.people_involved = f"Her manager {SECRET}"
    session.add(welfare)
    submitted = submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened=f"She shouts. {ANONYMOUS}"),
    )
    anonymous = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
    anonymous.contact_id = contact_id  # even linked, an anonymous concern stays out
    session.add(anonymous)
    session.commit()
    return welfare, anonymous


def test_an_access_export_holds_no_case_content_until_a_reviewer_releases_it(
    world: Session,
) -> None:
    ana = person(world, "Ana", "Silva")
    officer, reviewer = user(world, "privacy"), user(world, "reviewer")
    welfare, anonymous = cases_about(world, ana.id or 0)
    req = access_request(world, ana.id or 0, officer)
    assert case_releases(session=world, request_id=req.id or 0, actor=officer).awaiting == 1
    with pytest.raises(Conflict, match="wait for the case reviewers"):
        complete_access(session=world, request_id=req.id or 0, version=req.version, actor=officer)
    assert awaiting_release(session=world, actor=reviewer) == [welfare.reference]
    assert anonymous.id is not None and welfare.id is not None
    assert access_requests_for_case(session=world, actor=reviewer, case_id=anonymous.id) == []
    with pytest.raises(ValidationError, match="Anonymous concerns"):
        release_to_access_request(
            session=world,
            actor=reviewer,
            case_id=anonymous.id,
            request_id=req.id or 0,
            content="Everything",
        )
    release_to_access_request(
        session=world,
        actor=reviewer,
        case_id=welfare.id,
        request_id=req.id or 0,
        content="We opened a welfare case after the incident and checked in weekly.",
    )
    assert awaiting_release(session=world, actor=reviewer) == []
    world.refresh(req)
    export = complete_access(
        session=world, request_id=req.id or 0, version=req.version, actor=officer
    )
    text = export.json_text + export.summary
    for leaked in (SECRET, ANONYMOUS, anonymous.reference, "receipt_hash", "case_record"):
        assert leaked not in text
    assert "checked in weekly" in export.summary
    released = json.loads(export.json_text)["released_by_case_reviewers"]
    assert [r["case"] for r in released] == [welfare.reference]
    assert not any(name.startswith("case") for name in json.loads(export.json_text)["records"])


def test_an_excluded_privacy_officer_reads_no_case_through_an_export(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    reviewer = user(world, "reviewer")
    both = create_user(
        session=world,
        user_in=UserCreate(
            username="reviewer2",
            display_name="Remi Reviewer",
            email="reviewer2@example.org",
            password="correct horse battery",
            roles=[Role.reviewer, Role.privacy],
        ),
        actor=OPERATOR,
    )
    welfare, _anonymous = cases_about(world, ana.id or 0)
    assert welfare.id is not None and both.id is not None
    exclude_reviewer(
        session=world, actor=reviewer, case_id=welfare.id, user_id=both.id, reason="Her manager"
    )
    req = access_request(world, ana.id or 0, both)
    # Excluded, reviewer2 can neither see the request on the case nor release it...
    with pytest.raises(NotFound):
        access_requests_for_case(session=world, actor=both, case_id=welfare.id)
    with pytest.raises(NotFound):
        release_to_access_request(
            session=world, actor=both, case_id=welfare.id, request_id=req.id or 0, content="x"
        )
    assert awaiting_release(session=world, actor=both) == []
    release_to_access_request(
        session=world, actor=reviewer, case_id=welfare.id, request_id=req.id or 0, content="Kept."
    )
    # ...nor read what was released, as the privacy officer completing the request.
    world.refresh(req)
    with pytest.raises(Conflict, match="excluded"):
        complete_access(session=world, request_id=req.id or 0, version=req.version, actor=both)
    world.refresh(req)
    export = complete_access(
        session=world, request_id=req.id or 0, version=req.version, actor=user(world, "privacy")
    )
    assert "Kept." in export.summary and SECRET not in export.json_text


def test_a_case_is_released_once_per_request(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    reviewer = user(world, "reviewer")
    welfare, _ = cases_about(world, ana.id or 0)
    req = access_request(world, ana.id or 0, user(world, "privacy"))
    assert welfare.id is not None
    release_to_access_request(
        session=world, actor=reviewer, case_id=welfare.id, request_id=req.id or 0, content=""
    )
    with pytest.raises(Conflict, match="already released"):
        release_to_access_request(
            session=world, actor=reviewer, case_id=welfare.id, request_id=req.id or 0, content="y"
        )
    [state] = access_requests_for_case(session=world, actor=reviewer, case_id=welfare.id)
    assert state.released and state.content is None
