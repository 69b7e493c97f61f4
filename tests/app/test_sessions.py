"""Sessions through the real page guard: deactivation and expiry end them at the next load."""

from collections.abc import Iterator
from datetime import timedelta

import extra_streamlit_components as stx
import pytest
import streamlit as st
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from components import auth
from db.auth.accounts import _token_hash, create_user, deactivate_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.core.engine import make_engine, session_scope
from db.core.types import utcnow
from db.models.auth import AuthSession, Role, UserCreate
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT

USERNAME = "temp.worker"


@pytest.fixture
def temp_worker(app_database: str) -> Iterator[str]:
    """A sales user of its own, so deactivating it leaves the shared demo users alone."""
    engine = make_engine(app_database)
    with session_scope(engine) as session:
        if get_user_by_username(session=session, username=USERNAME) is None:
            create_user(
                session=session,
                user_in=UserCreate(
                    username=USERNAME,
                    display_name="Temp Worker",
                    email="temp.worker@example.org",
                    team="North",
                    password="a long enough password",
                    roles=[Role.sales],
                ),
                actor=OPERATOR,
            )
    yield app_database
    engine.dispose()


def signed_out(at: object) -> bool:
    labels = [t.label for t in at.text_input]  # type: ignore[attr-defined]
    return labels == ["Username", "Password"] and not at.title  # type: ignore[attr-defined]


def test_a_deactivated_users_open_session_stops_working_at_the_next_page_load(
    run_page: RunPage, temp_worker: str
) -> None:
    at = run_page("pages/contacts.py", USERNAME)
    assert not at.exception
    assert [t.value for t in at.title] == ["Contacts"]
    engine = make_engine(temp_worker)
    try:
        with session_scope(engine) as session:
            admin = get_user_by_username(session=session, username="admin")
            worker = get_user_by_username(session=session, username=USERNAME)
            assert admin is not None and worker is not None and worker.id is not None
            deactivate_user(session=session, user_id=worker.id, actor=admin)
    finally:
        engine.dispose()
    at.run()  # the same browser session loads its next page
    assert not at.exception
    assert signed_out(at)


def test_a_session_past_its_configured_lifetime_is_signed_out_at_the_next_page_load(
    run_page: RunPage, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_SESSION_HOURS", "1")
    at = run_page("pages/contacts.py", "sales")
    assert [t.value for t in at.title] == ["Contacts"]
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            token_hash = _token_hash(at.session_state["rapport_session_token"])
            newest = session.get(AuthSession, token_hash)
            assert newest is not None
            # Opened under RAPPORT_SESSION_HOURS=1: it ends one hour after it began.
            assert newest.expires_at - newest.created_at == timedelta(hours=1)
            session.execute(
                update(AuthSession)
                .where(AuthSession.token_hash == token_hash)  # type: ignore[arg-type]
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
            session.commit()
    finally:
        engine.dispose()
    at.run()
    assert not at.exception
    assert signed_out(at)


@pytest.mark.parametrize(
    ("headers", "url", "setting", "secure"),
    [
        ({"X-Forwarded-Proto": "https"}, "http://10.0.0.5:8501/", "", True),
        ({}, "https://crm.example.org/", "", True),
        ({}, "http://localhost:8501/", "", None),
        ({}, "http://localhost:8501/", "1", True),
    ],
)
def test_the_sign_in_cookie_is_secure_when_the_page_is_served_over_https(
    app_database: str,
    monkeypatch: pytest.MonkeyPatch,
    headers: dict[str, str],
    url: str,
    setting: str,
    secure: bool | None,
) -> None:
    written: list[dict[str, object]] = []

    def capture(_manager: object, cookie: str, val: object, **options: object) -> None:
        written.append({"cookie": cookie, **options})

    monkeypatch.setattr(stx.CookieManager, "set", capture)
    monkeypatch.setattr(auth, "_request", lambda: (headers, url))
    monkeypatch.setenv("RAPPORT_COOKIE_SECURE", setting)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    # Just signed in: the next complete run writes the cookie.
    at.session_state[auth.TOKEN_KEY] = sign_in_token(app_database, "sales")
    at.session_state[auth.PENDING_COOKIE_KEY] = True
    at.session_state["username"] = "sales"
    at.run()
    assert not at.exception
    assert [w["cookie"] for w in written] == [auth.COOKIE_NAME]
    assert written[0].get("secure") is secure
    assert written[0]["same_site"] == "strict"
