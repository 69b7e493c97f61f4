"""Small helpers the people and pipeline pages share: ids from the URL, money, versions."""

from decimal import Decimal

import streamlit as st


def query_id(name: str = "id") -> int | None:
    """A positive integer from the page's query string (?id=12), or None."""
    raw = st.query_params.get(name)
    if raw is None or not str(raw).isdigit():
        return None
    value = int(str(raw))
    return value if value > 0 else None


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
