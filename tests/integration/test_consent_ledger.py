"""The consent ledger: recording, derived state, the marketing check and its chain."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from db.auth.audit import verify_chain
from db.consent.ledger import verify_ledger
from db.consent.marketing import ConsentRefused
from db.consent.records import contact_states, record_consent, revise_notice, update_purpose
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.audit import AuditEvent
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentPurposeUpdate,
    ConsentSource,
    LawfulBasis,
)
from db.models.people import Channel, Direction, Interaction, InteractionCreate, Purpose
from db.people.interactions import log_interaction
from tests.integration.consent_helpers import consent, person, purpose, user

GRANT, WITHDRAW, OBJECT = ConsentAction.grant, ConsentAction.withdraw, ConsentAction.object


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def marketing_email(contact_id: int, **extra: object) -> InteractionCreate:
    data: dict[str, object] = {
        "contact_id": contact_id,
        "channel": Channel.email,
        "direction": Direction.outbound,
        "purpose": Purpose.marketing,
        "subject": "Spring newsletter",
    }
    data.update(extra)
    return InteractionCreate.model_validate(data)


def test_a_withdrawn_contact_is_refused_marketing_with_the_reason_and_nothing_is_saved(
    world: Session,
) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    now = utcnow()
    consent(world, ana, made, GRANT, now - timedelta(days=30), notice=notice)
    log_interaction(
        session=world, interaction_in=marketing_email(ana.id or 0), actor=user(world, "sales")
    )
    consent(world, ana, made, WITHDRAW, now - timedelta(minutes=5))
    with pytest.raises(ConsentRefused, match="withdrawn"):
        log_interaction(
            session=world, interaction_in=marketing_email(ana.id or 0), actor=user(world, "sales")
        )
    assert world.exec(select(func.count()).select_from(Interaction)).one() == 1


def test_an_override_with_a_reason_is_saved_and_kept_for_the_audit(world: Session) -> None:
    purpose(world)
    ana = person(world, "Ana", "Silva")
    saved = log_interaction(
        session=world,
        interaction_in=marketing_email(ana.id or 0, override_reason="Asked for it at the stand"),
        actor=user(world, "sales"),
    )
    assert saved.override_reason == "Asked for it at the stand"


def test_an_objection_cannot_be_overridden_and_outlasts_a_later_grant(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    now = utcnow()
    consent(world, ana, made, OBJECT, now - timedelta(days=9), channel=ConsentChannel.any)
    consent(world, ana, made, GRANT, now - timedelta(days=2), notice=notice)
    with pytest.raises(ConsentRefused, match="objected"):
        log_interaction(
            session=world,
            interaction_in=marketing_email(ana.id or 0, override_reason="Manager said so"),
            actor=user(world, "sales"),
        )


def test_service_messages_and_inbound_marketing_are_not_checked(world: Session) -> None:
    purpose(world)
    ana = person(world, "Ana", "Silva")
    sales = user(world, "sales")
    log_interaction(
        session=world,
        interaction_in=marketing_email(ana.id or 0, purpose=Purpose.service),
        actor=sales,
    )
    log_interaction(
        session=world,
        interaction_in=marketing_email(ana.id or 0, direction=Direction.inbound),
        actor=sales,
    )


def test_consent_on_email_does_not_cover_a_text_message(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    consent(world, ana, made, GRANT, utcnow() - timedelta(days=1), notice=notice)
    with pytest.raises(ConsentRefused, match="sms"):
        log_interaction(
            session=world,
            interaction_in=marketing_email(ana.id or 0, channel=Channel.sms),
            actor=user(world, "sales"),
        )


def test_the_contact_page_state_is_derived_from_events(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    now = utcnow()
    consent(
        world, ana, made, GRANT, now - timedelta(days=3), channel=ConsentChannel.any, notice=notice
    )
    consent(world, ana, made, WITHDRAW, now - timedelta(days=1), channel=ConsentChannel.sms)
    (state,) = contact_states(session=world, contact_id=ana.id or 0, actor=user(world, "privacy"))
    assert state.states[ConsentChannel.email] == "granted"
    assert state.states[ConsentChannel.sms] == "withdrawn"


def test_a_grant_needs_a_notice_and_cannot_be_in_the_future(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    with pytest.raises(ValidationError, match="Notice"):
        consent(world, ana, made, GRANT, utcnow() - timedelta(days=1))
    with pytest.raises(ValidationError, match="future"):
        consent(world, ana, made, GRANT, utcnow() + timedelta(days=1), notice=notice)


def test_roles_without_access_cannot_record_consent(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    from db.consent.records import record_consent
    from db.models.consent import ConsentEventCreate, ConsentSource

    with pytest.raises(Forbidden):
        record_consent(
            session=world,
            event_in=ConsentEventCreate(
                contact_id=ana.id or 0,
                purpose_id=made.id or 0,
                channel=ConsentChannel.email,
                action=WITHDRAW,
                source=ConsentSource.phone,
                occurred_at=utcnow(),
            ),
            actor=user(world, "hr"),
        )


def test_a_used_notice_is_frozen(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    consent(world, ana, made, GRANT, utcnow() - timedelta(days=1), notice=notice)
    with pytest.raises(Conflict, match="new version"):
        revise_notice(
            session=world, notice_id=notice.id or 0, wording="Changed", actor=user(world, "privacy")
        )


def test_the_ledger_chain_verifies_and_detects_tampering(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    now = utcnow()
    consent(world, ana, made, GRANT, now - timedelta(days=3), notice=notice)
    consent(world, ana, made, WITHDRAW, now - timedelta(days=1))
    report = verify_ledger(session=world)
    assert report.ok and report.checked == 2
    assert verify_chain(session=world).ok
    world.execute(update(ConsentEvent).where(col(ConsentEvent.seq) == 2).values(action="grant"))
    world.commit()
    broken = verify_ledger(session=world)
    assert not broken.ok and broken.first_bad_seq == 2


def test_a_purpose_edit_bumps_its_version_and_audits_old_and_new_values(world: Session) -> None:
    made, _notice = purpose(world)
    officer = user(world, "privacy")
    opened = made.version
    changed = update_purpose(
        session=world,
        purpose_id=made.id or 0,
        patch=ConsentPurposeUpdate(
            name="  Marketing   news ",
            description="News and offers.",
            lawful_basis=LawfulBasis.legitimate_interest,
            refresh_months=12,
        ),
        version=made.version,
        actor=officer,
    )
    assert changed.version == opened + 1
    assert (changed.name, changed.refresh_months) == ("Marketing news", 12)
    assert changed.lawful_basis == LawfulBasis.legitimate_interest
    entry = world.exec(select(AuditEvent).where(AuditEvent.action == "purpose.update")).one()
    details = json.loads(entry.details)
    assert details["changes"]["refresh_months"] == {"from": "24", "to": "12"}
    assert details["changes"]["lawful_basis"]["to"] == "legitimate_interest"
    assert "code" not in details["changes"]


def test_a_purpose_edit_from_a_stale_version_is_refused_and_saves_nothing(world: Session) -> None:
    made, _notice = purpose(world)
    officer = user(world, "privacy")
    opened = made.version
    update_purpose(
        session=world,
        purpose_id=made.id or 0,
        patch=ConsentPurposeUpdate(name="First edit"),
        version=opened,
        actor=officer,
    )
    with pytest.raises(Conflict, match="changed by someone else"):
        update_purpose(
            session=world,
            purpose_id=made.id or 0,
            patch=ConsentPurposeUpdate(refresh_months=6),
            version=opened,
            actor=officer,
        )
    world.expire_all()
    stored = world.get(ConsentPurpose, made.id)
    assert stored is not None and stored.refresh_months == 24 and stored.name == "First edit"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"name": "   "}, "Name"),
        ({"refresh_months": 0}, "Refresh period"),
        ({"refresh_months": 121}, "Refresh period"),
        ({"description": "x" * 2001}, "Description"),
    ],
)
def test_a_purpose_edit_with_bad_input_names_the_field(
    world: Session, patch: dict[str, object], field: str
) -> None:
    made, _notice = purpose(world)
    with pytest.raises(ValidationError, match=field):
        update_purpose(
            session=world,
            purpose_id=made.id or 0,
            patch=ConsentPurposeUpdate.model_validate(patch),
            version=made.version,
            actor=user(world, "privacy"),
        )


def test_an_unchanged_purpose_edit_saves_no_new_version(world: Session) -> None:
    made, _notice = purpose(world)
    opened = made.version
    same = update_purpose(
        session=world,
        purpose_id=made.id or 0,
        patch=ConsentPurposeUpdate(name=made.name, refresh_months=made.refresh_months),
        version=made.version,
        actor=user(world, "privacy"),
    )
    assert same.version == opened
    assert not world.exec(select(AuditEvent).where(AuditEvent.action == "purpose.update")).all()


def test_a_new_refresh_period_leaves_earlier_grants_expiry_alone(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    before = consent(world, ana, made, GRANT, utcnow() - timedelta(days=3), notice=notice)
    update_purpose(
        session=world,
        purpose_id=made.id or 0,
        patch=ConsentPurposeUpdate(refresh_months=6),
        version=made.version,
        actor=user(world, "privacy"),
    )
    after = consent(world, ana, made, GRANT, utcnow() - timedelta(days=1), notice=notice)
    world.expire_all()
    kept = world.get(ConsentEvent, before.id)
    assert kept is not None and kept.expires_at == before.expires_at
    assert after.expires_at is not None and kept.expires_at is not None
    assert after.expires_at < kept.expires_at
    assert verify_ledger(session=world).ok


def test_only_privacy_officers_edit_purposes(world: Session) -> None:
    made, _notice = purpose(world)
    with pytest.raises(Forbidden):
        update_purpose(
            session=world,
            purpose_id=made.id or 0,
            patch=ConsentPurposeUpdate(name="Mine now"),
            version=made.version,
            actor=user(world, "admin"),
        )


def test_every_source_verifies_when_the_chain_is_read_back_as_plain_rows(world: Session) -> None:
    made, notice = purpose(world)
    ana = person(world, "Ana", "Silva")
    for n, source in enumerate(ConsentSource):
        record_consent(
            session=world,
            event_in=ConsentEventCreate(
                contact_id=ana.id or 0,
                purpose_id=made.id or 0,
                channel=ConsentChannel.email,
                action=GRANT,
                notice_id=notice.id,
                source=source,
                occurred_at=utcnow() - timedelta(days=10 - n),
            ),
            actor=user(world, "privacy"),
        )
    report = verify_ledger(session=world)
    assert report.ok, report.reason
    assert report.checked == len(ConsentSource)
