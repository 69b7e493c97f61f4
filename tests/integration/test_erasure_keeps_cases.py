"""Erasure never rewrites a case: an accused person cannot erase the evidence against
them. The privacy officer is told named case records are kept under the exemption, and
the reviewers of those cases see that erasure was asked for."""

from datetime import date

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from db.cases.intake import submit_concern
from db.cases.welfare import open_welfare_case
from db.consent.requests import complete_erasure
from db.demo.fixtures import seed_users
from db.models.cases import Case, CaseEvent, ConcernCreate, WelfareCreate
from db.models.consent import PrivacyRequest, RequestKind
from tests.integration.consent_helpers import person, user
from tests.integration.test_privacy_requests import request_for


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


def case_tables(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every case table, as stored."""
    return {
        table.name: sorted(map(tuple, session.execute(sa_select(table)).all()), key=repr)
        for table in SQLModel.metadata.sorted_tables
        if table.name.startswith("case_")
    }


def test_erasing_a_person_leaves_every_case_about_them_as_it_was(session: Session) -> None:
    seed_users(session=session)
    ana = person(session, "Ana", "Silva", email="ana.silva@example.org", phone="020 7946 0123")
    welfare = open_welfare_case(
        session=session,
        actor=user(session, "reviewer"),
        welfare_in=WelfareCreate(
            person_name="Ana Silva",
            contact_id=ana.id or 0,
            reason="Ana Silva (ana.silva@example.org) shouted at a colleague",
            first_check_in=date.today(),
        ),
    )
    concern = submit_concern(
        session=session,
        concern_in=ConcernCreate(
            category="bullying",
            what_happened="Ana Silva shouts at the team; write to ana.silva@example.org",
            people_involved="Ana Silva",
        ),
    )
    before = case_tables(session)

    req = request_for(session, ana, RequestKind.erasure)
    done = complete_erasure(
        session=session, request_id=req.id or 0, version=req.version, actor=user(session, "privacy")
    )
    session.expire_all()
    after = case_tables(session)

    # Nothing of any case changed: the one new row is the reviewers' note on the named case.
    new_events = set(after["case_event"]) - set(before["case_event"])
    assert after["case_record"] == before["case_record"]
    assert {k: v for k, v in after.items() if k != "case_event"} == {
        k: v for k, v in before.items() if k != "case_event"
    }
    assert set(before["case_event"]) <= set(after["case_event"])
    assert len(new_events) == 1
    note = session.exec(select(CaseEvent).where(CaseEvent.case_id == welfare.id)).all()[-1]
    assert note.kind == "internal_note" and f"#{req.id}" in (note.body or "")
    anonymous = session.exec(select(Case).where(Case.reference == concern.reference)).one()
    assert "Ana Silva" in (anonymous.what_happened or "")
    # The privacy officer is told a named case record is kept; the anonymous one is not
    # counted, so the count tells nobody that someone wrote about her.
    assert done["case_records_kept"] == 1
    stored = session.get(PrivacyRequest, req.id)
    assert stored is not None and "1 case record(s)" in (stored.outcome or "")
