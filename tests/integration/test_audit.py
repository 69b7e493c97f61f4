"""The audit chain detects any change, removal or reordering of stored events."""

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.auth.audit import AuditFilter, count_events, list_events, record, verify_chain
from db.core.errors import Forbidden, ValidationError
from db.demo.fixtures import seed_users
from db.models.audit import AuditEvent


@pytest.fixture
def chain(session: Session) -> Session:
    seed_users(session=session)  # seven user.create events
    for n in range(3):
        record(
            session=session,
            actor=OPERATOR,
            action="test.event",
            entity="thing",
            entity_id=n,
            details={"n": n, "text": "é ✓"},
        )
    session.commit()
    return session


def test_an_untouched_chain_verifies(chain: Session) -> None:
    report = verify_chain(session=chain)
    assert report.ok
    assert report.checked == 10


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "user.delete"),
        ("actor_name", "mallory"),
        ("details", '{"n":99}'),
        ("entity_id", "42"),
        ("entity", "other"),
    ],
)
def test_altering_any_stored_field_is_detected_at_that_event(
    chain: Session, column: str, value: str
) -> None:
    chain.execute(update(AuditEvent).where(col(AuditEvent.seq) == 4).values({column: value}))
    chain.commit()
    report = verify_chain(session=chain)
    assert not report.ok
    assert report.first_bad_seq == 4


def test_altering_the_time_of_an_event_is_detected(chain: Session) -> None:
    event = chain.exec(select(AuditEvent).where(AuditEvent.seq == 6)).one()
    chain.execute(
        update(AuditEvent)
        .where(col(AuditEvent.seq) == 6)
        .values(occurred_at=event.occurred_at.replace(year=2020))
    )
    chain.commit()
    assert verify_chain(session=chain).first_bad_seq == 6


def test_deleting_an_event_is_detected(chain: Session) -> None:
    chain.execute(delete(AuditEvent).where(col(AuditEvent.seq) == 5))
    chain.commit()
    report = verify_chain(session=chain)
    assert not report.ok
    assert report.first_bad_seq == 5


def test_deleting_the_newest_event_is_detected(chain: Session) -> None:
    chain.execute(delete(AuditEvent).where(col(AuditEvent.seq) == 10))
    chain.commit()
    report = verify_chain(session=chain)
    assert not report.ok
    assert "removed from the end" in report.reason


def test_swapping_two_events_is_detected(chain: Session) -> None:
    chain.execute(update(AuditEvent).where(col(AuditEvent.seq) == 3).values(seq=-3))
    chain.execute(update(AuditEvent).where(col(AuditEvent.seq) == 7).values(seq=3))
    chain.execute(update(AuditEvent).where(col(AuditEvent.seq) == -3).values(seq=7))
    chain.commit()
    report = verify_chain(session=chain)
    assert not report.ok
    assert report.first_bad_seq == 3


def test_rewriting_an_event_with_a_fresh_hash_still_breaks_the_next_link(chain: Session) -> None:
    import hashlib

    chain.execute(
        update(AuditEvent)
        .where(col(AuditEvent.seq) == 4)
        .values(action="forged", hash=hashlib.sha256(b"forged").hexdigest())
    )
    chain.commit()
    assert verify_chain(session=chain).first_bad_seq == 4


def test_only_admins_read_the_log_and_filters_apply_in_sql(chain: Session) -> None:
    manager = get_user_by_username(session=chain, username="manager")
    admin = get_user_by_username(session=chain, username="admin")
    assert manager is not None and admin is not None
    with pytest.raises(Forbidden):
        list_events(session=chain, actor=manager, flt=AuditFilter())
    flt = AuditFilter(action="test.event")
    assert count_events(session=chain, actor=admin, flt=flt) == 3
    page = list_events(session=chain, actor=admin, flt=flt, offset=1, limit=1)
    assert [e.entity_id for e in page] == ["1"]
    with pytest.raises(ValidationError):
        list_events(session=chain, actor=admin, flt=flt, limit=0)
