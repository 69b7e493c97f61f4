"""Notifications: what you were told and whether its email went, and what you want to be told."""

import pandas as pd
import streamlit as st

from components import page
from components.ui import Failed, act, run
from db.core.settings import get_settings
from db.integrations.notifications import (
    KINDS,
    get_preferences,
    mark_all_read,
    my_notifications,
    set_preferences,
)
from db.models.integrations_events import EmailStatus

user = page(__file__)
EMAIL_WORDS = {
    EmailStatus.pending: "about to go",
    EmailStatus.digest: "in the next digest",
    EmailStatus.sent: "sent",
    EmailStatus.failed: "failed",
    EmailStatus.unsent: "not sent",
}
st.title("Notifications")

preferences = run(get_preferences, actor=user)
if isinstance(preferences, Failed):
    st.stop()

st.subheader("What you are told")
if not preferences.offered:
    st.info("Your roles have nothing to be told about yet.")
else:
    st.caption(
        "By email and on Home. An email says what happened and links to it; it never "
        "carries what anyone wrote."
    )
    with st.form(f"notification_settings_{preferences.version}"):
        chosen = [
            kind
            for kind in preferences.offered
            if st.checkbox(KINDS[kind].label, value=kind in preferences.kinds, key=f"nk_{kind}")
        ]
        hour = get_settings().digest_hour
        digest = st.radio(
            "Email",
            [False, True],
            index=1 if preferences.digest else 0,
            format_func=lambda d: (
                f"One daily digest (from {hour:02d}:00 UTC)" if d else "At once, one email each"
            ),
            horizontal=True,
        )
        if st.form_submit_button("Save", type="primary"):
            act(
                set_preferences,
                done="Saved. From now on you are told only what you ticked.",
                actor=user,
                kinds=chosen,
                digest=digest,
                version=preferences.version,
            )

st.subheader("Latest")
shown = run(my_notifications, actor=user, limit=50)
if isinstance(shown, Failed) or not shown:
    st.caption("Nothing yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": n.created_at,
                    "What": n.title,
                    "New": n.unread,
                    "Email": EMAIL_WORDS.get(n.email, n.email),
                }
                for n in shown
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"When": st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm")},
    )
    if any(n.unread for n in shown) and st.button("Mark all read"):
        act(mark_all_read, done="Marked read.", actor=user)
