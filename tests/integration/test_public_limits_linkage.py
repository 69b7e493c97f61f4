"""The public forms' rate-limit table links nothing: not to a concern or an answer by time,
not one browser session's uses across forms, hours or submissions; it forgets past hours."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import DateTime, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from db.cases.intake import reporter_reply, submit_concern
from db.core.limits import (
    PublicForm,
    check_allowance,
    forget_expired,
    hour_of,
    minute_of,
    note_submission,
    session_key,
)
from db.core.types import utcnow
from db.models.cases import ConcernCreate
from db.models.limits import EVERYONE, PublicSubmission
from db.surveys.answers import submit_answers
from tests.integration.test_surveys import answers_for, opened_pulse

VISITORS = ["browser-a", "browser-b", "browser-c"]
BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def roomy_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_SESSION", "50")
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_MINUTE", "1000")


def concern() -> ConcernCreate:
    return ConcernCreate(category="bullying", what_happened="Shouting at new staff.")


def times_in(session: Session) -> set[datetime]:
    """Every moment stored in any table but the limits' own, as an attacker would list them."""
    found: set[datetime] = set()
    for table in SQLModel.metadata.sorted_tables:
        if table.name == PublicSubmission.__tablename__:
            continue
        for column in table.columns:
            if isinstance(column.type, DateTime) or "UTCDateTime" in type(column.type).__name__:
                for (value,) in session.execute(
                    text(f'SELECT "{column.name}" FROM "{table.name}"')
                ).all():
                    if isinstance(value, datetime):
                        found.add(value if value.tzinfo else value.replace(tzinfo=UTC))
                    elif isinstance(value, str) and value:
                        moment = datetime.fromisoformat(value)
                        found.add(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return found


def assert_links_nothing(session: Session, visitors: list[str], now: datetime) -> None:
    rows = session.exec(select(PublicSubmission)).all()
    stored = times_in(session)
    keys: list[str] = []
    for row in rows:
        # No moment of a submission: a whole minute for everyone, a whole hour per session.
        assert row.bucket not in stored, (row, "joins to a stored moment")
        if row.visitor == EVERYONE:
            assert row.bucket == minute_of(row.bucket) == minute_of(now), row
        else:
            assert row.bucket == hour_of(row.bucket) == hour_of(now), row
            assert row.visitor not in visitors, "the browser session's id is stored"
            assert row.count == 1, "a row per use, so no row says a session used it twice"
            keys.append(row.visitor)
    # No two rows share a key: nothing chains two uses, two forms or two hours together.
    assert len(keys) == len(set(keys)), keys


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([PublicForm.concern, PublicForm.reporter_reply]),
            st.sampled_from(VISITORS),
            st.integers(min_value=1, max_value=3 * 3600 * 10**6),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_no_row_of_the_limits_can_be_joined_to_a_concern_or_reply_by_time(
    session: Session, steps: list[tuple[PublicForm, str, int]]
) -> None:
    session.execute(text("DELETE FROM public_submission"))  # each example starts afresh
    session.commit()
    moments = sorted(BASE + timedelta(microseconds=offset) for *_, offset in steps)
    # A submission exactly on a minute's boundary is a chance of one in sixty million.
    assume(all(m != minute_of(m) for m in moments))
    sent = submit_concern(
        session=session, concern_in=concern(), now=BASE - timedelta(hours=5, microseconds=7)
    )
    for (form, visitor, _), now in zip(steps, moments, strict=True):
        if form is PublicForm.concern:
            submit_concern(session=session, concern_in=concern(), now=now, visitor=visitor)
        else:
            reporter_reply(
                session=session,
                reference=sent.reference,
                receipt=sent.receipt,
                text="More detail.",
                now=now,
                visitor=visitor,
            )
        assert_links_nothing(session, VISITORS, now)


@given(
    forms=st.lists(st.sampled_from(list(PublicForm)), min_size=2, max_size=4, unique=True),
    visitor=st.text(min_size=1, max_size=64),
    offset=st.integers(min_value=0, max_value=48 * 3600),
)
def test_one_browser_session_has_unrelated_keys_on_every_form_in_every_hour_for_every_use(
    forms: list[PublicForm], visitor: str, offset: int
) -> None:
    now = BASE + timedelta(seconds=offset)
    hours = [hour_of(now), hour_of(now) + timedelta(hours=1)]
    keys = [
        session_key(form, visitor, hour, n) for form in forms for hour in hours for n in range(3)
    ]
    assert len(set(keys)) == len(keys)
    assert all(visitor not in key for key in keys if len(visitor) > 3)


def test_a_survey_answer_leaves_no_moment_that_pairs_with_the_response_or_invitation(
    session: Session,
) -> None:
    sid, tokens = opened_pulse(session)
    answers = answers_for(session, sid, 4)
    # The same browser session raises a concern and answers the survey.
    submit_concern(session=session, concern_in=concern(), visitor="browser-a")
    submit_answers(session=session, token=tokens[0], answers=answers, visitor="browser-a")
    now = utcnow()
    rows = session.exec(select(PublicSubmission)).all()
    assert {r.form for r in rows} == {"concern", "survey_answer"}
    assert_links_nothing(session, ["browser-a"], now)


def test_past_hours_are_forgotten_on_each_check_and_by_the_schedule(
    session: Session, engine: Engine
) -> None:
    old = utcnow() - timedelta(hours=2)
    for form in (PublicForm.concern, PublicForm.survey_answer):
        note_submission(session=session, form=form, visitor="browser-a", now=old)
    session.commit()
    assert forget_expired(session=session) == 4
    with Session(engine) as other:
        assert other.exec(select(func.count()).select_from(PublicSubmission)).one() == 0
    # A check counts nothing, and sweeps what is past, even if nothing is then sent.
    note_submission(session=session, form=PublicForm.concern, visitor="browser-a", now=old)
    session.commit()
    check_allowance(session=session, form=PublicForm.concern, visitor="browser-b")
    session.commit()
    assert session.exec(select(PublicSubmission)).all() == []


def test_a_minute_later_everyone_s_counter_of_the_past_minute_is_gone(session: Session) -> None:
    now = BASE + timedelta(minutes=5, seconds=30)
    note_submission(session=session, form=PublicForm.concern, visitor="browser-a", now=now)
    note_submission(
        session=session,
        form=PublicForm.concern,
        visitor="browser-b",
        now=now + timedelta(minutes=1),
    )
    session.commit()
    rows = session.exec(select(PublicSubmission)).all()
    shared = [r for r in rows if r.visitor == EVERYONE]
    assert [(r.bucket, r.count) for r in shared] == [(minute_of(now + timedelta(minutes=1)), 1)]
    # Both sessions' hour counters remain (same hour), under unrelated keys.
    assert sorted(r.count for r in rows if r.visitor != EVERYONE) == [1, 1]
