"""Sign-in through streamlit-authenticator, with users and sessions in the database.

The library draws the sign-in form and keeps the signed cookie. Its own password
check and attempt counter live in a per-process dictionary, so here they are
replaced by db/auth/accounts.py: the lockout survives reloads, restarts and replicas, and
the cookie carries a server-side session id that signing out revokes.
"""

import math
import zlib
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
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
# A key must look random: this many bits by the estimate below, at least.
MIN_KEY_BITS = 128
_KNOWN_DEFAULTS = {"some_key", "some_signature_key", "abcdef", "random_signature_key"}


class CookieKeyMissing(RuntimeError):
    """No usable cookie key is configured: the app refuses to serve."""


def cookie_key() -> str:
    """The cookie-signing key from RAPPORT_COOKIE_KEY or secrets.toml; never a default."""
    key = get_settings().cookie_key
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
    if (
        key in _KNOWN_DEFAULTS
        or len(key.encode("utf-8")) < MIN_KEY_BYTES
        or estimated_key_bits(key) < MIN_KEY_BITS
    ):
        raise CookieKeyMissing(
            f"The cookie key must be at least {MIN_KEY_BYTES} random bytes (this one is too "
            "short, a known default, or too regular to be random); generate a new one with "
            "`python manage.py ensure-secrets` after removing the old one."
        )
    return key


def estimated_key_bits(key: str) -> float:
    """A generous upper estimate of a key's randomness, in bits.

    The least of: the characters' entropy over the key's shortest repeating unit
    ("abcd" * 10 counts as "abcd"), and what zlib cannot squeeze out of it. It tells a
    key that is plainly not random ("k" * 40, a repeated word) from a generated one; it
    cannot prove that a key is random, so keys are generated, never typed.
    """
    data = key.encode("utf-8")
    unit = data[: _shortest_period(data)]
    counts = Counter(unit)
    spread = -sum(n / len(unit) * math.log2(n / len(unit)) for n in counts.values())
    # zlib adds a 2-byte header and a 4-byte checksum to whatever it keeps.
    squeezed = (len(zlib.compress(data, 9)) - 6) * 8
    return min(spread * len(unit), squeezed)


def _shortest_period(data: bytes) -> int:
    for period in range(1, len(data) // 2 + 1):
        if all(data[i] == data[i - period] for i in range(period, len(data))):
            return period
    return len(data)


def secure_cookie(*, headers: Mapping[str, str], url: str | None, setting: str) -> bool:
    """Whether the session cookie gets the Secure flag (sent over HTTPS only).

    RAPPORT_COOKIE_SECURE=1 always, 0 never; otherwise when the browser's address is
    https or a proxy in front says so (X-Forwarded-Proto, Forwarded). A client that
    claims HTTPS falsely only stops its own cookie coming back over plain HTTP.
    """
    if setting in {"1", "0"}:
        return setting == "1"
    lowered = {name.lower(): value for name, value in headers.items()}
    forwarded_proto = lowered.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    forwarded = lowered.get("forwarded", "").split(",")[0].lower()
    return (
        (url or "").lower().startswith("https://")
        or forwarded_proto == "https"
        or "proto=https" in forwarded.replace(" ", "")
    )


def _request() -> tuple[Mapping[str, str], str | None]:
    """The headers and address of the browser request this script run serves."""
    try:
        return dict(st.context.headers), st.context.url
    except Exception:  # outside a browser request there is nothing to read
        return {}, None


def _request_is_https() -> bool:
    headers, url = _request()
    return secure_cookie(headers=headers, url=url, setting=get_settings().cookie_secure)


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
        """Send the cookie to the browser now; Secure when the page is served over HTTPS."""
        if self.cookie_expiry_days == 0:
            return
        self.exp_date = self._set_exp_date()
        self.cookie_manager.set(
            self.cookie_name,
            self._token_encode(),
            expires_at=datetime.now() + timedelta(days=self.cookie_expiry_days),
            secure=True if _request_is_https() else None,
            same_site="strict",
        )

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
