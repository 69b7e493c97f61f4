"""The demo is impossible to miss, and a production start never creates it.

A demo account keeps a password published in the README; every page says so while one
can still sign in with it. `RAPPORT_DEMO=0`, or a user created first, keeps `manage.py
seed --if-empty` (and so `make run`) from ever creating the demo world.
"""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

import db.demo.fixtures
import manage
from db.auth.accounts import (
    check_password,
    count_users,
    deactivate_user,
    get_user_by_username,
    reset_password,
)
from db.auth.actor import OPERATOR
from db.core.engine import make_engine, reset_engines, session_scope
from db.core.errors import ValidationError
from db.core.migrate import upgrade
from db.demo.fixtures import DEMO_PASSWORD, DEMO_USERNAMES, is_demo, seed_users
from db.models.auth import User
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT

BANNER = "published demo password"


def banners(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if BANNER in w.value]


@pytest.mark.parametrize(
    ("path", "username"),
    [
        ("app.py", None),  # the sign-in form
        ("pages/raise_concern.py", None),  # a public page
        ("pages/contacts.py", "sales"),
        ("pages/admin.py", "admin"),
        ("pages/survey_results.py", "hr"),
    ],
)
def test_every_kind_of_page_warns_while_demo_accounts_keep_the_demo_password(
    run_page: RunPage, app_database: str, path: str, username: str | None
) -> None:
    at = run_page(path, username)
    assert not at.exception
    [banner] = banners(at)
    assert "demo installation" in banner
    # The shared database is the demo's, though other page tests may have changed a demo
    # account's password: the banner names exactly those that still open with it.
    still_open = open_with_demo_password(app_database)
    assert still_open, "the shared demo database should still have demo sign-ins"
    listed = banner.split("the accounts ", 1)[1].split(" still have", 1)[0]
    assert {name.strip() for name in listed.split(",")} == still_open


def open_with_demo_password(url: str) -> set[str]:
    """Demo accounts that are active and still have the demo password, checked with bcrypt."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        users = session.exec(select(User).where(User.username.in_(DEMO_USERNAMES))).all()  # type: ignore[attr-defined]
        found = {
            u.username
            for u in users
            if u.is_active and check_password(DEMO_PASSWORD, u.password_hash)
        }
    engine.dispose()
    return found


@pytest.fixture
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own with the demo accounts only, so the shared one stays as it is."""
    url = f"sqlite:///{tmp_path / 'rapport.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        seed_users(session=session)
    engine.dispose()
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
    reset_engines()


def page_as(url: str, path: str, username: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if path != "app.py":
        at.switch_page(path)
    if username is not None:
        at.session_state["rapport_session_token"] = sign_in_token(url, username)
    return at.run()


def test_the_warning_names_only_demo_accounts_that_still_work_and_goes_when_none_do(
    own_database: str,
) -> None:
    engine = make_engine(own_database)
    try:
        with session_scope(engine) as session:
            users = {u.username: u for u in session.exec(select(User)).all()}
            for name, found in users.items():
                if name not in {"admin", "sales", "hr"}:
                    reset_password(
                        session=session,
                        user_id=found.id or 0,
                        new_password="a private new password",
                        actor=OPERATOR,
                    )
            deactivate_user(session=session, user_id=users["hr"].id or 0, actor=OPERATOR)
        [banner] = banners(page_as(own_database, "pages/contacts.py", "sales"))
        assert "admin, sales still have" in banner
        with session_scope(engine) as session:
            for name in ("admin", "sales"):
                reset_password(
                    session=session,
                    user_id=users[name].id or 0,
                    new_password="a private new password",
                    actor=OPERATOR,
                )
    finally:
        engine.dispose()
    assert banners(page_as(own_database, "app.py", None)) == []
    assert banners(page_as(own_database, "pages/raise_concern.py", None)) == []


# --- a production start --------------------------------------------------------------


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'production.db'}"
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    reset_engines()
    assert manage.main(["migrate"]) == 0
    yield url
    reset_engines()


def users_and_demo(url: str) -> tuple[int, bool]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return count_users(session=session), is_demo(session=session)
    finally:
        engine.dispose()


def test_with_rapport_demo_0_seeding_never_happens_even_on_an_empty_database(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAPPORT_DEMO", "0")
    assert manage.main(["seed", "--if-empty"]) == 0  # what `make run` calls
    assert manage.main(["seed"]) == 1
    assert manage.main(["seed", "--scale", "0.01"]) == 1
    assert users_and_demo(empty_database) == (0, False)
    assert manage.main(["demo-info"]) == 0
    assert DEMO_PASSWORD not in capsys.readouterr().out


def test_a_user_created_first_keeps_make_run_from_seeding_the_demo(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long private password\n"))
    assert manage.main(["create-user", "dana", "--role", "admin"]) == 0
    # `make run` after `create-user`: seed --if-empty, then demo-info.
    assert manage.main(["seed", "--if-empty"]) == 0
    assert manage.main(["demo-info"]) == 0
    assert users_and_demo(empty_database) == (1, False)
    assert DEMO_PASSWORD not in capsys.readouterr().out


def test_a_production_installation_refuses_the_published_demo_password_for_any_account(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAPPORT_DEMO", "0")
    monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_PASSWORD + "\n"))
    assert manage.main(["create-user", "admin", "--role", "admin"]) == 1
    assert "published demo password" in capsys.readouterr().err
    assert users_and_demo(empty_database) == (0, False)
    monkeypatch.setenv("RAPPORT_DEMO", "1")
    engine = make_engine(empty_database)
    try:
        with session_scope(engine) as session:
            seed_users(session=session)
            admin = get_user_by_username(session=session, username="admin")
            assert admin is not None
            monkeypatch.setenv("RAPPORT_DEMO", "0")
            with pytest.raises(ValidationError, match="published demo password"):
                reset_password(
                    session=session,
                    user_id=admin.id or 0,
                    new_password=DEMO_PASSWORD,
                    actor=OPERATOR,
                )
    finally:
        engine.dispose()


def test_the_demo_sign_ins_are_printed_only_while_they_work(
    app_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert manage.main(["demo-info"]) == 0
    out = capsys.readouterr().out
    assert "Demo sign-ins" in out and DEMO_PASSWORD in out


def test_a_freshly_seeded_demo_is_recognised_without_a_single_bcrypt_check(
    own_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_bcrypt(*_args: object) -> bool:
        raise AssertionError("the banner ran bcrypt for a hash as seeded")

    monkeypatch.setattr(db.demo.fixtures, "_DEMO_HASHES", {})
    monkeypatch.setattr(db.demo.fixtures, "check_password", no_bcrypt)
    [banner] = banners(page_as(own_database, "pages/contacts.py", "sales"))
    assert "admin, hr, manager, privacy, reviewer, sales, sales2 still have" in banner
