"""Every audit finding against a hand-built history with known problems."""

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from db.audit import OPERATOR
from db.consent import publish_notice
from db.consent_audit import run_audit
from db.consent_findings import AuditReport, Finding
from db.errors import Forbidden
from db.fixtures import seed_users
from db.interactions import log_interaction
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    LawfulBasis,
    PrivacyRequest,
    PrivacyRequestCreate,
    RequestKind,
)
from db.models.people import Channel, Direction, InteractionCreate, Purpose
from db.privacy_requests import complete_access, register_request, verify_identity
from db.types import utcnow
from tests.integration.consent_helpers import consent, person, purpose, sent, user

GRANT, WITHDRAW, OBJECT = ConsentAction.grant, ConsentAction.withdraw, ConsentAction.object


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
        method="Passport",
        version=quick.version,
        actor=officer,
    )
    complete_access(session=session, request_id=quick.id or 0, version=quick.version, actor=officer)
    found = finding(run_audit(session=session, actor=OPERATOR), "requests")
    assert [r["request_id"] for r in found.rows] == [late.id]
    assert found.summary["requests"] == 2
    assert found.summary["median_days_to_complete"] == 6
    assert isinstance(session.get(PrivacyRequest, late.id), PrivacyRequest)


def test_integrity_checks_both_chains_and_reports_a_tampered_ledger(
    session: Session, history: dict[str, int]
) -> None:
    intact = finding(run_audit(session=session, actor=OPERATOR), "integrity")
    assert intact.count == 0 and all(r["intact"] for r in intact.rows)
    session.execute(update(ConsentEvent).where(col(ConsentEvent.seq) == 1).values(channel="sms"))
    session.commit()
    broken = finding(run_audit(session=session, actor=OPERATOR), "integrity")
    assert broken.count == 1 and broken.severity == "critical"
    assert not broken.rows[0]["intact"]


def test_the_period_limits_what_is_reported(session: Session, history: dict[str, int]) -> None:
    report = run_audit(session=session, actor=OPERATOR, since=utcnow().date() - timedelta(days=5))
    assert finding(report, "violations").count == 0


def test_only_privacy_officers_and_admins_may_run_the_audit(
    session: Session, history: dict[str, int]
) -> None:
    run_audit(session=session, actor=user(session, "admin"))
    with pytest.raises(Forbidden):
        run_audit(session=session, actor=user(session, "sales"))
