"""The one control for logging a message that may be marketing: the same everywhere.

Wherever a marketing message can be logged (Contact 360's log form, the Consent page),
the form has the override field the refusal asks for, and a refusal keeps everything
typed: the form is not cleared on submit, only after the message was logged.
"""

import streamlit as st

from components.drafts import clear_next_run
from db.people.interactions import OVERRIDE_REASON_MAX

OVERRIDE_LABEL = "Override reason (marketing without consent only)"
OVERRIDE_HELP = (
    "Leave empty unless this is a marketing message the person has not agreed to and it "
    "must still be sent. Give the reason; the consent audit reports every override. An "
    "objection to direct marketing cannot be overridden."
)


def override_reason_input(key: str) -> str:
    """The override field, with the same label and explanation on every form."""
    return st.text_input(OVERRIDE_LABEL, key=key, max_chars=OVERRIDE_REASON_MAX, help=OVERRIDE_HELP)


def forget(*keys: str) -> None:
    """Empty a form's text fields on the next run, once what they held was saved."""
    clear_next_run(dict.fromkeys(keys, ""))
