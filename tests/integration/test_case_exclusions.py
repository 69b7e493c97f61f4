"""Exclusions hold on every path, whatever else the excluded person may do or be.

The attacks: a reviewer shuts every colleague out of a case and closes it; an excluded
reviewer who also sells or handles privacy requests reads the case on a contact's
timeline; an excluded reviewer keeps opening the case by its reference.
"""

import json
from datetime import date

import pytest
from sqlmodel import Session, col, select

from db.cases.actions import acknowledge, close_case
from db.cases.intake import submit_concern
from db.cases.review import (
    assign_case,
    case_by_id,
    colleague_exclusions,
    exclude_reviewer,
    open_case,
    visible_case,
)
from db.cases.welfare import open_welfare_case
from db.core.errors import Forbidden, NotFound, ValidationError
from db.models.audit import AuditEvent
from db.models.auth import Role, User
from db.models.cases import Case, ConcernCreate, Outcome, WelfareCreate
from db.models.people import ContactCreate
from db.people.contacts import create_contact
from db.people.timeline import timeline
from tests import helpers


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


def make_user(session: Session, username: str, *roles: Role) -> User:
    return helpers.make_user(session, username, *roles, team="North")


def new_case(session: Session) -> Case:
    submitted = submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened="Shouting in the ward."),
    )
    return session.exec(select(Case).where(Case.reference == submitted.reference)).one()


def exclude(session: Session, case: Case, actor: User, target: User) -> None:
    assert case.id is not None and target.id is not None
    exclude_reviewer(
        session=session, actor=actor, case_id=case.id, user_id=target.id, reason="Conflict"
    )


def test_a_reviewer_cannot_take_a_case_out_of_every_reviewers_sight(session: Session) -> None:
    ann, bob, cat = (make_user(session, n, Role.reviewer) for n in ("ann", "bob", "cat"))
    case = new_case(session)
    exclude(session, case, ann, bob)
    exclude(session, case, ann, cat)
    # Ann is the last reviewer who can see it: she cannot exclude herself as well.
    with pytest.raises(ValidationError, match="at least one active reviewer"):
        exclude(session, case, ann, ann)
    # A deactivated or non-reviewing colleague does not count as someone who can see it.
    other = new_case(session)
    exclude(session, other, ann, bob)
    cat.is_active = False
    session.add(cat)
    session.commit()
    with pytest.raises(ValidationError, match="at least one active reviewer"):
        exclude(session, other, ann, ann)


def test_an_exclusion_of_a_colleague_is_shown_to_an_administrator_at_once(
    session: Session,
) -> None:
    ann, bob, cat = (make_user(session, n, Role.reviewer) for n in ("ann", "bob", "cat"))
    admin = make_user(session, "ada", Role.admin)
    case = new_case(session)
    exclude(session, case, ann, bob)
    exclude(session, case, cat, cat)  # leaving oneself out is not a colleague's exclusion
    seen = colleague_exclusions(session=session, actor=admin)
    assert [(e.reference, e.excluded, e.excluded_by, e.readers_left) for e in seen] == [
        (case.reference, "Bob", "Ann", 1)
    ]
    flagged = session.exec(
        select(AuditEvent).where(AuditEvent.action == "case.exclude").order_by(col(AuditEvent.id))
    ).all()
    assert [json.loads(e.details or "{}")["colleague"] for e in flagged] == [True, False]
    for outsider in (ann, make_user(session, "max", Role.manager)):
        with pytest.raises(Forbidden):
            colleague_exclusions(session=session, actor=outsider)


def test_an_excluded_reviewer_never_closes_the_case_and_the_attempt_is_audited(
    session: Session,
) -> None:
    ann, bob = (make_user(session, n, Role.reviewer) for n in ("ann", "bob"))
    case = new_case(session)
    assert case.id is not None and bob.id is not None
    assign_case(session=session, actor=ann, case_id=case.id, assignee_id=bob.id)
    acknowledge(session=session, actor=bob, case_id=case.id)
    exclude(session, case, ann, bob)
    with pytest.raises(NotFound):
        close_case(
            session=session,
            actor=bob,
            case_id=case.id,
            outcome=Outcome.resolved_informally,
            reason="Done",
        )
    session.expire_all()
    assert session.get(Case, case.id).closed_at is None  # type: ignore[union-attr]
    refused = session.exec(
        select(AuditEvent).where(AuditEvent.action == "case.open_excluded")
    ).all()
    assert [(e.actor_name, e.entity_id) for e in refused] == [("bob", case.reference)]


def test_every_attempt_to_open_an_excluded_case_is_audited_and_answers_as_for_no_case(
    session: Session,
) -> None:
    ann, bob = (make_user(session, n, Role.reviewer) for n in ("ann", "bob"))
    case = new_case(session)
    assert case.id is not None
    exclude(session, case, ann, bob)
    with pytest.raises(NotFound) as excluded:
        open_case(session=session, actor=bob, reference=case.reference.lower())
    with pytest.raises(NotFound) as missing:
        open_case(session=session, actor=bob, reference="C-NONE-0000")
    assert str(excluded.value) == str(missing.value).replace("C-NONE-0000", case.reference)
    with pytest.raises(NotFound):
        visible_case(session=session, actor=bob, reference=case.reference)
    with pytest.raises(NotFound):
        case_by_id(session=session, actor=bob, case_id=case.id)
    refused = session.exec(
        select(AuditEvent).where(AuditEvent.action == "case.open_excluded")
    ).all()
    assert [e.entity_id for e in refused] == [case.reference] * 3
    # Asking for a case that does not exist is not an attempt on an excluded case.
    assert all(e.entity_id != "C-NONE-0000" for e in refused)


@pytest.mark.parametrize(
    "other_roles", [(Role.sales,), (Role.manager,), (Role.privacy, Role.sales), (Role.admin,)]
)
def test_an_excluded_reviewer_does_not_see_the_case_on_the_contact_timeline(
    session: Session, other_roles: tuple[Role, ...]
) -> None:
    ann = make_user(session, "ann", Role.reviewer)
    rev2 = make_user(session, "rev2", Role.reviewer, *other_roles)
    seller = make_user(session, "sam", Role.sales, Role.reviewer)
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva"),
        actor=seller if Role.sales not in other_roles else rev2,
    )
    welfare = open_welfare_case(
        session=session,
        actor=ann,
        welfare_in=WelfareCreate(
            person_name="Ana Silva",
            contact_id=contact.id,
            reason="Check in after the incident",
            first_check_in=date.today(),
        ),
    )

    def case_items(actor: User) -> list[str]:
        try:
            items, _ = timeline(session=session, contact_id=contact.id or 0, actor=actor)
        except (Forbidden, NotFound):
            return []
        return [i.title for i in items if i.source == "case"]

    assert case_items(rev2) == [welfare.reference]
    exclude(session, welfare, ann, rev2)
    assert case_items(rev2) == []
    assert open_case(session=session, actor=ann, reference=welfare.reference).case.id == welfare.id
