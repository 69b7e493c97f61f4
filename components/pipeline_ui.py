"""Small helpers the people and pipeline pages share: ids from the URL, money, versions."""

from decimal import Decimal

import streamlit as st

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


def money(amount: Decimal | None, currency: str = "") -> str:
    """1234.5 → "1,234.50 GBP"."""
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency}".strip()


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
