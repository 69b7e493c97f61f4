"""AppTest fixtures: a migrated, seeded SQLite database and signed-in sessions."""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from db.auth.accounts import get_user_by_username, open_session
from db.core.engine import make_engine, session_scope
from db.core.migrate import upgrade
from db.demo.fixtures import seed_demo
from tests.conftest import ROOT

RunPage = Callable[..., AppTest]


@pytest.fixture(scope="session")
def app_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo database built the way `make run` builds it: migrations, then seed."""
    path = Path(tmp_path_factory.mktemp("app")) / "rapport.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        seed_demo(session=session)
    engine.dispose()
    previous = os.environ.get("RAPPORT_DATABASE_URL")
    os.environ["RAPPORT_DATABASE_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("RAPPORT_DATABASE_URL", None)
    else:
        os.environ["RAPPORT_DATABASE_URL"] = previous


def sign_in_token(url: str, username: str) -> str:
    """Open a server-side session for a user, as the sign-in form would."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            user = get_user_by_username(session=session, username=username)
            assert user is not None, username
            return open_session(session=session, user=user).token
    finally:
        engine.dispose()


@pytest.fixture
def app_engine(app_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The app database's engine; receipt codes hashed cheaply so concerns are quick."""
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    engine = make_engine(app_database)
    yield engine
    engine.dispose()


@pytest.fixture
def run_page(app_database: str) -> Iterator[RunPage]:
    """Run a page file as `username` (or signed out), opened with `query` in its link, and
    return the finished AppTest."""
    st.cache_data.clear()
    st.cache_resource.clear()

    def run(
        path: str,
        username: str | None = None,
        timeout: float = 30,
        query: dict[str, str] | None = None,
    ) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
        if path != "app.py":
            at.switch_page(path)
        for name, value in (query or {}).items():
            at.query_params[name] = value  # as in the link the page was opened from
        if username is not None:
            at.session_state["rapport_session_token"] = sign_in_token(app_database, username)
        return at.run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()
