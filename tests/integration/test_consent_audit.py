"""Every audit finding against a hand-built history with known problems."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR
from db.auth.audit import verify_chain
from db.consent.audit.findings import AuditReport, Finding
from db.consent.audit.report import run_audit
from db.consent.ledger import latest_checkpoint, link_hash
from db.consent.records import publish_notice
from db.consent.requests import complete_access, register_request, verify_identity
from db.core.errors import Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.audit import GENESIS_HASH, AuditEvent
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentHead,
    ConsentPurpose,
    LawfulBasis,
    Notice,
    PrivacyRequest,
    PrivacyRequestCreate,
    RequestKind,
)
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose
from db.people.interactions import log_interaction
from tests.integration.consent_helpers import consent, person, purpose, sent, user

GRANT, WITHDRAW, OBJECT = ConsentAction.grant, ConsentAction.withdraw, ConsentAction.object


def first_notice(session: Session) -> Notice:
    """The first wording of the first purpose (a grant must cite one)."""
    made = session.exec(select(ConsentPurpose)).first()
    assert made is not None
    found = session.exec(select(Notice).where(Notice.purpose_id == made.id)).first()
    assert found is not None
    return found


def finding(report: AuditReport, key: str) -> Finding:
    return next(f for f in report.findings if f.key == key)


@pytest.fixture
def history(session: Session) -> dict[str, int]:
    """Seven people, each with one known problem (or none)."""
    seed_users(session=session)
    now = utcnow()
    d0 = now - timedelta(days=200)

    def day(n: float) -> object:
        return d0 + timedelta(days=n)

    made, v1 = purpose(session)
    soft, soft_notice = purpose(session, "customer-offers", basis=LawfulBasis.soft_opt_in)
    people = {
        key: person(session, key.title(), "Example")
        for key in ("withdrawn", "never", "expired", "objected", "texted", "fine", "soft", "sold")
    }
    ids = {k: p.id or 0 for k, p in people.items()}
    # Withdrew on day 20; marketed on days 25 and 40 (20 days on: a latency breach).
    consent(session, people["withdrawn"], made, GRANT, day(0), notice=v1)
    sent(session, people["withdrawn"], day(10))
    consent(session, people["withdrawn"], made, WITHDRAW, day(20))
    sent(session, people["withdrawn"], day(25))
    sent(session, people["withdrawn"], day(40))
    # Never asked at all.
    sent(session, people["never"], day(30))
    # Granted 1000 days ago: past the 24-month refresh period.
    consent(session, people["expired"], made, GRANT, now - timedelta(days=1000), notice=v1)
    sent(session, people["expired"], day(50))
    # Objected, then a later grant: the objection still stands.
    consent(session, people["objected"], made, GRANT, day(0), ConsentChannel.any, v1)
    consent(session, people["objected"], made, OBJECT, day(5), ConsentChannel.any)
    consent(session, people["objected"], made, GRANT, day(10), ConsentChannel.any, v1)
    sent(session, people["objected"], day(15))
    # Agreed to email, got a text.
    consent(session, people["texted"], made, GRANT, day(0), notice=v1)
    sent(session, people["texted"], day(5), channel=Channel.sms)
    # All in order.
    consent(session, people["fine"], made, GRANT, day(0), notice=v1)
    sent(session, people["fine"], day(5))
    # Soft opt-in without a sale, and with one.
    consent(session, people["soft"], soft, GRANT, day(10), notice=soft_notice)
    sent(session, people["sold"], day(5), purpose_=Purpose.sales)
    consent(session, people["sold"], soft, GRANT, day(10), notice=soft_notice)
    # A new notice since "fine" agreed: their consent is under old wording.
    publish_notice(
        session=session,
        purpose_id=made.id or 0,
        wording="New wording",
        actor=user(session, "privacy"),
        published_at=day(100),
    )
    return ids


def test_coverage_lists_only_people_marketed_with_no_consent_record(
    session: Session, history: dict[str, int]
) -> None:
    report = run_audit(session=session, actor=OPERATOR)
    found = finding(report, "coverage")
    assert [r["contact_id"] for r in found.rows] == [history["never"]]
    assert found.severity == "high"


def test_each_violation_is_found_with_its_reason(session: Session, history: dict[str, int]) -> None:
    report = run_audit(session=session, actor=OPERATOR)
    found = finding(report, "violations")
    got = sorted((r["contact_id"], r["reason"]) for r in found.rows)
    expected = sorted(
        [
            (history["withdrawn"], "withdrawn"),
            (history["withdrawn"], "withdrawn"),
            (history["never"], "never granted"),
            (history["expired"], "expired"),
            (history["objected"], "objected"),
            (history["texted"], "never granted"),
        ]
    )
    assert got == expected, got
    assert found.count == 6
    assert all(r["sender"] == "sales" for r in found.rows)
    assert sum(t["violations"] for t in report.trend) == 6


def test_an_override_is_reported_as_a_violation_with_its_reason(
    session: Session, history: dict[str, int]
) -> None:
    log_interaction(
        session=session,
        interaction_in=InteractionCreate(
            contact_id=history["withdrawn"],
            channel=Channel.email,
            direction=Direction.outbound,
            purpose=Purpose.marketing,
            subject="Open day",
            override_reason="Invited in person at the fair",
        ),
        actor=user(session, "sales"),
    )
    found = finding(run_audit(session=session, actor=OPERATOR), "violations")
    assert found.summary["overridden"] == 1
    assert any(r["override_reason"] == "Invited in person at the fair" for r in found.rows)


def test_opt_out_latency_flags_marketing_more_than_ten_business_days_after_withdrawal(
    session: Session, history: dict[str, int]
) -> None:
    found = finding(run_audit(session=session, actor=OPERATOR), "opt_out_latency")
    assert [r["contact_id"] for r in found.rows] == [history["withdrawn"]]
    assert found.rows[0]["latency_days"] == 20.0


def test_stale_consent_lists_expired_grants_and_grants_under_old_wording(
    session: Session, history: dict[str, int]
) -> None:
    found = finding(run_audit(session=session, actor=OPERATOR), "stale_consent")
    problems = {(r["contact_id"], r["problem"]) for r in found.rows}
    assert (history["expired"], "past refresh period") in problems
    assert (history["fine"], "notice changed since") in problems
    assert (history["texted"], "notice changed since") in problems


@pytest.mark.parametrize(
    ("first", "then", "stale"),
    [
        ((GRANT, ConsentChannel.email), (WITHDRAW, ConsentChannel.email), False),
        ((WITHDRAW, ConsentChannel.email), (GRANT, ConsentChannel.email), True),
        ((GRANT, ConsentChannel.email), (WITHDRAW, ConsentChannel.any), False),
        ((GRANT, ConsentChannel.email), (WITHDRAW, ConsentChannel.sms), True),
        ((GRANT, ConsentChannel.email), (GRANT, ConsentChannel.email), True),
    ],
)
def test_of_two_events_at_the_same_instant_the_one_recorded_later_decides_staleness(
    session: Session,
    first: tuple[ConsentAction, ConsentChannel],
    then: tuple[ConsentAction, ConsentChannel],
    stale: bool,
) -> None:
    seed_users(session=session)
    made, notice = purpose(session)
    someone = person(session, "Same", "Instant")
    when = utcnow() - timedelta(days=1000)  # past the 24-month refresh period
    recorded = [
        consent(session, someone, made, action, when, channel, notice if action == GRANT else None)
        for action, channel in (first, then)
    ]
    found = finding(run_audit(session=session, actor=OPERATOR), "stale_consent")
    listed = [r["event_id"] for r in found.rows]
    grants = [e.id for e in recorded if e.action == GRANT]
    assert listed == (grants[-1:] if stale else [])


def test_soft_opt_in_without_a_prior_sale_is_listed(
    session: Session, history: dict[str, int]
) -> None:
    found = finding(run_audit(session=session, actor=OPERATOR), "soft_opt_in")
    assert [r["contact_id"] for r in found.rows] == [history["soft"]]


def test_request_deadlines_are_measured_and_breaches_listed(
    session: Session, history: dict[str, int]
) -> None:
    officer = user(session, "privacy")
    today = utcnow().date()
    late = register_request(
        session=session,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access,
            contact_id=history["fine"],
            received_on=today - timedelta(days=40),
        ),
        actor=officer,
    )
    quick = register_request(
        session=session,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access,
            contact_id=history["never"],
            received_on=today - timedelta(days=6),
        ),
        actor=officer,
    )
    quick = verify_identity(
        session=session,
        request_id=quick.id or 0,
        method="Identity document seen",
        note="Passport seen; the name matches the record.",
        version=quick.version,
        actor=officer,
    )
    complete_access(session=session, request_id=quick.id or 0, version=quick.version, actor=officer)
    found = finding(run_audit(session=session, actor=OPERATOR), "requests")
    assert [r["request_id"] for r in found.rows] == [late.id]
    assert found.summary["requests"] == 2
    assert found.summary["median_days_to_complete"] == 6
    assert isinstance(session.get(PrivacyRequest, late.id), PrivacyRequest)


def ledger_row(report: AuditReport) -> dict[str, object]:
    return finding(report, "integrity").rows[0]


def tamper(session: Session, seq: int, **values: object) -> None:
    session.execute(update(ConsentEvent).where(col(ConsentEvent.seq) == seq).values(**values))
    session.commit()


def rewrite_chain(session: Session) -> None:
    """Recompute every link, as someone covering an edit with the hash code would."""
    prev = GENESIS_HASH
    for event in session.exec(select(ConsentEvent).order_by(col(ConsentEvent.seq))).all():
        event.prev_hash = prev
        event.hash = prev = link_hash(event, prev)
        session.add(event)
    head = session.get(ConsentHead, 1)
    assert head is not None
    head.last_hash = prev
    session.add(head)
    session.commit()


def test_integrity_checks_both_chains_and_reports_a_tampered_ledger(
    session: Session, history: dict[str, int]
) -> None:
    tamper(session, 1, channel="sms")
    broken = finding(run_audit(session=session, actor=OPERATOR), "integrity")
    assert broken.count == 1 and broken.severity == "critical"
    assert not broken.rows[0]["intact"] and broken.rows[0]["first_bad_event"] == 1
    assert broken.rows[0]["problem"] == "ledger event 1 was altered"
    assert broken.rows[1]["intact"], "the audit log itself was not touched"


def test_the_first_audit_walks_the_whole_ledger_and_leaves_a_checkpoint(
    session: Session, history: dict[str, int]
) -> None:
    events = len(session.exec(select(ConsentEvent)).all())
    row = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert row["intact"] and row["events_verified"] == events
    assert str(row["check"]).startswith("full: every event from event 1 (no checkpoint yet)")
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None and checkpoint.seq == events and checkpoint.mode == "full"
    head = session.get(ConsentHead, 1)
    assert head is not None and checkpoint.hash == head.last_hash
    assert checkpoint.audit_seq is not None and verify_chain(session=session).ok


def test_a_later_audit_checks_only_the_events_after_the_checkpoint(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    first = latest_checkpoint(session=session)
    assert first is not None
    made = session.exec(select(ConsentPurpose)).first()
    assert made is not None
    fine = session.get(Contact, history["fine"])
    assert fine is not None
    consent(session, fine, made, WITHDRAW, utcnow() - timedelta(hours=1))
    report = run_audit(session=session, actor=OPERATOR)
    row = ledger_row(report)
    assert row["intact"] and row["events_verified"] == 2  # the checkpoint's event and the new one
    assert str(row["check"]).startswith(f"incremental: events after {first.seq} ")
    assert finding(report, "integrity").summary == {
        "ledger_check": "incremental",
        "ledger_checked_from_event": first.seq,
    }
    newest = latest_checkpoint(session=session)
    assert newest is not None and newest.seq == first.seq + 1 and newest.mode == "incremental"


def test_an_edit_before_the_checkpoint_passes_the_incremental_check_but_not_the_full_one(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    tamper(session, 2, action="object")  # it was a withdrawal
    quick = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert quick["intact"] and str(quick["check"]).startswith("incremental")
    full = ledger_row(run_audit(session=session, actor=OPERATOR, full_chain=True))
    assert not full["intact"]
    assert full["first_bad_event"] == 2 and full["problem"] == "ledger event 2 was altered"
    assert str(full["check"]) == "full: every event from event 1 (asked for)"


def test_an_edit_after_the_checkpoint_fails_the_incremental_check(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None
    made = session.exec(select(ConsentPurpose)).first()
    fine = session.get(Contact, history["fine"])
    assert made is not None and fine is not None
    consent(session, fine, made, WITHDRAW, utcnow() - timedelta(hours=2))
    consent(session, fine, made, GRANT, utcnow() - timedelta(hours=1), notice=first_notice(session))
    tamper(session, checkpoint.seq + 1, channel="post")
    row = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert not row["intact"] and str(row["check"]).startswith("incremental")
    assert row["first_bad_event"] == checkpoint.seq + 1
    assert latest_checkpoint(session=session) == checkpoint, "a failed check moves nothing"


def test_editing_the_checkpointed_event_itself_is_caught_incrementally(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None
    tamper(session, checkpoint.seq, source="paper")
    row = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert not row["intact"] and row["first_bad_event"] == checkpoint.seq


def test_a_ledger_rewritten_with_fresh_hashes_fails_at_its_checkpoint(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None
    tamper(session, 1, channel="post")
    rewrite_chain(session)  # every link now verifies on its own
    quick = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert not quick["intact"] and "rewritten" in str(quick["problem"])
    full = ledger_row(run_audit(session=session, actor=OPERATOR, full_chain=True))
    assert not full["intact"] and "rewritten" in str(full["problem"])
    assert full["first_bad_event"] == checkpoint.seq


def test_a_forged_checkpoint_disagrees_with_the_audit_log_entry_that_recorded_it(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None
    tamper(session, 1, channel="post")
    rewrite_chain(session)
    head = session.get(ConsentHead, 1)
    assert head is not None
    checkpoint.hash = head.last_hash  # cover the rewrite in the checkpoint too
    session.add(checkpoint)
    session.commit()
    row = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert not row["intact"] and "audit log entry" in str(row["problem"])


def test_events_removed_from_the_end_after_a_checkpoint_are_reported(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=OPERATOR)
    checkpoint = latest_checkpoint(session=session)
    assert checkpoint is not None
    session.execute(delete(ConsentEvent).where(col(ConsentEvent.seq) == checkpoint.seq))
    session.commit()
    row = ledger_row(run_audit(session=session, actor=OPERATOR))
    assert not row["intact"] and "missing" in str(row["problem"])


def test_the_period_limits_what_is_reported(session: Session, history: dict[str, int]) -> None:
    report = run_audit(session=session, actor=OPERATOR, since=utcnow().date() - timedelta(days=5))
    assert finding(report, "violations").count == 0


def test_only_privacy_officers_and_admins_may_run_the_audit(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=user(session, "admin"))
    with pytest.raises(Forbidden):
        run_audit(session=session, actor=user(session, "sales"))


def test_no_checkpoint_is_written_while_the_audit_log_is_broken(
    session: Session, history: dict[str, int]
) -> None:
    session.execute(update(AuditEvent).where(col(AuditEvent.seq) == 1).values(actor_name="x"))
    session.commit()
    report = run_audit(session=session, actor=OPERATOR)
    assert finding(report, "integrity").count == 1
    assert latest_checkpoint(session=session) is None


def test_a_grant_replaced_by_a_later_any_channel_withdrawal_is_not_stale(
    session: Session, history: dict[str, int]
) -> None:
    made = session.exec(select(ConsentPurpose).where(ConsentPurpose.code == "marketing")).one()
    expired = session.get(Contact, history["expired"])
    assert expired is not None
    stale = finding(run_audit(session=session, actor=OPERATOR), "stale_consent")
    assert history["expired"] in {r["contact_id"] for r in stale.rows}
    consent(session, expired, made, WITHDRAW, utcnow() - timedelta(days=1), ConsentChannel.any)
    after = finding(run_audit(session=session, actor=OPERATOR), "stale_consent")
    assert history["expired"] not in {r["contact_id"] for r in after.rows}
