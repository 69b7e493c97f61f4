"""Clearing a form's fields once what they held was saved.

A widget's value cannot be changed once it is drawn in a run, and deleting its state does
not empty the field in the browser. So a page asks for fields to be emptied on the next
run (`clear_next_run`) and, before it draws them, sets them (`clear_pending`): a value
set before the widget is drawn is the one the browser shows.
"""

import streamlit as st

PENDING = "rapport_clear_next_run"


def clear_next_run(values: dict[str, object]) -> None:
    """Set these widget keys to these values at the start of the next run."""
    pending: dict[str, object] = st.session_state.setdefault(PENDING, {})
    pending.update(values)


def clear_pending() -> None:
    """Empty the fields asked for by the last run (call before drawing any of them)."""
    for key, value in st.session_state.pop(PENDING, {}).items():
        st.session_state[key] = value
