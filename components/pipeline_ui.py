"""Small helpers the people and pipeline pages share: ids from the URL, money and times
as the viewer reads them, versions."""

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency

from db.core.validation import ID_MAX

# What query_id gives for an id that is there but can name no record (text, a negative
# or huge number): no row has id 0, so the page answers "no such record you can see",
# exactly as for a record the person may not see, and nothing reaches the database that
# it would refuse.
NO_SUCH_ID = 0


def query_id(name: str = "id") -> int | None:
    """The id in the page's query string (?id=12): None when absent or empty, NO_SUCH_ID
    when it cannot be an id (not a whole number from 1 to the largest id the database
    holds)."""
    raw = st.query_params.get(name)
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(ID_MAX)):
        return NO_SUCH_ID
    value = int(text)
    return value if 0 < value <= ID_MAX else NO_SUCH_ID


DEFAULT_LOCALE = "en_GB"


@lru_cache(maxsize=64)
def _locale(tag: str | None) -> Locale:
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def viewer_locale() -> Locale:
    """The browser's language for numbers (en_GB when it does not say or is unknown)."""
    try:
        tag = st.context.locale
    except Exception:  # outside a browser session (a script, a test without context)
        tag = None
    return _locale(tag if isinstance(tag, str) else None)


def money(amount: Decimal | float | None, currency: str = "", *, whole: bool = False) -> str:
    """1234.5 GBP → "£1,234.50": the currency's symbol and the viewer's separators."""
    if amount is None:
        return "—"
    if not currency:
        return f"{Decimal(str(amount)):,.{0 if whole else 2}f}"
    return format_currency(
        Decimal(str(amount)),
        currency,
        locale=viewer_locale(),
        format="¤#,##0" if whole else None,
        currency_digits=not whole,
    )


def money_totals(totals: dict[str, Decimal], *, whole: bool = False) -> str:
    """Amounts in several currencies, one after the other: "£12,000 · €3,500"."""
    return " · ".join(money(v, c, whole=whole) for c, v in sorted(totals.items())) or "nothing"


def viewer_zone() -> dt.tzinfo:
    """The viewer's time zone as the browser gives it (UTC when it does not or is unknown)."""
    try:
        name = st.context.timezone
    except Exception:  # outside a browser session
        name = None
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return dt.UTC


def local_time(moment: dt.datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored UTC time shown in the viewer's time zone."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(viewer_zone()).strftime(fmt)


def percent(rate: Decimal | None) -> str:
    """0.4567 → "45.7%"."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def opened_version(key: str, current: int, *, last_by_me: bool = False) -> int:
    """The version of a record when this person opened it (kept until they save or reload).

    Saving with this version, not the current one, is what lets the data layer notice
    that someone else saved in between. When the latest change is the person's own (made
    on another page, say the board), there is nothing of anyone else's to protect.
    """
    state_key = f"opened_version_{key}"
    if state_key not in st.session_state or last_by_me:
        st.session_state[state_key] = current
    return int(st.session_state[state_key])


def forget_version(key: str) -> None:
    """Drop the remembered version (after a save, or when the person reloads)."""
    st.session_state.pop(f"opened_version_{key}", None)
