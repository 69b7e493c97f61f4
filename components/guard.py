"""`page()`: the first call of every page: config, sign-in, role check, sidebar."""

import logging
from typing import Literal, overload

import streamlit as st
from sqlalchemy.exc import OperationalError

from components import auth
from components.db import db_session
from components.nav import EVERYONE, draw_sidebar, screen_for, script_path
from components.text import escape_markdown
from components.ui import DB_DOWN, show_flash
from db.auth.audit import record_view
from db.core.settings import get_settings
from db.demo.fixtures import demo_password_accounts
from db.models.auth import ROLE_LABELS, User

log = logging.getLogger("rapport")

# The browser tab's icon: an emoji, because a material icon there makes the browser
# fetch an SVG from a third-party host on every page.
FAVICON = "🤝"
SIGN_OUT_KEY = "rapport_sign_out_requested"
SIGNED_OUT_KEY = "rapport_signed_out"


def _demo_banner() -> None:
    """Warn on every page while a demo account still has the published demo password."""
    try:
        with db_session() as session:
            names = demo_password_accounts(session=session)
    except OperationalError:
        log.warning("database unavailable while checking for demo accounts")
        return
    if names:
        st.warning(
            "This is a demo installation: the accounts "
            + ", ".join(escape_markdown(name) for name in names)
            + " still have the published demo password, so anyone can sign in as them. "
            "Do not enter real information until an administrator has changed their "
            "passwords or deactivated them."
        )


def _request_sign_out() -> None:
    # Runs before the next script run, so that run starts signed out and can draw
    # the sign-in form (and delete the cookie) from the top.
    st.session_state[SIGN_OUT_KEY] = True


def _signed_in_user(organisation: str) -> User:
    """The signed-in user of this browser session, or the sign-in form and a stop.

    Within a signed-in session the server-side session is checked on every run, and
    nothing more is needed. The library's cookie manager is only drawn when the cookie
    has to be read (a fresh browser tab), written (just signed in) or deleted (signing
    out): it is a frame of its own, and drawing it on every page would make each
    page change load and boot that frame again and run the page a second time.
    """
    settled = not st.session_state.get(SIGN_OUT_KEY) and not st.session_state.get(
        auth.PENDING_COOKIE_KEY
    )
    try:
        user = auth.current_user() if settled else None
    except OperationalError:
        log.exception("database unavailable while checking the session")
        st.error(DB_DOWN)
        st.stop()
    if user is not None:
        return user
    try:
        authenticator = auth.authenticator()
    except auth.CookieKeyMissing as err:
        st.error(str(err))
        st.stop()
    if st.session_state.pop(SIGN_OUT_KEY, False):
        auth.sign_out(authenticator)
        # Kept until the next sign-in: deleting the cookie reruns the page at once, and a
        # message drawn only in this run would vanish before the person could read it.
        st.session_state[SIGNED_OUT_KEY] = True
    if st.session_state.get(SIGNED_OUT_KEY):
        st.success("You are signed out. This browser's session has ended on the server too.")
    try:
        user = auth.sign_in(authenticator)
    except OperationalError:
        log.exception("database unavailable during sign-in")
        st.error(DB_DOWN)
        st.stop()
    if user is None:
        draw_sidebar(None, organisation)
        st.caption("Sign in to continue. Accounts are created by your administrator.")
        st.stop()
    st.session_state.pop(SIGNED_OUT_KEY, None)
    auth.flush_cookie(authenticator)
    return user


@overload
def page(script: str, *, sensitive: bool = False) -> User: ...


@overload
def page(script: str, *, public: Literal[True]) -> None: ...


def page(script: str, *, public: bool = False, sensitive: bool = False) -> User | None:
    """Set up the page of file `script` (pass `__file__`) and return its signed-in user,
    or stop the script.

    The page's title and the roles that may open it come from its row of
    `components.nav.SCREENS`, the one table of screens. `public=True` (which the row must
    say too): no account is needed and none is looked up, so nothing links the visit to a
    person. `sensitive`: every view is written to the audit log.
    """
    screen = screen_for(script_path(script))
    if screen.public != public:
        raise RuntimeError(f"{screen.path}: public={public} here but {screen.public} in SCREENS.")
    title = screen.label
    roles = None if screen.roles == EVERYONE else screen.roles
    organisation = get_settings().organisation_name
    st.set_page_config(page_title=f"{title} · {organisation}", page_icon=FAVICON, layout="wide")
    _demo_banner()
    show_flash()
    if public:
        draw_sidebar(None, organisation)
        return None
    user = _signed_in_user(organisation)
    allowed = frozenset(roles) if roles is not None else None
    draw_sidebar(user, organisation)
    st.sidebar.button(
        "Sign out", icon=":material/logout:", key="rapport_sign_out", on_click=_request_sign_out
    )
    if allowed is not None and not user.has_any(allowed):
        needed = ", ".join(ROLE_LABELS[r] for r in sorted(allowed))
        st.title(escape_markdown(title))
        st.error(
            f"You don't have access to {escape_markdown(title)}. It is for: {needed}. "
            "Ask an administrator if you need it."
        )
        st.stop()
    if sensitive:
        try:
            with db_session() as session:
                record_view(session=session, actor=user, entity="page", entity_id=title)
        except OperationalError:
            log.exception("database unavailable while recording a view")
            st.error(DB_DOWN)
            st.stop()
    return user
