"""Running a command from a page and telling the person how it went."""

import logging
from collections.abc import Callable
from typing import TypeVar

import streamlit as st
from sqlalchemy.exc import OperationalError

from db.errors import DomainError

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
