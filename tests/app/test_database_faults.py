"""When the database goes away or is locked, people get a sentence, and nothing half-done."""

import sqlite3
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import streamlit as st
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from components.ui import DB_BUSY, DB_DOWN
from db.engine import make_engine, reset_engines
from db.fixtures import seed_users
from db.migrate import upgrade
from db.models.auth import User
from tests.app.conftest import sign_in_token
from tests.conftest import POSTGRES_URL, ROOT, drop_postgres_schema, postgres_schema_engine
from tests.faults import Relay


def admin_page(url: str, token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/admin.py")
    at.session_state["rapport_session_token"] = token
    return at


def fill_new_user(at: AppTest, username: str) -> None:
    at.text_input(key="new_username").input(username)
    at.text_input(key="new_name").input("Fault Test")
    at.text_input(key="new_email").input(f"{username}@example.org")
    at.text_input(key="new_password").input("a long enough password")
    at.text_input(key="new_repeat").input("a long enough password")
    at.multiselect(key="new_roles").select("hr")
    at.button(key="FormSubmitter:create_user-Create user").click()


@pytest.fixture
def relayed_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Relay]]:
    if not POSTGRES_URL:
        pytest.skip("needs RAPPORT_TEST_POSTGRES_URL (CI sets it)")
    schema = "rapport_fault_test"
    engine = postgres_schema_engine(schema)
    upgrade(engine)
    with Session(engine) as session:
        seed_users(session=session)
    target = make_url(POSTGRES_URL)
    relay = Relay(target.host or "127.0.0.1", target.port or 5432)
    relay.restore()
    url = target.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    url += ("&" if "?" in url else "?") + "options=" + quote(f"-csearch_path={schema}")
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    st.cache_resource.clear()
    yield url, relay
    relay.cut()
    st.cache_resource.clear()
    reset_engines()
    drop_postgres_schema(engine, schema)


def test_postgres_going_away_mid_action_shows_a_sentence_and_recovers(
    relayed_postgres: tuple[str, Relay],
) -> None:
    url, relay = relayed_postgres
    at = admin_page(url, sign_in_token(url, "admin")).run()
    assert at.title[0].value == "Users and roles"

    relay.cut()
    fill_new_user(at, "during_outage")
    at.run()
    assert not at.exception
    assert any(DB_DOWN in e.value for e in at.error), [e.value for e in at.error]

    relay.restore()
    at.run()
    assert not at.exception and at.title[0].value == "Users and roles"
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(User).where(User.username == "during_outage")).first() is None
    engine.dispose()
    fill_new_user(at, "after_outage")
    at.run()
    assert any("Created after\\_outage" in s.value for s in at.success)  # the name, escaped


def test_postgres_down_when_the_app_starts_shows_a_sentence_and_recovers_without_restart(
    relayed_postgres: tuple[str, Relay],
) -> None:
    url, relay = relayed_postgres
    token = sign_in_token(url, "admin")
    relay.cut()
    reset_engines()  # the app process starts now, with no connection made yet
    st.cache_resource.clear()
    at = admin_page(url, token).run()
    assert not at.exception
    assert any(DB_DOWN in e.value for e in at.error), [e.value for e in at.error]

    relay.restore()
    at.run()
    assert not at.exception and at.title[0].value == "Users and roles"
    fill_new_user(at, "after_start_outage")
    at.run()
    assert any("Created after\\_start\\_outage" in s.value for s in at.success)  # escaped


def test_a_sqlite_file_locked_by_another_process_refuses_the_write_cleanly(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"{tmp_path}/locked.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        seed_users(session=session)
    engine.dispose()
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    st.cache_resource.clear()
    at = admin_page(url, sign_in_token(url, "admin")).run()

    holder = sqlite3.connect(path, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        fill_new_user(at, "while_locked")
        at.run()
        assert not at.exception
        assert any(DB_BUSY in e.value or DB_DOWN in e.value for e in at.error)
    finally:
        holder.rollback()
        holder.close()
    at.run()
    fill_new_user(at, "after_lock")
    at.run()
    assert any("Created after\\_lock" in s.value for s in at.success)  # the name, escaped
    st.cache_resource.clear()
    reset_engines()
