"""Home panel for case reviewers: cases due, check-ins due, purges coming."""

import streamlit as st

from components.db import db_session
from components.ui import attempt
from db.cases.retention import WARNING_DAYS, nearing_purge
from db.cases.review import queue_summary
from db.cases.welfare import DueCheckIn, due_check_ins
from db.models.auth import User


def reviewer_panel(user: User) -> None:
    st.subheader("Cases")

    def load() -> tuple[dict[str, int], list[DueCheckIn], int]:
        with db_session() as session:
            return (
                queue_summary(session=session, actor=user),
                due_check_ins(session=session, actor=user),
                nearing_purge(session=session, actor=user),
            )

    loaded = attempt(load)
    if loaded is None:
        return
    summary, check_ins, purging = loaded
    cols = st.columns(4)
    cols[0].metric("New concerns", summary["new"])
    cols[1].metric("Overdue", summary["overdue"])
    cols[2].metric("Due within 14 days", summary["due_soon"])
    cols[3].metric("Assigned to you", summary["mine"])
    st.page_link("pages/case_queue.py", label="Open the case queue", icon=":material/inbox:")
    if check_ins:
        st.markdown("**Welfare check-ins due**")
        for item in check_ins:
            st.text(f"{item.due_on:%d %b} · {item.reference} · {item.person}")
    if purging:
        st.warning(
            f"{purging:,} closed case{'s' if purging != 1 else ''} will have their content erased "
            f"within {WARNING_DAYS} days under the retention rules (`manage.py purge-cases`).",
            icon=":material/auto_delete:",
        )
