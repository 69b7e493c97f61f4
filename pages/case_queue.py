"""Case queue: what needs doing, most pressing deadline first; click a row to open its case."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, pager, run
from db.cases.common import SHORT_TEXT_MAX, list_categories
from db.cases.intake import CONTACT_NAME_MAX
from db.cases.review import (
    OPEN_STATUSES,
    SEARCH_MAX,
    UNSET_SEVERITY,
    VIEW_NAME_MAX,
    QueueFilter,
    QueueRow,
    SavedView,
    awaiting_release,
    count_queue,
    delete_view,
    list_queue,
    list_reviewers,
    list_views,
    save_view,
)
from db.cases.sla import ClockState
from db.cases.welfare import open_welfare_case
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.models.cases import STATUS_LABELS, CaseStatus, Severity, WelfareCreate

reviewer = page(__file__)
st.title("Case queue")
PAGE_SIZE = 25
# Words, not coloured symbols alone: they read the same on every screen and font; the
# colour of the cell only repeats them.
CLOCK_MARK = {
    ClockState.overdue: "Overdue",
    ClockState.due_soon: "Due soon",
    ClockState.on_time: "On time",
    ClockState.feedback_given: "Feedback given",
    ClockState.stopped: "Closed",
}
CLOCK_COLOUR = {
    "Overdue": "color: #b3261e; font-weight: 600",
    "Due soon": "color: #8a5300; font-weight: 600",
    "On time": "color: #1e6b3a",
    "Feedback given": "color: #1e6b3a",
}
SEVERITIES = [UNSET_SEVERITY, *(s.value for s in Severity)]
FILTER_KEYS = {
    "statuses": "queue_status",
    "severities": "queue_severity",
    "category": "queue_category",
    "assignee": "queue_assignee",
    "overdue_only": "queue_overdue",
    "unread_only": "queue_unread",
    "search": "queue_search",
}


@dataclass(frozen=True)
class Choices:
    categories: dict[str, str]
    reviewers: dict[int, str]
    views: list[SavedView]
    awaiting: list[str]


def load_choices(*, session: Session) -> Choices:
    """The filters' options, the reviewer's saved views and what waits on a release."""
    return Choices(
        categories={c.key: c.label for c in list_categories(session=session)},
        reviewers={
            u.id: u.display_name
            for u in list_reviewers(session=session, actor=reviewer)
            if u.id is not None
        },
        views=list_views(session=session, actor=reviewer),
        awaiting=awaiting_release(session=session, actor=reviewer),
    )


loaded = run(load_choices)
if isinstance(loaded, Failed):
    st.stop()
choices = loaded
categories = choices.categories
views = {v.name: v for v in choices.views}

if choices.awaiting:
    st.info(
        f"{len(choices.awaiting)} named case(s) wait for you to release what the person is "
        "entitled to an access request: "
        + ", ".join(escape_markdown(r) for r in choices.awaiting[:10])
        + ("…" if len(choices.awaiting) > 10 else "")
    )


def assignee_value(flt: QueueFilter) -> str:
    return f"user:{flt.assignee_id}" if flt.assignee_id is not None else flt.assignee


def apply_view() -> None:
    """Put a saved view's filters into the filter widgets (runs before they are drawn)."""
    chosen = views.get(st.session_state.get("queue_view") or "")
    if chosen is None:
        return
    flt = chosen.flt
    state = st.session_state
    state[FILTER_KEYS["statuses"]] = [] if flt.statuses == OPEN_STATUSES else list(flt.statuses)
    state[FILTER_KEYS["severities"]] = list(flt.severities)
    state[FILTER_KEYS["category"]] = flt.category if flt.category in categories else ""
    state[FILTER_KEYS["assignee"]] = assignee_value(flt)
    state[FILTER_KEYS["overdue_only"]] = flt.overdue_only
    state[FILTER_KEYS["unread_only"]] = flt.unread_only
    state[FILTER_KEYS["search"]] = flt.search


queue_tab, welfare_tab = st.tabs(["Queue", "Open a welfare case"])

with queue_tab:
    top = st.columns([3, 2, 1.2, 1.2], vertical_alignment="bottom")
    search = top[0].text_input(
        "Search your cases",
        key=FILTER_KEYS["search"],
        max_chars=SEARCH_MAX,
        placeholder="Words in the reference, the concern or the answers",
    )
    assignees: dict[str, str] = {
        "any": "Anyone",
        "mine": "Me",
        "unassigned": "Unassigned",
        **{f"user:{uid}": name for uid, name in choices.reviewers.items()},
    }
    assignee = top[1].selectbox(
        "Assignee", list(assignees), format_func=lambda a: assignees[a], key=FILTER_KEYS["assignee"]
    )
    overdue = top[2].checkbox("Overdue only", key=FILTER_KEYS["overdue_only"])
    unread = top[3].checkbox(
        "Unread only",
        key=FILTER_KEYS["unread_only"],
        help="Cases where the reporter wrote since you last opened them.",
    )
    cols = st.columns([3, 3, 2])
    # Nothing chosen means the open cases (closed ones are asked for by choosing them),
    # so the filter needs no default that a saved view would have to fight.
    statuses = cols[0].multiselect(
        "Status",
        [s.value for s in CaseStatus],
        format_func=lambda s: STATUS_LABELS[CaseStatus(s)],
        key=FILTER_KEYS["statuses"],
        placeholder="Open cases",
    )
    severities = cols[1].multiselect(
        "Severity",
        SEVERITIES,
        format_func=lambda s: "not set" if s == UNSET_SEVERITY else s,
        key=FILTER_KEYS["severities"],
        placeholder="Any severity",
    )
    category = cols[2].selectbox(
        "Category",
        ["", *categories],
        format_func=lambda k: categories.get(k, "Any category"),
        key=FILTER_KEYS["category"],
    )
    chosen_assignee = assignee or "any"
    flt = QueueFilter(
        statuses=tuple(statuses) or OPEN_STATUSES,
        category=category or None,
        assignee=chosen_assignee if not chosen_assignee.startswith("user:") else "any",
        assignee_id=int(chosen_assignee[5:]) if chosen_assignee.startswith("user:") else None,
        overdue_only=overdue,
        severities=tuple(severities),
        search=search,
        unread_only=unread,
    )

    with st.expander("Saved views", icon=":material/bookmarks:"):
        left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
        left.selectbox(
            "Apply a saved view",
            ["", *views],
            format_func=lambda n: n or "(choose a view)",
            key="queue_view",
            on_change=apply_view,
        )
        view_name = middle.text_input(
            "Save these filters as", key="queue_view_name", max_chars=VIEW_NAME_MAX
        )
        if right.button("Save view", key="queue_view_save", icon=":material/bookmark_add:"):
            act(
                save_view,
                done=f"Saved the view {escape_markdown(view_name.strip())}.",
                actor=reviewer,
                name=view_name,
                flt=flt,
            )
        picked_view = views.get(st.session_state.get("queue_view") or "")
        if picked_view is not None and st.button(
            f"Delete the view {escape_markdown(picked_view.name)}", key="queue_view_delete"
        ):
            st.session_state.pop("queue_view", None)
            act(
                delete_view,
                done=f"Deleted the view {escape_markdown(picked_view.name)}.",
                actor=reviewer,
                view_id=picked_view.id,
            )

    counted = run(count_queue, actor=reviewer, flt=flt)
    total = 0 if isinstance(counted, Failed) else counted
    offset = pager(total=total, page_size=PAGE_SIZE, key="queue_page") if total else 0
    listed = run(list_queue, actor=reviewer, flt=flt, offset=offset, limit=PAGE_SIZE)
    rows: list[QueueRow] = [] if isinstance(listed, Failed) else listed
    now = dt.datetime.now(dt.UTC)

    def due(row: QueueRow) -> str:
        if row.clock.due_at is None:
            return ""
        if row.clock.state is ClockState.feedback_given:
            return f"given {row.clock.due_at:%Y-%m-%d}"
        return f"{row.clock.stage} by {row.clock.due_at:%Y-%m-%d}"

    if not rows:
        st.info("No cases match these filters.")
    else:
        st.caption("Click a row to open its case.")
        frame = pd.DataFrame(
            [
                {
                    "New": "New reply" if r.unread else "",
                    "Reference": r.reference,
                    "Category": r.category,
                    "Severity": r.severity or "not set",
                    "Status": STATUS_LABELS[CaseStatus(r.status)],
                    "Age (days)": (now - r.received_at).days,
                    "Assignee": r.assignee or "unassigned",
                    "Deadline": due(r),
                    "SLA": CLOCK_MARK[r.clock.state],
                    "Kind": r.kind,
                }
                for r in rows
            ]
        )
        table: Any = st.dataframe(
            frame.style.map(lambda v: CLOCK_COLOUR.get(v, ""), subset=["SLA"]).map(
                lambda v: "font-weight: 600" if v else "", subset=["New"]
            ),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            # A click on any cell of a row opens its case, as does its row marker.
            selection_mode=["single-row", "single-cell"],
            key="queue_table",
            column_config={
                "New": st.column_config.TextColumn(
                    width="small", help="The reporter replied since you last opened the case"
                ),
                "Reference": st.column_config.TextColumn(width="small"),
                "Age (days)": st.column_config.NumberColumn(width="small"),
                "Kind": st.column_config.TextColumn(width="small"),
            },
        )
        selection = table.selection if table is not None else None
        picked = [*getattr(selection, "rows", [])] + [
            cell[0] for cell in getattr(selection, "cells", [])
        ]
        if picked and 0 <= picked[0] < len(rows):
            # Forget the click, so coming back to the queue does not open the case again.
            st.session_state.pop("queue_table", None)
            st.switch_page("pages/case.py", query_params={"case": rows[picked[0]].reference})

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
        made = run(
            open_welfare_case,
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
        if not isinstance(made, Failed):
            st.success(f"Opened welfare case {escape_markdown(made.reference)}.")
            st.page_link(
                "pages/case.py",
                label=f"Open {escape_markdown(made.reference)}",
                query_params={"case": made.reference},
                icon=":material/open_in_new:",
            )
