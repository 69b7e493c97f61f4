"""Data-subject requests, erasure without a trace, suppression, and consent import."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from db.consent.csv_import import import_consent
from db.consent.erasure import is_suppressed
from db.consent.ledger import verify_ledger
from db.consent.receipts import receipts
from db.consent.requests import (
    complete_access,
    complete_erasure,
    complete_other,
    extend_request,
    overdue_requests,
    refuse_request,
    register_request,
    verify_identity,
)
from db.core.deadlines import extended_due
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.consent import (
    ConsentAction,
    ConsentEvent,
    PrivacyRequest,
    PrivacyRequestCreate,
    RequestKind,
    RequestStatus,
)
from db.models.people import Channel, Contact, ContactUpdate, Purpose, TaskCreate
from db.people.contacts import update_contact
from db.people.interactions import create_task
from tests.integration.consent_helpers import consent, person, purpose, sent, user


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def request_for(
    session: Session,
    contact: Contact,
    kind: RequestKind,
    days_ago: int = 3,
    notes: str | None = None,
) -> PrivacyRequest:
    officer = user(session, "privacy")
    made = register_request(
        session=session,
        request_in=PrivacyRequestCreate(
            kind=kind,
            contact_id=contact.id or 0,
            received_on=utcnow().date() - timedelta(days=days_ago),
            notes=notes,
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


def test_a_request_is_due_a_calendar_month_after_receipt(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    made = register_request(
        session=world,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access, contact_id=ana.id or 0, received_on=date(2026, 1, 31)
        ),
        actor=user(world, "privacy"),
    )
    assert made.due_on == date(2026, 2, 28)


def test_an_extension_needs_a_reason_and_notice_within_the_first_month(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    officer = user(world, "privacy")
    req = request_for(world, ana, RequestKind.rectification, days_ago=50)
    with pytest.raises(ValidationError, match="Reason"):
        extend_request(
            session=world,
            request_id=req.id or 0,
            reason="",
            notified_on=utcnow().date(),
            version=req.version,
            actor=officer,
        )
    with pytest.raises(ValidationError, match="first month"):
        extend_request(
            session=world,
            request_id=req.id or 0,
            reason="Complex",
            notified_on=utcnow().date(),
            version=req.version,
            actor=officer,
        )
    told = req.received_on + timedelta(days=10)
    extended = extend_request(
        session=world,
        request_id=req.id or 0,
        reason="Complex",
        notified_on=told,
        version=req.version,
        actor=officer,
    )
    assert extended.deadline == extended_due(extended.received_on)
    assert extended.extended_due_on is not None and extended.extended_due_on > extended.due_on
    assert extended.extension_notified_on == told
    assert overdue_requests(session=world, actor=officer) == []


def test_an_open_request_past_its_deadline_is_overdue(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    late = request_for(world, ana, RequestKind.restriction, days_ago=40)
    assert [r.id for r in overdue_requests(session=world, actor=user(world, "privacy"))] == [
        late.id
    ]


def test_only_privacy_officers_handle_requests(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    with pytest.raises(Forbidden):
        register_request(
            session=world,
            request_in=PrivacyRequestCreate(
                kind=RequestKind.access, contact_id=ana.id or 0, received_on=utcnow().date()
            ),
            actor=user(world, "sales"),
        )


def test_completing_needs_verified_identity(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    officer = user(world, "privacy")
    made = register_request(
        session=world,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access, contact_id=ana.id or 0, received_on=utcnow().date()
        ),
        actor=officer,
    )
    with pytest.raises(ValidationError, match="Identity"):
        complete_access(session=world, request_id=made.id or 0, version=made.version, actor=officer)


def test_an_access_export_holds_the_contact_interactions_and_consent(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva", email="ana@example.org")
    consent(world, ana, made, ConsentAction.grant, utcnow() - timedelta(days=5), notice=notice)
    sent(world, ana, utcnow() - timedelta(days=1))
    req = request_for(world, ana, RequestKind.access)
    export = complete_access(
        session=world, request_id=req.id or 0, version=req.version, actor=user(world, "privacy")
    )
    data = json.loads(export.json_text)
    assert data["contact"]["email"] == "ana@example.org"
    assert len(data["records"]["interaction"]) == 1
    assert len(data["records"]["consent_event"]) == 1
    assert "Ana Silva" in export.summary and "grant" in export.summary
    assert world.get(PrivacyRequest, req.id).status == RequestStatus.completed  # type: ignore[union-attr]


def test_an_objection_request_records_an_absolute_objection(world: Session) -> None:
    purpose(world)
    ana = person(world, "Ana", "Silva")
    req = request_for(world, ana, RequestKind.objection)
    complete_other(
        session=world,
        request_id=req.id or 0,
        outcome="Marketing stopped",
        version=req.version,
        actor=user(world, "privacy"),
    )
    events = (
        world.exec(select(ConsentEvent).where(ConsentEvent.contact_id == ana.id)).scalars().all()
    )  # type: ignore[call-overload]
    assert [e.action for e in events] == [ConsentAction.object]


IDENTIFIERS = {
    "email": "ana.silva@example.org",
    "email2": "ana.home@example.net",
    "phone": "+44 20 7946 0123",
    "external_ref": "LEG-77001",
    "identifier": "NHS-943-476-5919",
    "street": "14 Kestrel Road",
    "postcode": "LS1 4AP",
}


def every_value_in_the_database(session: Session) -> list[str]:
    values = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            values.extend(f"{table.name}: {v}" for v in row if v is not None)
    return values


def test_erasure_leaves_no_identifier_in_any_table_and_blocks_a_reimport(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(
        world,
        "Ana",
        "Silva",
        date_of_birth=date(1980, 5, 17),
        notes="Prefers mornings",
        **IDENTIFIERS,
    )
    other = person(world, "Ben", "Chen", notes="Referred by Ana Silva (ana.silva@example.org)")
    consent(
        world,
        ana,
        made,
        ConsentAction.grant,
        utcnow() - timedelta(days=9),
        notice=notice,
        evidence="Form signed by Ana Silva",
    )
    sent(world, ana, utcnow() - timedelta(days=2))
    sent(
        world, other, utcnow() - timedelta(days=1), channel=Channel.phone, purpose_=Purpose.service
    )
    sales = user(world, "sales")
    create_task(
        session=world,
        task_in=TaskCreate(title="Call Ana Silva back", due_on=utcnow().date(), contact_id=ana.id),
        actor=sales,
    )
    create_task(
        session=world,
        task_in=TaskCreate(title="Ask Ben about Ana Silva", due_on=utcnow().date()),
        actor=sales,
    )
    fresh = world.get(Contact, ana.id)
    assert fresh is not None
    update_contact(
        session=world,
        contact_id=ana.id or 0,
        patch=ContactUpdate(mobile="+44 7700 900123"),
        version=fresh.version,
        actor=sales,
    )
    req = request_for(
        world, ana, RequestKind.erasure, notes="Ana Silva wrote from ana.silva@example.org"
    )
    done = complete_erasure(
        session=world, request_id=req.id or 0, version=req.version, actor=user(world, "privacy")
    )
    assert done["suppressed_identifiers"] >= 4

    stored = "\n".join(every_value_in_the_database(world))
    secrets = [
        "ana.silva@example.org",
        "ana.home@example.net",
        "+442079460123",
        "+447700900123",
        "LEG-77001",
        "NHS-943-476-5919",
        "14 Kestrel Road",
        "Ana Silva",
        "1980-05-17",
        "Prefers mornings",
    ]
    leaks = [line for line in stored.splitlines() for s in secrets if s.lower() in line.lower()]
    assert leaks == []
    tombstone = world.get(Contact, ana.id)
    assert tombstone is not None and tombstone.erased_at is not None
    # The ledger's proof survives: the original grant and the erasure's withdrawals verify.
    assert verify_ledger(session=world).ok
    proof = (
        world.exec(select(ConsentEvent).where(ConsentEvent.request_id == req.id)).scalars().all()
    )  # type: ignore[call-overload]
    assert proof and all(e.action == ConsentAction.withdraw for e in proof)
    # A later import recognises the person by any identifier, however it is written.
    assert is_suppressed(session=world, email="ANA.Silva@Example.org")
    assert is_suppressed(session=world, phone="020 7946 0123")
    assert is_suppressed(session=world, external_ref="LEG-77001")
    assert not is_suppressed(session=world, email="someone.else@example.org")
    with pytest.raises(Conflict):
        complete_erasure(
            session=world,
            request_id=req.id or 0,
            version=req.version + 1,
            actor=user(world, "privacy"),
        )


def test_consent_import_appends_good_rows_and_reports_bad_ones(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva", external_ref="LEG-1", email="ana@example.org")
    text = (
        "external_ref,email,purpose,channel,action,occurred_at,notice_version,source\n"
        "LEG-1,,marketing,email,grant,2025-03-01T09:30:00Z,1,paper\n"
        ",ana@example.org,marketing,email,withdraw,2025-06-01T09:30:00Z,,\n"
        "LEG-404,,marketing,email,grant,2025-03-01T09:30:00Z,1,\n"
        "LEG-1,,unknown,email,grant,2025-03-01T09:30:00Z,1,\n"
        "LEG-1,,marketing,email,grant,2025-03-01T09:30:00Z,,\n"
        "LEG-1,,marketing,fax,grant,2025-03-01T09:30:00Z,1,\n"
    )
    officer = user(world, "privacy")
    dry = import_consent(session=world, text=text, actor=officer, dry_run=True)
    assert dry.imported == 2
    assert world.execute(select(ConsentEvent)).first() is None
    report = import_consent(session=world, text=text, actor=officer)
    assert report.imported == 2
    assert [(b.row, b.column) for b in report.bad] == [
        (4, "contact_id"),
        (5, "purpose"),
        (6, "notice_id"),
        (7, "channel"),
    ]
    events = (
        world.exec(select(ConsentEvent).where(ConsentEvent.contact_id == ana.id)).scalars().all()
    )  # type: ignore[call-overload]
    assert sorted(e.action for e in events) == ["grant", "withdraw"]
    assert verify_ledger(session=world).ok


def test_receipts_are_issued_one_per_grant(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    consent(world, ana, made, ConsentAction.grant, utcnow() - timedelta(days=9), notice=notice)
    consent(world, ana, made, ConsentAction.withdraw, utcnow() - timedelta(days=3))
    issued = list(receipts(session=world, actor=user(world, "privacy"), contact_id=ana.id))
    assert len(issued) == 1
    name, receipt = issued[0]
    assert name.endswith(".json") and receipt["version"] == "KI-CR-v1.1.0"
    with pytest.raises(Forbidden):
        list(receipts(session=world, actor=user(world, "sales")))


def refuse(session: Session, req: PrivacyRequest, **changes: object) -> PrivacyRequest:
    values: dict[str, object] = {
        "reason": "Manifestly excessive: the fourth identical request this month.",
        "notified_on": utcnow().date(),
        "told_of_right_to_complain": True,
    }
    values.update(changes)
    return refuse_request(
        session=session,
        request_id=req.id or 0,
        version=req.version,
        actor=user(session, "privacy"),
        **values,  # type: ignore[arg-type]
    )


def test_a_refusal_needs_reasons_and_the_right_to_complain_and_closes_the_request(
    world: Session,
) -> None:
    ana = person(world, "Ana", "Silva")
    req = request_for(world, ana, RequestKind.access, days_ago=10)
    with pytest.raises(ValidationError, match="Reason for refusing"):
        refuse(world, req, reason="  ")
    with pytest.raises(ValidationError, match="supervisory authority"):
        refuse(world, req, told_of_right_to_complain=False)
    with pytest.raises(ValidationError, match="Told on"):
        refuse(world, req, notified_on=req.received_on - timedelta(days=1))
    refused = refuse(world, req)
    assert refused.status == RequestStatus.refused and refused.completed_at is not None
    assert (
        refused.refusal_reason == "Manifestly excessive: the fourth identical request this month."
    )
    assert refused.refusal_notified_on == utcnow().date()
    stored = world.get(PrivacyRequest, req.id)
    assert stored is not None and stored.status == RequestStatus.refused
    with pytest.raises(Conflict, match="already refused"):
        refuse(world, refused)


def test_a_refused_request_is_no_longer_overdue(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    officer = user(world, "privacy")
    late = request_for(world, ana, RequestKind.restriction, days_ago=40)
    assert [r.id for r in overdue_requests(session=world, actor=officer)] == [late.id]
    refuse(world, late, notified_on=late.received_on + timedelta(days=20))
    assert overdue_requests(session=world, actor=officer) == []


def test_a_refused_request_cannot_be_extended_or_completed(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    officer = user(world, "privacy")
    refused = refuse(world, request_for(world, ana, RequestKind.rectification, days_ago=5))
    with pytest.raises(Conflict):
        extend_request(
            session=world,
            request_id=refused.id or 0,
            reason="Complex",
            notified_on=utcnow().date(),
            version=refused.version,
            actor=officer,
        )
    with pytest.raises(Conflict):
        complete_other(
            session=world,
            request_id=refused.id or 0,
            outcome="Done",
            version=refused.version,
            actor=officer,
        )


def test_only_privacy_officers_refuse_requests(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    req = request_for(world, ana, RequestKind.access)
    with pytest.raises(Forbidden):
        refuse_request(
            session=world,
            request_id=req.id or 0,
            reason="No",
            notified_on=utcnow().date(),
            told_of_right_to_complain=True,
            version=req.version,
            actor=user(world, "admin"),
        )


def test_an_extension_is_refused_twice_and_for_a_closed_request(world: Session) -> None:
    ana = person(world, "Ana", "Silva")
    officer = user(world, "privacy")
    req = request_for(world, ana, RequestKind.rectification, days_ago=5)
    extended = extend_request(
        session=world,
        request_id=req.id or 0,
        reason="Records in three archives",
        notified_on=utcnow().date(),
        version=req.version,
        actor=officer,
    )
    with pytest.raises(Conflict, match="already been extended"):
        extend_request(
            session=world,
            request_id=req.id or 0,
            reason="Still more",
            notified_on=utcnow().date(),
            version=extended.version,
            actor=officer,
        )
    with pytest.raises(ValidationError, match="Told on"):
        other = request_for(world, ana, RequestKind.restriction, days_ago=5)
        extend_request(
            session=world,
            request_id=other.id or 0,
            reason="Complex",
            notified_on=other.received_on - timedelta(days=1),
            version=other.version,
            actor=officer,
        )


def test_an_extension_runs_two_more_months_from_a_month_end() -> None:
    assert extended_due(date(2026, 1, 31)) == date(2026, 4, 30)
    assert extended_due(date(2026, 11, 30)) == date(2027, 2, 28)
