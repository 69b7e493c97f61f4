"""Sign-in through streamlit-authenticator, with users and sessions in the database.

The library draws the sign-in form and keeps the signed cookie. Its own password
check and attempt counter live in a per-process dictionary, so here they are
replaced by db/auth/accounts.py: the lockout survives reloads, restarts and replicas, and
the cookie carries a server-side session id that signing out revokes.
"""

import os
from typing import Any

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.models import AuthenticationModel, CookieModel

from components.db import db_session
from db.auth.accounts import authenticate, close_session, open_session, resolve_session
from db.core.errors import AccountLocked, AuthenticationFailed
from db.core.settings import get_settings
from db.models.auth import User

COOKIE_NAME = "rapport_session"
TOKEN_KEY = "rapport_session_token"
LOGIN_ERROR_KEY = "rapport_login_error"
PENDING_COOKIE_KEY = "rapport_cookie_pending"
MIN_KEY_BYTES = 32
_KNOWN_DEFAULTS = {"some_key", "some_signature_key", "abcdef", "random_signature_key"}


class CookieKeyMissing(RuntimeError):
    """No usable cookie key is configured: the app refuses to serve."""


def cookie_key() -> str:
    """The cookie-signing key from RAPPORT_COOKIE_KEY or secrets.toml; never a default."""
    key = os.environ.get("RAPPORT_COOKIE_KEY", "").strip()
    if not key:
        try:
            key = str(st.secrets.get("cookie_key", "")).strip()
        except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
            key = ""
    if not key:
        raise CookieKeyMissing(
            "No cookie key is configured. Run `make run` (or `python manage.py "
            "ensure-secrets`) to generate one, or set RAPPORT_COOKIE_KEY."
        )
    if key in _KNOWN_DEFAULTS or len(key.encode("utf-8")) < MIN_KEY_BYTES:
        raise CookieKeyMissing(
            f"The cookie key must be at least {MIN_KEY_BYTES} random bytes; generate a new "
            "one with `python manage.py ensure-secrets` after removing the old one."
        )
    return key


class _DatabaseAuthenticationModel(AuthenticationModel):
    """Password and cookie checks against the database instead of a credentials dict."""

    def __init__(self) -> None:
        super().__init__(credentials={"usernames": {}}, auto_hash=False)

    def login(
        self,
        username: str | None,
        password: str | None,
        max_concurrent_users: int | None = None,
        max_login_attempts: int | None = None,
        token: dict[str, Any] | None = None,
        single_session: bool = False,
        callback: Any = None,
    ) -> bool | None:
        if username:
            with db_session() as session:
                try:
                    user = authenticate(session=session, username=username, password=password or "")
                except (AuthenticationFailed, AccountLocked) as err:
                    st.session_state["authentication_status"] = False
                    st.session_state[LOGIN_ERROR_KEY] = str(err)
                    return False
                new = open_session(session=session, user=user)
            st.session_state[TOKEN_KEY] = new.token
            st.session_state[PENDING_COOKIE_KEY] = True
            _remember(user)
            return True
        if token and isinstance(token.get("sid"), str):
            with db_session() as session:
                found = resolve_session(session=session, token=token["sid"])
            if found is not None:
                st.session_state[TOKEN_KEY] = token["sid"]
                _remember(found)
        return None


class _SessionCookieModel(CookieModel):
    """The library's signed cookie, carrying the server-side session id too."""

    def __init__(self, base: CookieModel) -> None:
        # Adopt the library's instance: its cookie manager is already on the page,
        # and a second one would clash with it.
        self.__dict__.update(base.__dict__)

    def set_cookie(self) -> None:
        # The library sets the cookie in the middle of the sign-in run; the guard
        # sets it on the next complete run instead, so the browser surely gets it.
        st.session_state[PENDING_COOKIE_KEY] = True

    def write_cookie(self) -> None:
        """Send the cookie to the browser now."""
        super().set_cookie()

    def _token_encode(self) -> str:
        return jwt.encode(
            {
                "username": st.session_state["username"],
                "sid": st.session_state[TOKEN_KEY],
                "exp_date": self.exp_date,
            },
            self.cookie_key,
            algorithm="HS256",
        )


def _remember(user: User) -> None:
    st.session_state["authentication_status"] = True
    st.session_state["username"] = user.username
    st.session_state["name"] = user.display_name
    st.session_state["email"] = user.email
    st.session_state["roles"] = sorted(r.value for r in user.roles)
    st.session_state["logout"] = None


def authenticator() -> stauth.Authenticate:
    """The library's authenticator, wired to the database (one per script run)."""
    hours = get_settings().session_hours
    auth = stauth.Authenticate(
        credentials={"usernames": {}},
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(),
        cookie_expiry_days=hours / 24,
        auto_hash=False,
        login_sleep_time=0,
    )
    auth.authentication_controller.authentication_model = _DatabaseAuthenticationModel()
    controller = auth.cookie_controller
    controller.cookie_model = _SessionCookieModel(controller.cookie_model)
    return auth


def current_user() -> User | None:
    """The user of this browser session, re-checked against the database each run."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    with db_session() as session:
        user = resolve_session(session=session, token=token)
    if user is None:
        # Revoked, expired or deactivated: forget it, so the form shows again.
        for key in (TOKEN_KEY, "authentication_status", "username", "name", "roles"):
            st.session_state[key] = None
    return user


def sign_in(auth: stauth.Authenticate) -> User | None:
    """Resume from the cookie, or draw the sign-in form; the user once signed in."""
    user = current_user()
    if user is not None:
        return user
    st.session_state["authentication_status"] = None
    auth.login(
        location="main",
        fields={
            "Form name": "Sign in",
            "Username": "Username",
            "Password": "Password",
            "Login": "Sign in",
        },
        key="sign_in",
    )
    error = st.session_state.pop(LOGIN_ERROR_KEY, None)
    if error:
        st.error(error)
    return current_user()


def flush_cookie(auth: stauth.Authenticate) -> None:
    """Write the session cookie if a sign-in in this browser is waiting for it."""
    if st.session_state.pop(PENDING_COOKIE_KEY, False) and st.session_state.get(TOKEN_KEY):
        model = auth.cookie_controller.cookie_model
        if isinstance(model, _SessionCookieModel):
            model.write_cookie()


def sign_out(auth: stauth.Authenticate) -> None:
    """Revoke the session on the server and delete the cookie in the browser."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        with db_session() as session:
            close_session(session=session, token=token)
    auth.cookie_controller.delete_cookie()
    for key in (TOKEN_KEY, "authentication_status", "username", "name", "email", "roles"):
        st.session_state[key] = None
    # Tells the library not to sign this browser session in again from the cookie.
    st.session_state["logout"] = True
