"""Follow up a concern: with the reference and receipt code, read replies and add more."""

import streamlit as st

from components import page
from components.drafts import clear_next_run, clear_pending
from components.evidence_ui import evidence_uploader
from components.i18n import language_picker, long_date, t
from components.text import escape_markdown
from components.ui import Failed, flash, run, visitor_id
from db.cases.common import TEXT_MAX
from db.cases.evidence import (
    EvidenceFile,
)
from db.cases.intake import (
    RECEIPT_INPUT_MAX,
    REFERENCE_INPUT_MAX,
    ReporterView,
    follow_up,
    reporter_reply,
)

page(__file__, public=True)
clear_pending()  # the reply box is emptied once a reply was sent
language_picker()
st.title(t("Follow up a concern"))
st.caption(
    t(
        "Enter the case reference and the receipt code you were given. After five wrong codes "
        "in one hour, this browser has to wait until the hour is over; nobody else's wrong "
        "codes count against you."
    )
)

OPEN_KEY = "follow_up_open"

left, right = st.columns(2)
reference = left.text_input(
    t("Case reference"),
    key="follow_reference",
    placeholder="C-XXXXXX",
    max_chars=REFERENCE_INPUT_MAX,
)
receipt = right.text_input(
    t("Receipt code"),
    key="follow_receipt",
    type="password",
    placeholder="XXXX-XXXX-XXXX-XXXX-XXXX",
    max_chars=RECEIPT_INPUT_MAX,
)
if st.button(t("Open my case"), type="primary", key="follow_open"):
    st.session_state[OPEN_KEY] = True

if not st.session_state.get(OPEN_KEY):
    st.stop()


view: ReporterView | Failed = run(
    follow_up, reference=reference, receipt=receipt, visitor=visitor_id("follow_up")
)
if isinstance(view, Failed):
    st.session_state[OPEN_KEY] = False
    st.stop()

cols = st.columns(3)
cols[0].metric(t("Status"), view.status)
cols[1].metric(t("Category"), view.category)
cols[2].metric(t("Received"), long_date(view.received_at, abbreviated=True))

st.subheader(t("Messages and updates"))
for entry in view.entries:
    with st.container(border=True):
        when = f"{long_date(entry.occurred_at, abbreviated=True)} {entry.occurred_at:%H:%M}"
        st.caption(f"{when} UTC · {escape_markdown(entry.what)}")
        if entry.body:
            st.text(entry.body)

st.subheader(t("Add information or reply"))
with st.form("reporter_reply", clear_on_submit=False):
    text = st.text_area(t("Your message"), key="follow_message", height=140, max_chars=TEXT_MAX)
    uploads = evidence_uploader("follow_files", reply=True)
    sent = st.form_submit_button(t("Send"))
if sent:
    replied = run(
        reporter_reply,
        reference=reference,
        receipt=receipt,
        text=text,
        evidence=[EvidenceFile(f.name, f.getvalue()) for f in uploads],
        visitor=visitor_id("follow_up"),
    )
    if not isinstance(replied, Failed):
        flash(t("Sent. The case team will see your message."))
        clear_next_run({"follow_message": ""})
        st.session_state.pop("follow_files", None)
        st.rerun()
