"""Home's notifications: the latest few things you were told, each a link to its page."""

import streamlit as st

from components.text import escape_markdown
from components.ui import Failed, run
from db.integrations.notifications import my_notifications
from db.models.auth import User

SHOWN = 5


def notifications_panel(user: User) -> None:
    """The latest notifications, unread first marked; nothing at all when there are none."""
    shown = run(my_notifications, actor=user, limit=SHOWN)
    if isinstance(shown, Failed) or not shown:
        return
    unread = sum(1 for n in shown if n.unread)
    st.subheader("Notifications" + (f" ({unread} new)" if unread else ""))
    for note in shown:
        label = f"{'● ' if note.unread else ''}{note.title} · {note.created_at:%d %b %H:%M}"
        st.page_link(
            note.page,
            label=escape_markdown(label),
            icon=":material/notifications:",
            query_params=note.query or None,
        )
    st.page_link(
        "pages/notifications.py",
        label="All notifications, and what you are told",
        icon=":material/tune:",
    )
