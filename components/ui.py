"""Running a command from a page and telling the person how it went."""

import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy.exc import OperationalError

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


def attempt(action: Callable[[], T], *, success: str | None = None) -> T | None:
    """Run a db/ command; show its domain error or a database outage as a sentence."""
    try:
        result = action()
    except DomainError as err:
        st.error(str(err))
        return None
    except OperationalError as err:
        log.exception("database unavailable")
        st.error(DB_BUSY if "locked" in str(err).lower() else DB_DOWN)
        return None
    if success:
        st.success(success)
    return result


VISITOR_KEY = "rapport_visitor"


def visitor_id() -> str:
    """A random id for this browser session, for the public forms' rate limits.

    It lives only in the server's memory of this session: no cookie, no IP address.
    """
    if not st.session_state.get(VISITOR_KEY):
        st.session_state[VISITOR_KEY] = secrets.token_hex(16)
    return str(st.session_state[VISITOR_KEY])


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
