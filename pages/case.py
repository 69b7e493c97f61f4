"""Case: the full timeline and every reviewer action on one case."""

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.cases.actions import (
    MOVES,
    acknowledge,
    add_note,
    change_status,
    close_case,
    message_reporter,
    reopen_case,
    set_severity,
)
from db.cases.common import SHORT_TEXT_MAX, TEXT_MAX
from db.cases.intake import REFERENCE_INPUT_MAX
from db.cases.review import (
    AccessRequestForCase,
    CaseDetail,
    access_requests_for_case,
    assign_case,
    claim_case,
    exclude_reviewer,
    list_reviewers,
    open_case,
    release_to_access_request,
)
from db.cases.welfare import log_check_in
from db.models.auth import User
from db.models.cases import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    CaseStatus,
    CheckIn,
    Outcome,
    Severity,
)

reviewer = page(__file__)
st.title("Case")

reference = st.text_input(
    "Case reference", key="case_ref", placeholder="C-XXXXXX", max_chars=REFERENCE_INPUT_MAX
)
if not reference.strip():
    st.info("Enter a case reference, or open a case from the Case queue.")
    st.page_link("pages/case_queue.py", label="Go to the case queue", icon=":material/inbox:")
    st.stop()


# A case opened once in this browser session is redrawn, not reopened, on each rerun.
opened: set[str] = st.session_state.setdefault("cases_opened", set())


def load() -> tuple[CaseDetail, list[User]]:
    with db_session() as session:
        return (
            open_case(
                session=session,
                actor=reviewer,
                reference=reference,
                record_open=reference not in opened,
            ),
            list_reviewers(session=session, actor=reviewer),
        )


loaded = attempt(load)
if loaded is None:
    st.stop()
detail, reviewers = loaded
opened.add(reference)
case = detail.case
assert case.id is not None
case_id, version = case.id, case.version


def run(command: Callable[[Session], object], success: str) -> None:
    """Run a command on this case; reload the page when it worked."""

    def call() -> object:
        with db_session() as session:
            return command(session)

    if attempt(call) is not None:
        st.toast(success)
        st.rerun()


st.subheader(f"{escape_markdown(case.reference)} · {escape_markdown(detail.category)}")
if case.purged_at is not None:
    st.warning(f"The content of this case was erased on {case.purged_at:%Y-%m-%d} (retention).")
cols = st.columns(5)
cols[0].metric("Status", STATUS_LABELS[CaseStatus(case.status)])
cols[1].metric("Severity", case.severity or "not set")
cols[2].metric("Assignee", detail.assignee or "unassigned")
due = f"{detail.clock.due_at:%Y-%m-%d}" if detail.clock.due_at else "—"
cols[3].metric(f"Deadline ({escape_markdown(detail.clock.stage or 'none')})", due)
cols[4].metric("SLA", detail.clock.state.value)

with st.container(border=True):
    kind = "Welfare case" if case.kind == "welfare" else "Concern"
    who = "anonymous" if case.anonymous else "with contact details"
    st.caption(f"{kind}, {who}, received {case.received_at:%Y-%m-%d %H:%M} UTC")
    # Everything below was typed by a person: plain text only.
    st.markdown("**What happened**")
    st.text(case.what_happened or "—")
    if case.where_when:
        st.markdown("**Where and when**")
        st.text(case.where_when)
    if case.occurred_on:
        st.text(f"Date: {case.occurred_on:%Y-%m-%d}")
    if case.people_involved:
        st.markdown("**People involved**")
        st.text(case.people_involved)
    st.text(f"Urgency felt by the reporter: {case.urgency}")
    if not case.anonymous:
        contact = " · ".join(
            x for x in (case.contact_name, case.contact_email, case.contact_phone) if x
        )
        st.text(f"Contact: {contact}")
    if detail.excluded:
        st.text("Excluded reviewers: " + ", ".join(detail.excluded))


def load_requests() -> list[AccessRequestForCase]:
    with db_session() as session:
        return access_requests_for_case(session=session, actor=reviewer, case_id=case_id)


for request in attempt(load_requests) or []:
    with st.container(border=True):
        st.markdown(f"**Access request #{request.request_id:d}** · due {request.due_on:%Y-%m-%d}")
        if request.released:
            st.caption("Released to the request:")
            st.text(request.content or "Nothing the person is entitled to.")
            continue
        st.caption(
            "The person this case is about asked for a copy of their data. Write what they "
            "are entitled to from this case — what they told us and what was done, never "
            "what others said in confidence. Leave it empty if there is nothing to hand over."
        )
        released_text = st.text_area(
            "What to release", key=f"case_release_{request.request_id}", max_chars=TEXT_MAX
        )
        if st.button("Release to the access request", key=f"case_release_go_{request.request_id}"):

            def release(
                session: Session, number: int = request.request_id, text: str = released_text
            ) -> object:
                return release_to_access_request(
                    session=session,
                    actor=reviewer,
                    case_id=case_id,
                    request_id=number,
                    content=text,
                )

            run(release, "Released to the access request.")

st.subheader("Timeline")
st.dataframe(
    pd.DataFrame(
        [
            {
                "When (UTC)": f"{e.occurred_at:%Y-%m-%d %H:%M}",
                "Who": e.actor_label,
                "What": e.kind.replace("_", " "),
                "Detail": " ".join(
                    x
                    for x in (
                        f"→ {e.to_status}" if e.to_status else "",
                        f"severity {e.severity}" if e.severity else "",
                        f"outcome {e.outcome}" if e.outcome else "",
                        e.body or "",
                    )
                    if x
                ),
            }
            for e in detail.events
        ],
        columns=["When (UTC)", "Who", "What", "Detail"],
    ),
    hide_index=True,
    width="stretch",
)

if case.purged_at is not None:
    st.stop()

status = CaseStatus(case.status)
tabs = st.tabs(["Respond", "Assess", "Assign", "Close or reopen", "Check-ins"])

with tabs[0]:
    if status is CaseStatus.new:
        ack_text = st.text_area(
            "Acknowledgement message to the reporter (optional)",
            key="ack_message",
            max_chars=TEXT_MAX,
        )
        if st.button("Acknowledge", type="primary", key="ack"):
            run(
                lambda s: acknowledge(
                    session=s, actor=reviewer, case_id=case_id, message=ack_text, version=version
                ),
                "Acknowledged.",
            )
    else:
        reply = st.text_area("Message to the reporter", key="reply_message", max_chars=TEXT_MAX)
        if st.button("Send to reporter", type="primary", key="send_reply"):
            run(
                lambda s: message_reporter(session=s, actor=reviewer, case_id=case_id, text=reply),
                "Message sent.",
            )
    note = st.text_area(
        "Internal note (never shown to the reporter)", key="note_text", max_chars=TEXT_MAX
    )
    if st.button("Add note", key="add_note"):
        run(
            lambda s: add_note(session=s, actor=reviewer, case_id=case_id, text=note),
            "Note added.",
        )

with tabs[1]:
    grade = st.select_slider("Severity (harm)", [s.value for s in Severity], key="grade")
    grade_reason = st.text_input(
        "Reason for this grade", key="grade_reason", max_chars=SHORT_TEXT_MAX
    )
    if st.button("Set severity", key="set_severity"):
        run(
            lambda s: set_severity(
                session=s,
                actor=reviewer,
                case_id=case_id,
                severity=Severity(grade),
                reason=grade_reason,
                version=version,
            ),
            "Severity set.",
        )
    moves = sorted(MOVES.get(status, frozenset()), key=lambda s: list(CaseStatus).index(s))
    if moves:
        target = st.selectbox(
            "Move to", [m.value for m in moves], format_func=lambda v: STATUS_LABELS[CaseStatus(v)]
        )
        move_reason = st.text_input(
            "Reason for the change", key="move_reason", max_chars=SHORT_TEXT_MAX
        )
        if st.button("Change status", key="change_status"):
            run(
                lambda s: change_status(
                    session=s,
                    actor=reviewer,
                    case_id=case_id,
                    status=CaseStatus(target),
                    reason=move_reason,
                    version=version,
                ),
                "Status changed.",
            )

with tabs[2]:
    if case.assignee_id is None and st.button("Claim this case", key="claim"):
        run(
            lambda s: claim_case(session=s, actor=reviewer, case_id=case_id),
            "You have claimed the case.",
        )
    names = {u.id: u.display_name for u in reviewers if u.id is not None}
    assignee = st.selectbox(
        "Assign to", list(names), format_func=lambda uid: names[uid], key="assign_to"
    )
    if st.button("Assign", key="assign") and assignee is not None:
        run(
            lambda s: assign_case(
                session=s, actor=reviewer, case_id=case_id, assignee_id=assignee, version=version
            ),
            "Assigned.",
        )
    st.divider()
    excluded = st.selectbox(
        "Exclude a reviewer (conflict of interest)",
        list(names),
        format_func=lambda uid: names[uid],
        key="exclude_who",
    )
    exclude_reason = st.text_input("Why", key="exclude_reason", max_chars=SHORT_TEXT_MAX)
    if st.button("Exclude", key="exclude") and excluded is not None:
        run(
            lambda s: exclude_reviewer(
                session=s, actor=reviewer, case_id=case_id, user_id=excluded, reason=exclude_reason
            ),
            "Reviewer excluded.",
        )

with tabs[3]:
    if status is CaseStatus.closed:
        reopen_reason = st.text_input(
            "Reason for reopening", key="reopen_reason", max_chars=SHORT_TEXT_MAX
        )
        if st.button("Reopen", key="reopen"):
            run(
                lambda s: reopen_case(
                    session=s,
                    actor=reviewer,
                    case_id=case_id,
                    reason=reopen_reason,
                    version=version,
                ),
                "Reopened.",
            )
    else:
        outcome = st.selectbox(
            "Outcome",
            [o.value for o in Outcome],
            format_func=lambda v: OUTCOME_LABELS[Outcome(v)],
            key="close_outcome",
        )
        close_reason = st.text_input(
            "Reason and summary", key="close_reason", max_chars=SHORT_TEXT_MAX
        )
        if st.button("Close case", key="close"):
            run(
                lambda s: close_case(
                    session=s,
                    actor=reviewer,
                    case_id=case_id,
                    outcome=Outcome(outcome),
                    reason=close_reason,
                    version=version,
                ),
                "Closed.",
            )

with tabs[4]:
    open_check_ins: list[CheckIn] = [c for c in detail.check_ins if c.done_at is None]
    if not detail.check_ins:
        st.info("No check-ins are scheduled for this case.")
    for check_in in detail.check_ins:
        if check_in.done_at is not None:
            st.text(f"{check_in.due_on:%Y-%m-%d} · done · {check_in.outcome or ''}")
    if open_check_ins:
        first_open = open_check_ins[0]
        assert first_open.id is not None
        check_in_id = first_open.id
        st.caption(f"Next check-in due {first_open.due_on:%Y-%m-%d}")
        check_outcome = st.text_input(
            "How did it go?", key="check_outcome", max_chars=SHORT_TEXT_MAX
        )
        if st.button("Log check-in", key="log_check_in"):
            run(
                lambda s: log_check_in(
                    session=s, actor=reviewer, check_in_id=check_in_id, outcome=check_outcome
                ),
                "Check-in logged.",
            )
