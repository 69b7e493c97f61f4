"""When the database goes away or is locked, people get a sentence, and nothing half-done."""

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import streamlit as st
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from components.ui import DB_BUSY, DB_DOWN, attempt
from db.cases.intake import submit_concern
from db.core.engine import make_engine, reset_engines
from db.core.migrate import upgrade
from db.demo.fixtures import seed_users
from db.models.auth import User
from db.models.cases import ConcernCreate
from tests.app.conftest import sign_in_token
from tests.conftest import (
    POSTGRES_URL,
    ROOT,
    backends,
    drop_postgres_schema,
    fresh_engine,
    postgres_schema_engine,
)
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


# --- what a reporter types never reaches the server log ---------------------------------

TYPED = {
    "concern_what": "Typed-what-happened-4d1e the supervisor shouted at me",
    "concern_where": "Typed-where-9b2c stores, Tuesday",
    "concern_people": "Typed-people-5a7f Jo Bloggs",
    "concern_name": "Typed-name-3e8d Sam Reporter",
    "concern_email": "typed-email-6c0a@example.org",
    "concern_phone": "+44 7700 900 461",
}


class LogCapture(logging.Handler):
    """Every record any logger emits, formatted as the server log would print it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def server_log() -> Iterator[LogCapture]:
    capture = LogCapture()
    # Everything Rapport and Streamlit log, at every level; SQLAlchemy's own loggers keep
    # their production level (INFO there would echo every statement, by design).
    loggers = [logging.getLogger(), logging.getLogger("rapport"), logging.getLogger("streamlit")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


@contextmanager
def fault_on(prefix: str, fault: Callable[[], None]) -> Iterator[list[str]]:
    """Run `fault` when an engine is about to send a statement starting with `prefix`."""
    hit: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith(prefix) and not hit:
            hit.append(statement)
            fault()

    event.listen(Engine, "before_cursor_execute", before)
    st.cache_resource.clear()  # the page's engine is built again, with the listener
    try:
        yield hit
    finally:
        event.remove(Engine, "before_cursor_execute", before)
        st.cache_resource.clear()


def sqlite_locked() -> None:
    raise sqlite3.OperationalError("database is locked")


def fill_concern(at: AppTest) -> None:
    at.text_area(key="concern_what").input(TYPED["concern_what"])
    at.text_input(key="concern_where").input(TYPED["concern_where"])
    at.text_area(key="concern_people").input(TYPED["concern_people"])
    at.radio(key="concern_identity").set_value("Leave my contact details")
    at.run()
    for key in ("concern_name", "concern_email", "concern_phone"):
        at.text_input(key=key).input(TYPED[key])
    at.button(key="concern_send").click()


def assert_nothing_typed_in(lines: list[str], typed: list[str]) -> None:
    text = "\n".join(lines)
    assert "database" in text, "the fault was logged"
    for value in typed:
        assert value not in text, value
        assert value.lower() not in text.lower(), value


def public_page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(path)
    return at


def test_a_locked_database_during_submit_concern_logs_nothing_the_reporter_typed(
    app_database: str, server_log: LogCapture, capfd: pytest.CaptureFixture[str]
) -> None:
    at = public_page("pages/raise_concern.py").run()
    with fault_on("INSERT INTO CASE_RECORD", sqlite_locked) as hit:
        fill_concern(at)
        at.run()
    assert hit, "the fault was forced on the statement that carries the concern"
    assert not at.exception
    assert any(DB_BUSY in e.value for e in at.error), [e.value for e in at.error]
    out, err = capfd.readouterr()
    assert_nothing_typed_in([*server_log.lines, out, err], list(TYPED.values()))


def test_a_locked_database_during_a_reporter_reply_logs_nothing_of_the_message(
    app_database: str,
    server_log: LogCapture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    engine = make_engine(app_database)
    with Session(engine, expire_on_commit=False) as session:
        sent = submit_concern(
            session=session,
            concern_in=ConcernCreate(category="bullying", what_happened="Shouting."),
        )
    engine.dispose()
    at = public_page("pages/follow_up.py").run()
    at.text_input(key="follow_reference").input(sent.reference)
    at.text_input(key="follow_receipt").input(sent.receipt)
    at.button(key="follow_open").click()
    at.run()
    message = "Typed-reply-8f3b it happened again tonight"
    with fault_on("INSERT INTO CASE_EVENT", sqlite_locked) as hit:
        at.text_area(key="follow_message").input(message)
        at.button(key="FormSubmitter:reporter_reply-Send").click()
        at.run()
    assert hit and not at.exception
    assert any(DB_BUSY in e.value for e in at.error), [e.value for e in at.error]
    out, err = capfd.readouterr()
    assert_nothing_typed_in([*server_log.lines, out, err], [message, sent.receipt])


def test_postgres_going_away_during_submit_concern_logs_nothing_the_reporter_typed(
    relayed_postgres: tuple[str, Relay],
    server_log: LogCapture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    _url, relay = relayed_postgres
    at = public_page("pages/raise_concern.py").run()
    assert not at.exception
    with fault_on("INSERT INTO CASE_RECORD", relay.cut) as hit:
        fill_concern(at)
        at.run()
    assert hit and not at.exception
    assert any(DB_DOWN in e.value for e in at.error), [e.value for e in at.error]
    out, err = capfd.readouterr()
    assert_nothing_typed_in([*server_log.lines, out, err], list(TYPED.values()))
    relay.restore()


@pytest.mark.parametrize("backend", backends())
def test_engines_never_put_statement_parameters_in_errors(backend: str, tmp_path: Path) -> None:
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        assert engine.hide_parameters
        with pytest.raises(DBAPIError) as refused, engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": "Typed-4"})
        assert "Typed-4" not in str(refused.value)
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(
            "UPDATE case_record SET what_happened = ? WHERE id = ?",
            ("Typed-detail-2b9e", 1),
            sqlite3.OperationalError('near "Typed-detail-2b9e": syntax error'),
        ),
        IntegrityError(
            "INSERT INTO case_record (contact_email) VALUES (%(contact_email)s)",
            {"contact_email": "Typed-detail-2b9e"},
            sqlite3.IntegrityError(
                "duplicate key value\nDETAIL:  Key (contact_email)=(Typed-detail-2b9e) exists."
            ),
        ),
    ],
    ids=["operational", "integrity"],
)
def test_a_database_error_is_logged_without_its_message_or_parameters(
    error: DBAPIError, server_log: LogCapture
) -> None:
    # Even from an engine that shows parameters, and a driver that quotes a value.
    def action() -> None:
        raise error

    assert attempt(action) is None
    assert "Typed-detail-2b9e" in str(error), "the error does carry the typed text"
    assert_nothing_typed_in(server_log.lines, ["Typed-detail-2b9e"])
    assert any(type(error).__name__ in line for line in server_log.lines)
