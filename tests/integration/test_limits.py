"""The public forms' rate limits: per browser session and in total, shared through the DB."""

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from db.cases.intake import reporter_reply, submit_concern
from db.core.limits import TooManySubmissions
from db.core.types import utcnow
from db.models.cases import Case, ConcernCreate
from db.models.limits import PublicSubmission
from tests.integration.test_surveys import answers_for, opened_pulse


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_SESSION", "2")
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_MINUTE", "3")


def concern() -> ConcernCreate:
    return ConcernCreate(category="bullying", what_happened="Shouting at new staff.")


def cases(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Case)).one())


def test_one_browser_session_may_send_only_its_allowance_of_concerns_an_hour(
    session: Session,
) -> None:
    now = utcnow()
    for _ in range(2):
        submit_concern(session=session, concern_in=concern(), visitor="browser-a", now=now)
    with pytest.raises(TooManySubmissions, match="2 concerns from this browser in the last hour"):
        submit_concern(session=session, concern_in=concern(), visitor="browser-a", now=now)
    assert cases(session) == 2
    # Another browser still may, and the first may again once the hour has passed.
    submit_concern(session=session, concern_in=concern(), visitor="browser-b", now=now)
    later = now + timedelta(hours=1, seconds=1)
    submit_concern(session=session, concern_in=concern(), visitor="browser-a", now=later)
    assert cases(session) == 4


def test_all_sessions_together_may_send_only_the_configured_number_a_minute(
    session: Session,
) -> None:
    now = utcnow()
    for n in range(3):
        submit_concern(session=session, concern_in=concern(), visitor=f"browser-{n}", now=now)
    with pytest.raises(TooManySubmissions, match="at most 3 a minute"):
        submit_concern(session=session, concern_in=concern(), visitor="browser-new", now=now)
    assert cases(session) == 3
    submit_concern(
        session=session,
        concern_in=concern(),
        visitor="browser-new",
        now=now + timedelta(minutes=1, seconds=1),
    )
    assert cases(session) == 4


def test_a_refused_concern_does_not_use_up_the_allowance(session: Session) -> None:
    bad = ConcernCreate(category="bullying", what_happened="   ")
    for _ in range(5):
        with pytest.raises(Exception, match="What happened"):
            submit_concern(session=session, concern_in=bad, visitor="browser-a")
    submit_concern(session=session, concern_in=concern(), visitor="browser-a")
    assert cases(session) == 1


def test_commands_without_a_visitor_such_as_the_seeder_are_not_limited(session: Session) -> None:
    for _ in range(4):
        submit_concern(session=session, concern_in=concern())
    assert cases(session) == 4
    assert session.exec(select(PublicSubmission)).all() == []


def test_reporter_replies_are_limited_per_session_too(session: Session) -> None:
    sent = submit_concern(session=session, concern_in=concern())
    for n in range(2):
        reporter_reply(
            session=session,
            reference=sent.reference,
            receipt=sent.receipt,
            text=f"More detail {n}",
            visitor="browser-a",
        )
    with pytest.raises(TooManySubmissions, match="2 messages"):
        reporter_reply(
            session=session,
            reference=sent.reference,
            receipt=sent.receipt,
            text="Once more",
            visitor="browser-a",
        )


def test_the_counter_keeps_no_content_and_forgets_entries_after_an_hour(
    session: Session,
) -> None:
    now = utcnow()
    old = now - timedelta(hours=2)
    submit_concern(session=session, concern_in=concern(), visitor="browser-a", now=old)
    submit_concern(session=session, concern_in=concern(), visitor="browser-b", now=now)
    rows = session.exec(select(PublicSubmission)).all()
    # Only this hour's counters remain: the session's and everyone's, for the one form.
    assert {r.form for r in rows} == {"concern"} and sum(r.count for r in rows) == 2
    assert all(r.bucket >= now.replace(minute=0, second=0, microsecond=0) for r in rows)
    assert not {r.visitor for r in rows} & {"browser-a", "browser-b"}


def test_survey_answers_are_limited_per_session_and_a_refusal_keeps_the_link_unused(
    session: Session,
) -> None:
    from db.models.surveys import SurveyResponse
    from db.surveys.answers import open_link, submit_answers
    from db.surveys.held import flush_held_answers

    sid, tokens = opened_pulse(session)
    answers = answers_for(session, sid, 4)
    # One shared computer: a kiosk browser session answering on behalf of several links.
    for token in tokens[:2]:
        submit_answers(session=session, token=token, answers=answers, visitor="kiosk")
    with pytest.raises(TooManySubmissions, match="2 survey answers from this browser"):
        submit_answers(session=session, token=tokens[2], answers=answers, visitor="kiosk")
    # Answers are held for a batch: write them now to count what was stored.
    flush_held_answers(session=session, survey_id=sid)
    assert len(session.exec(select(SurveyResponse)).all()) == 2
    assert open_link(session=session, token=tokens[2]).title == "Pulse"  # still usable
