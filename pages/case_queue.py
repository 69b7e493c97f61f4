"""Case queue: new and open cases, most pressing deadline first; claim, open, welfare."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt, pager
from db.cases.common import SHORT_TEXT_MAX, list_categories
from db.cases.intake import CONTACT_NAME_MAX
from db.cases.review import (
    OPEN_STATUSES,
    QueueFilter,
    QueueRow,
    awaiting_release,
    claim_case,
    count_queue,
    list_queue,
)
from db.cases.sla import ClockState
from db.cases.welfare import open_welfare_case
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.models.cases import STATUS_LABELS, Case, CaseStatus, WelfareCreate

reviewer = page(__file__)
st.title("Case queue")
PAGE_SIZE = 25
CLOCK_MARK = {
    ClockState.overdue: "🔴 overdue",
    ClockState.due_soon: "🟠 due soon",
    ClockState.on_time: "🟢 on time",
    ClockState.stopped: "—",
}


def load_categories() -> dict[str, str]:
    with db_session() as session:
        return {c.key: c.label for c in list_categories(session=session)}


categories = attempt(load_categories) or {}


def load_awaiting() -> list[str]:
    with db_session() as session:
        return awaiting_release(session=session, actor=reviewer)


awaiting = attempt(load_awaiting) or []
if awaiting:
    st.info(
        f"{len(awaiting)} named case(s) wait for you to release what the person is entitled "
        "to an access request: "
        + ", ".join(escape_markdown(ref) for ref in awaiting[:10])
        + ("…" if len(awaiting) > 10 else "")
    )
queue_tab, welfare_tab = st.tabs(["Queue", "Open a welfare case"])

with queue_tab:
    cols = st.columns([3, 2, 2, 1])
    statuses = cols[0].multiselect(
        "Status",
        [s.value for s in CaseStatus],
        default=list(OPEN_STATUSES),
        format_func=lambda s: STATUS_LABELS[CaseStatus(s)],
        key="queue_status",
    )
    category = cols[1].selectbox(
        "Category",
        ["", *categories],
        format_func=lambda k: categories.get(k, "(any)"),
        key="queue_category",
    )
    assignee = cols[2].radio(
        "Assigned",
        ["any", "mine", "unassigned"],
        horizontal=True,
        key="queue_assignee",
    )
    overdue = cols[3].checkbox("Overdue only", key="queue_overdue")
    flt = QueueFilter(
        statuses=tuple(statuses),
        category=category or None,
        assignee=assignee or "any",
        overdue_only=overdue,
    )

    def count() -> int:
        with db_session() as session:
            return count_queue(session=session, actor=reviewer, flt=flt)

    total = attempt(count) or 0
    offset = pager(total=total, page_size=PAGE_SIZE, key="queue_page") if total else 0

    def load() -> list[QueueRow]:
        with db_session() as session:
            return list_queue(
                session=session, actor=reviewer, flt=flt, offset=offset, limit=PAGE_SIZE
            )

    rows = attempt(load) or []
    now = dt.datetime.now(dt.UTC)
    if not rows:
        st.info("No cases match these filters.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Reference": r.reference,
                        "Kind": r.kind,
                        "Category": r.category,
                        "Severity": r.severity or "not set",
                        "Urgency (reporter)": r.urgency,
                        "Status": STATUS_LABELS[CaseStatus(r.status)],
                        "Age (days)": (now - r.received_at).days,
                        "Assignee": r.assignee or "unassigned",
                        "Deadline": r.clock.stage or "",
                        "Due": f"{r.clock.due_at:%Y-%m-%d}" if r.clock.due_at else "",
                        "SLA": CLOCK_MARK[r.clock.state],
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        by_ref = {r.reference: r for r in rows}
        left, middle, right = st.columns([2, 1, 1])
        chosen = left.selectbox("Case on this page", list(by_ref), key="queue_choice")
        if middle.button("Open case", icon=":material/open_in_new:", key="queue_open"):
            st.session_state["case_ref"] = chosen
            st.switch_page("pages/case.py")
        picked = by_ref.get(chosen or "")
        if right.button(
            "Claim",
            icon=":material/back_hand:",
            key="queue_claim",
            disabled=picked is None or picked.assignee is not None,
        ):
            assert picked is not None
            target_id = picked.id

            def claim() -> Case:
                with db_session() as session:
                    return claim_case(session=session, actor=reviewer, case_id=target_id)

            if attempt(claim, success=f"You have claimed {escape_markdown(chosen)}.") is not None:
                st.rerun()

with welfare_tab, st.form("welfare_case"):
    st.caption(
        "For a named person who needs support (self-isolating, after an incident). "
        "Check-ins appear on your Home when due."
    )
    person = st.text_input("Person", key="welfare_person", max_chars=CONTACT_NAME_MAX)
    left, right = st.columns(2)
    email = left.text_input("Email (optional)", key="welfare_email", max_chars=EMAIL_MAX)
    phone = right.text_input("Phone (optional)", key="welfare_phone", max_chars=PHONE_MAX)
    reason = st.text_area("Why they need support", key="welfare_reason", max_chars=SHORT_TEXT_MAX)
    welfare_category = st.selectbox(
        "Category",
        list(categories),
        format_func=lambda k: categories[k],
        key="welfare_category",
    )
    when = st.columns(3)
    first = when[0].date_input("First check-in", value=dt.date.today(), key="welfare_first")
    every = when[1].number_input("Every (days)", 1, 90, 7, key="welfare_every")
    times = when[2].number_input("Check-ins", 1, 52, 4, key="welfare_times")
    if st.form_submit_button("Open welfare case", type="primary"):

        def open_case() -> Case:
            with db_session() as session:
                return open_welfare_case(
                    session=session,
                    actor=reviewer,
                    welfare_in=WelfareCreate(
                        category=welfare_category or "wellbeing",
                        person_name=person,
                        contact_email=email,
                        contact_phone=phone,
                        reason=reason,
                        first_check_in=first if isinstance(first, dt.date) else dt.date.today(),
                        every_days=int(every),
                        check_ins=int(times),
                    ),
                )

        opened = attempt(open_case)
        if opened is not None:
            st.success(f"Opened welfare case {opened.reference}.")
