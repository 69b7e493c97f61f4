"""Sign-in under attack: probing for usernames, and racing the lockout, on every backend."""

import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

import db.auth.accounts
from db.auth.accounts import authenticate, create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import AccountLocked, AuthenticationFailed
from db.core.types import utcnow
from db.demo.fixtures import DEMO_PASSWORD, seed_users
from db.models.auth import Role, SignInAttempt, UserCreate

WRONG = "not the password at all"


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def add_user(session: Session, username: str, password: str = DEMO_PASSWORD) -> None:
    create_user(
        session=session,
        user_in=UserCreate(
            username=username,
            display_name=username.title(),
            email=f"{username}@example.org",
            team="North",
            password=password,
            roles=[Role.sales],
        ),
        actor=OPERATOR,
    )


def answer(session: Session, username: str, password: str, **kwargs: object) -> tuple[str, str]:
    """What a sign-in answers: the kind of refusal and its words."""
    try:
        authenticate(session=session, username=username, password=password, **kwargs)  # type: ignore[arg-type]
    except (AuthenticationFailed, AccountLocked) as err:
        return type(err).__name__, str(err)
    return "signed in", ""


def seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# --- probing for usernames --------------------------------------------------------


def median_times(session: Session, names: list[str], rounds: int = 9) -> dict[str, float]:
    """The median time a wrong password takes under each name, measured interleaved."""
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm up: caches, statements, the dummy hash
        answer(session, name, WRONG)
    for _ in range(rounds):
        for name in names:
            times[name].append(seconds(lambda n=name: answer(session, n, WRONG)))  # type: ignore[misc]
    return {name: statistics.median(t) for name, t in times.items()}


def test_an_unknown_username_takes_as_long_to_refuse_as_a_real_one(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A production-like cost, so bcrypt dominates; no lock while measuring.
    monkeypatch.setenv("RAPPORT_BCRYPT_ROUNDS", "10")
    monkeypatch.setenv("RAPPORT_LOCKOUT_ATTEMPTS", "1000")
    add_user(world, "real.person")
    medians = median_times(world, ["real.person", "no.such.person"])
    ratio = max(medians.values()) / min(medians.values())
    assert ratio < 1.5, medians


def test_an_account_hashed_at_an_older_lower_cost_takes_as_long_as_the_rest(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_BCRYPT_ROUNDS", "7")
    add_user(world, "old.hash")
    monkeypatch.setenv("RAPPORT_BCRYPT_ROUNDS", "10")
    monkeypatch.setenv("RAPPORT_LOCKOUT_ATTEMPTS", "1000")
    medians = median_times(world, ["old.hash", "no.such.person"])
    ratio = max(medians.values()) / min(medians.values())
    assert ratio < 1.5, medians
    # Signing in brings the hash up to the current cost.
    authenticate(session=world, username="old.hash", password=DEMO_PASSWORD)
    found = get_user_by_username(session=world, username="old.hash")
    assert found is not None and found.password_hash.startswith("$2b$10$")


@given(gaps=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=9))
def test_a_known_and_an_unknown_username_get_the_same_answers_to_any_run_of_guesses(
    world: Session, gaps: list[int]
) -> None:
    """Minutes between wrong guesses vary: counts, hints, locks and cooldowns all match."""
    stamp = time.perf_counter_ns()
    known, unknown = f"known.{stamp}", f"unknown.{stamp}"
    add_user(world, known)
    now = utcnow()
    for gap in gaps:
        now += timedelta(minutes=gap)
        assert answer(world, known, WRONG, now=now) == answer(world, unknown, WRONG, now=now)


def test_a_locked_unknown_username_reads_exactly_like_a_locked_account(world: Session) -> None:
    answers = [(answer(world, "hr", WRONG), answer(world, "nobody.here", WRONG)) for _ in range(6)]
    assert all(mine == theirs for mine, theirs in answers)
    assert answers[2][0][1].endswith("2 attempts left before a 15-minute lock.")
    assert answers[3][0][1].endswith("1 attempt left before a 15-minute lock.")
    assert answers[4][0][0] == answers[5][0][0] == "AccountLocked"


def test_failures_under_unknown_names_are_kept_only_as_hashes_and_only_while_they_matter(
    world: Session,
) -> None:
    answer(world, "Typed.Name", WRONG)
    rows = world.exec(select(SignInAttempt)).all()
    assert len(rows) == 1 and "typed" not in rows[0].name_hash.lower()
    # Once the cooldown has passed, the next sign-in clears the old row away.
    answer(world, "someone.else", WRONG, now=utcnow() + timedelta(minutes=16))
    assert world.exec(select(func.count()).select_from(SignInAttempt)).one() == 1


# --- racing the lockout -----------------------------------------------------------


def race(session: Session, monkeypatch: pytest.MonkeyPatch, username: str, tries: int) -> int:
    """Send `tries` wrong sign-ins at once; return how many passwords were checked."""
    checked = 0
    lock = threading.Lock()
    real_check = db.auth.accounts.check_password

    def slow_check(password: str, password_hash: str) -> bool:
        nonlocal checked
        with lock:
            checked += 1
        time.sleep(0.05)  # what a production-cost hash takes, give or take
        return real_check(password, password_hash)

    monkeypatch.setattr(db.auth.accounts, "check_password", slow_check)
    engine = session.get_bind()
    start = threading.Barrier(tries)
    unexpected: list[BaseException] = []

    def one_try(i: int) -> None:
        start.wait()
        with Session(engine, expire_on_commit=False) as mine:
            try:
                authenticate(session=mine, username=username, password=f"guess number {i}")
            except (AuthenticationFailed, AccountLocked):
                pass
            except BaseException as err:  # reported below
                unexpected.append(err)

    with ThreadPoolExecutor(max_workers=tries) as pool:
        list(pool.map(one_try, range(tries)))
    assert not unexpected, unexpected
    return checked


@pytest.mark.parametrize("username", ["hr", "nobody.here"])
def test_fifty_sign_ins_at_once_get_no_more_guesses_than_the_allowance(
    world: Session, monkeypatch: pytest.MonkeyPatch, username: str
) -> None:
    checked = race(world, monkeypatch, username, tries=50)
    assert 1 <= checked <= 5
    assert answer(world, username, DEMO_PASSWORD)[0] == "AccountLocked"
