"""Ask us: public. A question, and how and when the person wants the answer."""

import streamlit as st

from components import page
from components.i18n import language_picker, t
from components.text import escape_markdown
from components.ui import FAILED, run, visitor_id
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.core.settings import get_settings
from db.people.ask_us import (
    ADDRESS_MAX,
    ANSWER_CHANNELS,
    NAME_MAX,
    QUESTION_MAX,
    WHEN_MAX,
    AskIn,
    ask,
)

page(__file__, public=True)
organisation = get_settings().organisation_name
language_picker()
st.title(t("Ask us"))
st.caption(
    t(
        "Ask {organisation} a question and tell us how you would like the answer. Someone "
        "from the team will answer the way you choose.",
        organisation=escape_markdown(organisation),
    )
)

SENT = "ask_us_sent"
if st.session_state.get(SENT):
    st.success(
        t(
            "Thank you: your question is with the team, and they will answer the way you "
            "asked. You can close this page."
        )
    )
    if st.button(t("Ask another question"), key="ask_again"):
        st.session_state.pop(SENT, None)
        st.rerun()
    st.stop()

with st.form("ask_us", clear_on_submit=False):
    question = st.text_area(
        t("Your question"), key="ask_question", max_chars=QUESTION_MAX, height=160
    )
    name = st.text_input(t("Your name"), key="ask_name", max_chars=NAME_MAX)
    # Labels fixed now, in the visitor's language (the widget formats them later too).
    channels = {channel: escape_markdown(t(channel)) for channel in ANSWER_CHANNELS}
    answer_by = st.radio(
        t("How should we answer?"),
        list(channels),
        format_func=channels.__getitem__,
        key="ask_answer_by",
        horizontal=True,
    )
    left, right = st.columns(2)
    email = left.text_input(t("Email address"), key="ask_email", max_chars=EMAIL_MAX)
    phone = right.text_input(
        t("Phone number"),
        key="ask_phone",
        max_chars=PHONE_MAX,
        help=t("With the country code, e.g. +44 20 7946 0018."),
    )
    address = st.text_area(
        t("Postal address (to answer by post)"), key="ask_address", max_chars=ADDRESS_MAX, height=80
    )
    reachable = st.text_input(
        t("When can we reach you? (optional)"),
        key="ask_reachable",
        max_chars=WHEN_MAX,
        placeholder=t("e.g. weekdays after 5 pm"),
    )
    st.caption(
        t(
            "We use these details only to answer you and keep a record of your question with "
            "your details. See “Your data and rights” to ask what we hold."
        )
    )
    sent = st.form_submit_button(t("Send my question"), type="primary")

if sent:
    done = run(
        ask,
        ask_in=AskIn(
            question=question,
            name=name,
            answer_by=str(answer_by),
            email=email,
            phone=phone,
            address=address,
            reachable=reachable,
        ),
        visitor=visitor_id("ask_us"),
    )
    if done is not FAILED:
        for key in ("ask_question", "ask_name", "ask_email", "ask_phone", "ask_address"):
            st.session_state.pop(key, None)
        st.session_state[SENT] = True
        st.rerun()
