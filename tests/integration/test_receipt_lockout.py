"""Nobody can lock a reporter out, guessing stays throttled, and a reference's existence
shows neither in the words nor in the work of a refusal."""

import hashlib
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import db.cases.intake
from db.cases.intake import (
    FREE_ATTEMPTS,
    GLOBAL_FAILURES_PER_MINUTE,
    NOT_RECOGNISED,
    Submitted,
    TooManyAttempts,
    follow_up,
    reporter_reply,
    submit_concern,
)
from db.core.errors import DomainError, NotFound
from db.core.types import utcnow
from db.models.cases import ConcernCreate
from db.models.limits import PublicSubmission

WRONG = "AAAA-BBBB-CCCC-DDDD-EEEE"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


@pytest.fixture
def scrypt_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    runs: list[int] = []
    real = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        runs.append(kwargs.get("n", 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(db.cases.intake.hashlib, "scrypt", counted)
    yield runs


def raise_one(session: Session) -> Submitted:
    return submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened="Shouting at new staff."),
    )


def answer(call: Callable[[], object]) -> str:
    """What a person on the follow-up page reads: the view, or the refusal's words."""
    try:
        call()
    except DomainError as refused:
        return f"{type(refused).__name__}: {refused.message}"
    return "opened"


def table_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as other:
        return {
            table.name: int(other.exec(select(func.count()).select_from(table)).one())
            for table in SQLModel.metadata.sorted_tables
        }


@given(
    strangers=st.lists(st.integers(min_value=0, max_value=2 * FREE_ATTEMPTS), max_size=8),
    own_typos=st.integers(min_value=0, max_value=1),
    reply=st.booleans(),
)
def test_no_number_of_strangers_guessing_locks_the_reporter_out(
    session: Session, strangers: list[int], own_typos: int, reply: bool
) -> None:
    sent = raise_one(session)
    now = utcnow()
    # Strangers who know the reference guess at it, from as many sessions as they like,
    # all in the same minute as the reporter: enough to pass everyone's limit too.
    for n, guesses in enumerate(strangers):
        for _ in range(guesses):
            answer(
                lambda n=n: follow_up(
                    session=session,
                    reference=sent.reference,
                    receipt=WRONG,
                    now=now,
                    visitor=f"stranger-{n}",
                )
            )
    reporter = f"reporter-{sent.reference}"
    for _ in range(own_typos):
        assert (
            answer(
                lambda: follow_up(
                    session=session,
                    reference=sent.reference,
                    receipt=WRONG,
                    now=now,
                    visitor=reporter,
                )
            )
            == f"NotFound: {NOT_RECOGNISED}"
        )
    if reply:
        reporter_reply(
            session=session,
            reference=sent.reference,
            receipt=sent.receipt,
            text="Still happening.",
            now=now,
            visitor=reporter,
        )
    else:
        follow_up(
            session=session,
            reference=sent.reference,
            receipt=sent.receipt,
            now=now,
            visitor=reporter,
        )


def test_guessing_from_one_session_stops_after_five_without_checking_anything(
    session: Session, scrypt_runs: list[int]
) -> None:
    sent = raise_one(session)
    scrypt_runs.clear()
    now = utcnow()
    for _ in range(FREE_ATTEMPTS):
        with pytest.raises(NotFound):
            follow_up(
                session=session, reference=sent.reference, receipt=WRONG, now=now, visitor="g"
            )
    assert len(scrypt_runs) == FREE_ATTEMPTS
    for receipt in (WRONG, sent.receipt):
        for reference in (sent.reference, "C-NOSUCH"):
            with pytest.raises(TooManyAttempts, match="Nothing was checked"):
                follow_up(
                    session=session, reference=reference, receipt=receipt, now=now, visitor="g"
                )
    assert len(scrypt_runs) == FREE_ATTEMPTS, "a refused session costs no scrypt work"


def test_while_many_wrong_codes_arrive_each_session_gets_two_guesses_and_the_reporter_gets_in(
    session: Session, scrypt_runs: list[int]
) -> None:
    sent = raise_one(session)
    now = utcnow()
    for n in range(GLOBAL_FAILURES_PER_MINUTE // FREE_ATTEMPTS + 1):
        for _ in range(FREE_ATTEMPTS):
            answer(
                lambda n=n: follow_up(
                    session=session,
                    reference="C-NOSUCH",
                    receipt=WRONG,
                    now=now,
                    visitor=f"flood-{n}",
                )
            )
    # Everyone's limit is passed: a fresh session's wrong code now leaves it one more...
    scrypt_runs.clear()
    results = [
        answer(
            lambda: follow_up(
                session=session, reference=sent.reference, receipt=WRONG, now=now, visitor="late"
            )
        )
        for _ in range(4)
    ]
    assert results[:2] == [f"NotFound: {NOT_RECOGNISED}"] * 2
    assert all(r.startswith("TooManyAttempts") for r in results[2:]), results
    assert len(scrypt_runs) == 2, "two guesses, then nothing more is checked"
    # ...while the reporter's session, even after a typo, still opens the case.
    with pytest.raises(NotFound):
        follow_up(
            session=session, reference=sent.reference, receipt=WRONG, now=now, visitor="reporter"
        )
    follow_up(
        session=session,
        reference=sent.reference,
        receipt=sent.receipt,
        now=now,
        visitor="reporter",
    )


@given(
    attempts=st.integers(min_value=1, max_value=2 * FREE_ATTEMPTS),
    receipt=st.sampled_from([WRONG, "", "2345", "right-looking-ABCD-EFGH"]),
)
def test_known_and_unknown_references_read_the_same_and_write_the_same(
    session: Session, engine: Engine, attempts: int, receipt: str
) -> None:
    sent = raise_one(session)
    now = utcnow()
    references = {"known": sent.reference, "unknown": "C-ZZZZZZ"}
    heard: dict[str, list[str]] = {}
    written: dict[str, list[dict[str, int]]] = {}
    for kind, reference in references.items():
        session.execute(delete(PublicSubmission))  # both start from the same counters
        session.commit()
        heard[kind], written[kind] = [], []
        for _ in range(attempts):
            before = table_counts(engine)
            heard[kind].append(
                answer(
                    lambda reference=reference: follow_up(
                        session=session,
                        reference=reference,
                        receipt=receipt,
                        now=now,
                        visitor=f"one-browser-{sent.reference}",
                    )
                )
            )
            after = table_counts(engine)
            written[kind].append({t: after[t] - before[t] for t in after if after[t] != before[t]})
    assert heard["known"] == heard["unknown"]
    assert written["known"] == written["unknown"]


def test_a_known_and_an_unknown_reference_cost_one_scrypt_run_each(
    session: Session, scrypt_runs: list[int]
) -> None:
    sent = raise_one(session)
    for reference in (sent.reference, "C-NOSUCH", "", "not a reference at all"):
        scrypt_runs.clear()
        with pytest.raises(NotFound, match=NOT_RECOGNISED):
            follow_up(session=session, reference=reference, receipt=WRONG)
        assert scrypt_runs == [2**10], reference


def test_a_known_and_an_unknown_reference_take_the_same_time(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At the production cost, where the hashing dominates everything else a refusal does.
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "14")
    sent = raise_one(session)

    def seconds(reference: str) -> float:
        start = time.perf_counter()
        with pytest.raises(NotFound):
            follow_up(session=session, reference=reference, receipt=WRONG)
        return time.perf_counter() - start

    known, unknown = [], []
    for _ in range(7):  # interleaved, so a busy moment of the machine hits both alike
        known.append(seconds(sent.reference))
        unknown.append(seconds("C-NOSUCH"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.7 < ratio < 1.4, (ratio, known, unknown)


def test_the_next_hour_the_session_may_try_again(session: Session) -> None:
    sent = raise_one(session)
    now = utcnow().replace(minute=59)
    for _ in range(FREE_ATTEMPTS):
        with pytest.raises(NotFound):
            follow_up(
                session=session, reference=sent.reference, receipt=WRONG, now=now, visitor="g"
            )
    with pytest.raises(TooManyAttempts):
        follow_up(
            session=session, reference=sent.reference, receipt=sent.receipt, now=now, visitor="g"
        )
    follow_up(
        session=session,
        reference=sent.reference,
        receipt=sent.receipt,
        now=now + timedelta(minutes=2),
        visitor="g",
    )
