"""Running a command from a page and telling the person how it went."""

import logging
import secrets
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.exc import DBAPIError, OperationalError

from components.db import db_session
from db.core.errors import DomainError

T = TypeVar("T")
DB_BUSY = (
    "The database is busy with another task and could not save this; nothing was changed. "
    "Try again in a moment."
)
log = logging.getLogger("rapport")

DB_DOWN = (
    "Rapport cannot reach its database right now, so nothing was changed. "
    "Try again in a minute; if it lasts, tell your administrator."
)
DB_REFUSED = (
    "The database refused this change, so nothing was saved. Try again; if it happens "
    "again, tell your administrator."
)


def _error_code(err: DBAPIError) -> str:
    """The driver's error code or name (SQLSTATE, SQLite's error name): never a message."""
    original = err.orig
    for attribute in ("sqlstate", "sqlite_errorname", "pgcode"):
        value = getattr(original, attribute, None)
        if isinstance(value, str) and value.isascii() and len(value) <= 40:
            return value
    return "no code"


def log_database_fault(what: str, err: DBAPIError) -> None:
    """Log a database fault without its message, statement parameters or SQL.

    The driver's message and SQLAlchemy's text of the error may quote what a person
    typed (a value in a constraint's detail, the parameters of the statement), and the
    log must never hold what a reporter wrote: only the kinds of error, the driver's
    code and where in the code it happened.
    """
    frames = traceback.extract_tb(err.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames[-8:])
    log.error(
        "%s: %s (%s, %s) at %s",
        what,
        type(err).__name__,
        type(err.orig).__name__,
        _error_code(err),
        where or "unknown",
    )


def attempt(action: Callable[[], T], *, success: str | None = None) -> T | None:
    """Run a db/ command; show its domain error or a database outage as a sentence."""
    try:
        result = action()
    except DomainError as err:
        st.error(str(err))
        return None
    except OperationalError as err:
        log_database_fault("database unavailable", err)
        busy = _error_code(err) in {"SQLITE_BUSY", "SQLITE_LOCKED", "55P03", "40P01"} or (
            "locked" in str(err.orig).lower()
        )
        st.error(DB_BUSY if busy else DB_DOWN)
        return None
    except DBAPIError as err:
        log_database_fault("database refused a statement", err)
        st.error(DB_REFUSED)
        return None
    if success:
        st.success(success)
    return result


class Failed:
    """What `run` returns when the command did not happen (its message is already shown)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "FAILED"


FAILED = Failed()
FLASH_KEY = "rapport_flash"


def run(
    command: Callable[..., T], /, *, success: str | None = None, **arguments: Any
) -> T | Failed:
    """Run one db/ command in a session of its own (passed as `session=`).

    A domain error or a database fault is shown as a sentence and `FAILED` is returned,
    so a command that returns None is still told apart from one that was refused.
    `success`, if given, is shown when the command worked.
    """

    def call() -> tuple[T]:
        with db_session() as session:
            return (command(session=session, **arguments),)

    outcome = attempt(call, success=success)
    return FAILED if outcome is None else outcome[0]


def later(command: Callable[..., T], /, **arguments: Any) -> Callable[[], T]:
    """A db/ command to run, in a session of its own, only when called: the file behind a
    download button is then made when it is clicked, not on every run of the page."""

    def call() -> T:
        with db_session() as session:
            return command(session=session, **arguments)

    return call


def act(command: Callable[..., T], /, *, done: str, rerun: bool = True, **arguments: Any) -> bool:
    """Run a db/ command for a click; on success say `done` after the page's rerun.

    A click's outcome must survive the rerun that redraws the page with the change
    (a message drawn just before `st.rerun()` is never seen), so it is kept in the
    session and shown once by the next run's `page()`.
    """
    if isinstance(run(command, **arguments), Failed):
        return False
    flash(done)
    if rerun:
        st.rerun()
    return True


def flash(message: str, *, kind: str = "success") -> None:
    """Keep a message for the next run of the page (`show_flash` draws it once)."""
    st.session_state[FLASH_KEY] = (kind, message)


def show_flash() -> None:
    """Draw, once, the message the last action kept for this run."""
    kept = st.session_state.pop(FLASH_KEY, None)
    if not kept:
        return
    kind, message = kept
    draw = {"success": st.success, "info": st.info, "warning": st.warning}.get(kind, st.success)
    draw(message, icon=":material/check_circle:" if kind == "success" else None)


VISITOR_KEY = "rapport_visitor"


def visitor_id(form: str = "public") -> str:
    """A random id of this browser session for one public form, for its rate limits.

    Each form gets its own id, so nothing links what one browser did on two forms. It
    lives only in the server's memory of this session: no cookie, no IP address.
    """
    key = f"{VISITOR_KEY}_{form}"
    if not st.session_state.get(key):
        st.session_state[key] = secrets.token_hex(16)
    return str(st.session_state[key])


def pager(*, total: int, page_size: int, key: str) -> int:
    """Page controls under a table; returns the offset of the page chosen."""
    pages = max(1, -(-total // page_size))
    left, right = st.columns([1, 3])
    number = left.number_input(
        "Page",
        min_value=1,
        max_value=pages,
        value=1,
        step=1,
        key=key,
        help=f"{pages} page{'s' if pages != 1 else ''}",
    )
    first = (int(number) - 1) * page_size + 1 if total else 0
    last = min(total, int(number) * page_size)
    right.caption(f"Showing {first}–{last} of {total:,}")
    return (int(number) - 1) * page_size


def show_chart(chart: Any, *, where: Any = None) -> None:
    """Draw an Altair chart without validating its spec against the Vega-Lite schema again.

    `st.altair_chart` validates on every rerun, which costs 40–150 ms a chart on this
    machine (most of a warm chart page); the chart builders are pure and their unit tests
    validate the same specs, so here the spec is taken as it is.
    """
    spec = chart.to_dict(validate=False)
    config = spec.get("config")
    if isinstance(config, dict):
        # Altair's default theme sizes the view; Streamlit draws with no theme and
        # sizes the chart to its container.
        config.pop("view", None)
        if not config:
            spec.pop("config")
    (where or st).vega_lite_chart(spec=spec, width="stretch")
