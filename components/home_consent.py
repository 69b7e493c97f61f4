"""Home panel for privacy officers: overdue requests and new consent violations."""

import streamlit as st

from components.db import db_session
from components.ui import attempt
from db.consent.audit.report import recent_violations
from db.consent.requests import overdue_requests
from db.models.auth import User
from db.models.consent import PrivacyRequest


def privacy_panel(user: User) -> None:
    st.subheader("Privacy")

    def load() -> tuple[list[PrivacyRequest], int, list[str]]:
        with db_session() as session:
            overdue = overdue_requests(session=session, actor=user)
            count, rows = recent_violations(session=session, actor=user, days=7)
        lines = [
            f"{r['sent_at'][:16].replace('T', ' ')} · {r['contact']} · {r['channel']} · "
            f"{r['reason']}" + (" · overridden" if r["override_reason"] else "")
            for r in rows
        ]
        return overdue, count, lines

    loaded = attempt(load)
    if loaded is None:
        return
    overdue, count, lines = loaded
    first, second = st.columns(2)
    first.metric("Overdue data-subject requests", len(overdue))
    second.metric("Marketing violations, last 7 days", count)
    for request in overdue[:10]:
        st.warning(
            f"Request #{request.id} ({request.kind}) was due {request.deadline:%d %b %Y}.",
            icon=":material/schedule:",
        )
    if overdue:
        st.page_link(
            "pages/privacy_requests.py",
            label="Open data-subject requests",
            icon=":material/assignment_ind:",
        )
    for line in lines:
        st.text(line)
    if count:
        st.page_link(
            "pages/consent_audit.py", label="Open the consent audit", icon=":material/fact_check:"
        )
