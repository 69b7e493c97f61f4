"""Your data and rights: public. Ask what we hold (or any other right) by email code,
follow the request by its reference, and download the answer once it is released."""

import streamlit as st

from components import page
from components.i18n import language_picker, long_date, t
from components.text import escape_markdown
from components.ui import FAILED, run, visitor_id
from db.consent.requests import NOTES_MAX, AccessExport
from db.consent.self_service import (
    CODE_INPUT_MAX,
    KIND_WORDS,
    REFERENCE_INPUT_MAX,
    Registered,
    Status,
    confirm_request,
    download_answer,
    request_status,
    start_download,
    start_request,
)
from db.core.normalise import EMAIL_MAX
from db.core.settings import get_settings
from db.models.consent import RequestKind

page(__file__, public=True)
organisation = get_settings().organisation_name
language_picker()
st.title(t("Your data and your rights"))
st.caption(
    t(
        "Ask {organisation} what it holds about you, or to correct, erase, stop using or "
        "hand over your data. We answer within one month.",
        organisation=escape_markdown(organisation),
    )
)

TICKET = "my_data_ticket"
DOWNLOAD_TICKET = "my_data_download_ticket"
visitor = visitor_id("my_data")

ask_tab, follow_tab = st.tabs([t("Make a request"), t("Follow a request")])

with ask_tab:
    registered: Registered | None = st.session_state.get("my_data_registered")
    if registered is not None:
        st.success(
            t(
                "Your request is registered. Its reference is {reference}: keep it to follow "
                "the request. We answer by {day}.",
                reference=registered.reference,
                day=long_date(registered.due_on),
            )
        )
        if st.button(t("Make another request"), key="my_data_again"):
            st.session_state.pop("my_data_registered", None)
            st.rerun()
    elif not st.session_state.get(TICKET):
        with st.form("my_data_request"):
            # Labels fixed now, in the visitor's language (the widget formats them later).
            kinds = {k: escape_markdown(t(words)) for k, words in KIND_WORDS.items()}
            kind = st.radio(
                t("What would you like?"),
                list(kinds),
                format_func=kinds.__getitem__,
                key="my_data_kind",
            )
            email = st.text_input(
                t("Your email address"),
                key="my_data_email",
                max_chars=EMAIL_MAX,
                help=t("We send a code to this address to check it is yours."),
            )
            details = st.text_area(
                t("Anything we should know (optional)"),
                key="my_data_details",
                max_chars=NOTES_MAX,
                help=t("For a correction, say what is wrong; otherwise leave it empty."),
            )
            send = st.form_submit_button(t("Send me a code"), type="primary")
        if send:
            ticket = run(
                start_request,
                kind=RequestKind(str(kind)),
                email=email,
                details=details or None,
                visitor=visitor,
            )
            if ticket is not FAILED:
                st.session_state[TICKET] = ticket
                st.rerun()
    else:
        st.info(
            t(
                "We have sent a code to the address you gave. Enter it here to register your "
                "request. (If it does not arrive within a few minutes, check the address.)"
            )
        )
        with st.form("my_data_confirm"):
            code = st.text_input(
                t("Code from the email"), key="my_data_code", max_chars=CODE_INPUT_MAX
            )
            confirm = st.form_submit_button(t("Register my request"), type="primary")
        if confirm:
            done = run(
                confirm_request,
                ticket=st.session_state[TICKET],
                code=code,
                visitor=visitor,
            )
            if done is not FAILED:
                st.session_state.pop(TICKET, None)
                st.session_state["my_data_registered"] = done
                st.rerun()
        if st.button(t("Start again"), key="my_data_restart"):
            st.session_state.pop(TICKET, None)
            st.rerun()

with follow_tab:
    reference = st.text_input(
        t("Reference"),
        key="my_data_reference",
        placeholder="R-XXXXX-XXXXX",
        max_chars=REFERENCE_INPUT_MAX,
    )
    if reference.strip():
        status = run(request_status, reference=reference)
        if status is not FAILED:
            assert isinstance(status, Status)
            dates = t(
                "Received {received} · answer due by {due}",
                received=long_date(status.received_on),
                due=long_date(status.deadline),
            )
            kind_words = t(KIND_WORDS[status.kind])
            st.text(f"{status.reference} · {kind_words}\n{dates}\n{status.state}")
            if status.answer:
                st.text(status.answer)
            if status.downloadable:
                if not st.session_state.get(DOWNLOAD_TICKET):
                    if st.button(t("Email me a code to download"), key="my_data_download_code"):
                        ticket = run(start_download, reference=reference, visitor=visitor)
                        if ticket is not FAILED:
                            st.session_state[DOWNLOAD_TICKET] = ticket
                            st.rerun()
                else:
                    with st.form("my_data_download"):
                        code = st.text_input(
                            t("Code from the email"),
                            key="my_data_download_code_input",
                            max_chars=CODE_INPUT_MAX,
                        )
                        fetch = st.form_submit_button(t("Show my download"))
                    if fetch:
                        answer = run(
                            download_answer,
                            ticket=st.session_state[DOWNLOAD_TICKET],
                            code=code,
                            visitor=visitor,
                        )
                        if answer is not FAILED:
                            st.session_state.pop(DOWNLOAD_TICKET, None)
                            st.session_state["my_data_export"] = answer
                            st.rerun()
    export: AccessExport | None = st.session_state.get("my_data_export")
    if export is not None:
        st.success(t("Your data is ready."))
        one, two = st.columns(2)
        one.download_button(
            t("Download your data (JSON)"),
            export.json_text,
            file_name="my-data.json",
            mime="application/json",
            key="my_data_json",
        )
        two.download_button(
            t("Download a readable summary"),
            export.summary,
            file_name="my-data-summary.txt",
            mime="text/plain",
            key="my_data_txt",
        )
