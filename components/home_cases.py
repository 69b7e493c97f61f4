"""Home panel for case reviewers: cases due, check-ins due, purges coming, each a link."""

from dataclasses import dataclass

import streamlit as st
from sqlmodel import Session

from components.text import escape_markdown
from components.ui import Failed, run
from db.cases.retention import WARNING_DAYS, nearing_purge, nearing_purge_references
from db.cases.review import queue_summary
from db.cases.welfare import DueCheckIn, due_check_ins
from db.models.auth import User


@dataclass(frozen=True)
class Panel:
    summary: dict[str, int]
    check_ins: list[DueCheckIn]
    purging: int
    purging_first: list[str]


def reviewer_panel(user: User) -> None:
    st.subheader("Cases")

    def load(*, session: Session) -> Panel:
        return Panel(
            summary=queue_summary(session=session, actor=user),
            check_ins=due_check_ins(session=session, actor=user),
            purging=nearing_purge(session=session, actor=user),
            purging_first=nearing_purge_references(session=session, actor=user),
        )

    loaded = run(load)
    if isinstance(loaded, Failed):
        return
    summary = loaded.summary
    cols = st.columns(4)
    cols[0].metric("New concerns", summary["new"])
    cols[1].metric("Overdue", summary["overdue"])
    cols[2].metric("Due within 14 days", summary["due_soon"])
    cols[3].metric("Assigned to you", summary["mine"])
    st.page_link("pages/case_queue.py", label="Open the case queue", icon=":material/inbox:")
    if loaded.check_ins:
        st.markdown("**Welfare check-ins due**")
        for item in loaded.check_ins:
            st.page_link(
                "pages/case.py",
                label=escape_markdown(f"{item.due_on:%d %b} · {item.reference} · {item.person}"),
                query_params={"case": item.reference},
                icon=":material/event_available:",
            )
    if loaded.purging:
        purging = loaded.purging
        st.warning(
            f"{purging:,} closed case{'s' if purging != 1 else ''} will have their content erased "
            f"within {WARNING_DAYS} days under the retention rules (`manage.py purge-cases`).",
            icon=":material/auto_delete:",
        )
        for reference in loaded.purging_first:
            st.page_link(
                "pages/case.py",
                label=f"{escape_markdown(reference)} · erased soon",
                query_params={"case": reference},
                icon=":material/auto_delete:",
            )
