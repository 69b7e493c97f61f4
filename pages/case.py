"""Case: one case at its own address (?case=C-…), its timeline and every reviewer action.

Every draft on this page belongs to its case: each widget's key carries the case
reference, so switching to another case shows that case's own drafts (or none) and
never carries words written for one reporter over to another.
"""

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from sqlmodel import Session

from components import page
from components.drafts import clear_next_run, clear_pending
from components.text import escape_markdown
from components.ui import Failed, act, run
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
from db.cases.evidence import EvidenceItem, evidence_content, list_evidence
from db.cases.intake import REFERENCE_INPUT_MAX, normalise_reference
from db.cases.questions import Answer, stored_answers
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
from db.cases.sla import ClockState
from db.cases.welfare import log_check_in
from db.models.auth import User
from db.models.cases import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    CaseKind,
    CaseStatus,
    CheckIn,
    EventKind,
    Outcome,
    Severity,
)

reviewer = page(__file__)
clear_pending()  # drafts emptied after the last action that sent them
st.title("Case")

URL_SEEN = "case_url_seen"
# The case named in the address wins when the address changes (a link, a bookmark, a
# click in the queue); typing another reference puts it in the address.
from_url = normalise_reference(st.query_params.get("case"))
# (The box's own state is dropped when the person leaves the page: refill it then too.)
if from_url and (from_url != st.session_state.get(URL_SEEN) or "case_ref" not in st.session_state):
    st.session_state["case_ref"] = from_url
st.session_state[URL_SEEN] = from_url

typed = st.columns([1, 3])[0].text_input(
    "Case reference", key="case_ref", placeholder="C-XXXXXX", max_chars=REFERENCE_INPUT_MAX
)
reference = normalise_reference(typed)
if reference != from_url:
    if reference:
        st.query_params["case"] = reference
    else:
        st.query_params.pop("case", None)
    st.session_state[URL_SEEN] = reference
if not reference:
    st.info("Enter a case reference, or open a case from the Case queue.")
    st.page_link("pages/case_queue.py", label="Go to the case queue", icon=":material/inbox:")
    st.stop()


# A case opened once in this browser session is redrawn, not reopened, on each rerun.
opened: set[str] = st.session_state.setdefault("cases_opened", set())


@dataclass(frozen=True)
class Loaded:
    detail: CaseDetail
    assignable: list[User]
    evidence: list[EvidenceItem]
    requests: list[AccessRequestForCase]


def load(*, session: Session) -> Loaded:
    """Everything the case's screen shows, read in one session."""
    detail = open_case(
        session=session, actor=reviewer, reference=reference, record_open=reference not in opened
    )
    assert detail.case.id is not None
    case_id = detail.case.id
    return Loaded(
        detail=detail,
        assignable=list_reviewers(session=session, actor=reviewer, case_id=case_id),
        evidence=list_evidence(session=session, actor=reviewer, case_id=case_id),
        requests=access_requests_for_case(session=session, actor=reviewer, case_id=case_id),
    )


loaded = run(load)
if isinstance(loaded, Failed):
    st.stop()
opened.add(reference)
detail = loaded.detail
case = detail.case
assert case.id is not None
case_id, version = case.id, case.version
welfare = case.kind == CaseKind.welfare.value
ref = case.reference


def key(name: str) -> str:
    """A widget key of this case: drafts never travel to another case."""
    return f"{name}_{ref}"


# What an emptied draft holds, where it is not empty text.
DRAFT_EMPTY: dict[str, object] = {"reply_feedback": False}


def act_and_clear(
    command: Callable[..., object], done: str, drafts: tuple[str, ...], **arguments: object
) -> None:
    """Run a command for a click; on success forget its drafts and redraw the page."""
    if act(command, done=done, rerun=False, **arguments):
        clear_next_run({key(name): DRAFT_EMPTY.get(name, "") for name in drafts})
        st.rerun()


def reasoned_change(
    reason_label: str,
    draft: str,
    button: str,
    command: Callable[..., object],
    done: str,
    **arguments: object,
) -> None:
    """A reason box and a button that runs a versioned case command with that reason."""
    reason = st.text_input(reason_label, key=key(draft), max_chars=SHORT_TEXT_MAX)
    if st.button(button, key=button.lower().replace(" ", "_")):
        act_and_clear(
            command, done, (draft,), actor=reviewer, case_id=case_id, reason=reason,
            version=version, **arguments,
        )  # fmt: skip


CLOCK_WORDS = {
    ClockState.overdue: "overdue",
    ClockState.due_soon: "due soon",
    ClockState.on_time: "on time",
    ClockState.feedback_given: "feedback given",
    ClockState.stopped: "no deadline (closed)",
}

st.subheader(f"{escape_markdown(ref)} · {escape_markdown(detail.category)}")
if case.purged_at is not None:
    st.warning(f"The content of this case was erased on {case.purged_at:%Y-%m-%d} (retention).")
clock = detail.clock
if clock.state is ClockState.feedback_given and clock.due_at:
    deadline = f"Feedback given {clock.due_at:%d %b %Y}"
elif clock.due_at:
    deadline = f"{(clock.stage or '').capitalize()} by {clock.due_at:%d %b %Y}"
else:
    deadline = "No deadline running"
with st.container(border=True):
    facts = st.columns([1, 1, 1.3, 1.6, 1.2])
    for column, (label, value) in zip(
        facts,
        (
            ("Status", STATUS_LABELS[CaseStatus(case.status)]),
            ("Severity", (case.severity or "not set").capitalize()),
            ("Assignee", detail.assignee or "Unassigned"),
            ("Deadline", deadline),
            ("SLA", CLOCK_WORDS[clock.state].capitalize()),
        ),
        strict=True,
    ):
        column.caption(escape_markdown(label))
        column.markdown(f"**{escape_markdown(value)}**")

content, actions = st.columns([3, 2], gap="large")

with content:
    kind = "Welfare case" if welfare else "Concern"
    who = "anonymous" if case.anonymous else "with contact details"
    st.caption(f"{kind}, {who}, received {case.received_at:%Y-%m-%d %H:%M} UTC")
    # Everything below was typed by a person: plain text only.
    st.markdown("**Why they need support**" if welfare else "**What happened**")
    st.text(case.what_happened or "—")
    if case.where_when:
        st.markdown("**Where and when**")
        st.text(case.where_when)
    if case.occurred_on:
        st.text(f"Date: {case.occurred_on:%Y-%m-%d}")
    if case.people_involved:
        st.markdown("**People involved**")
        st.text(case.people_involved)
    answers: list[Answer] = stored_answers(case.answers)
    if answers:
        st.markdown("**Answers to the category's questions**")
        for answer in answers:
            st.text(f"{answer.question} {answer.answer}")
    if not welfare:
        st.text(f"Urgency felt by the reporter: {case.urgency}")
    if not case.anonymous:
        contact = " · ".join(
            x for x in (case.contact_name, case.contact_email, case.contact_phone) if x
        )
        st.text(f"{'Person' if welfare else 'Contact'}: {contact}")
    if detail.excluded:
        st.text("Excluded reviewers: " + ", ".join(detail.excluded))

    if loaded.evidence:
        st.markdown(f"**Evidence ({len(loaded.evidence)})**")
        st.caption(
            "Files from the reporter, with their metadata (camera, place, author) removed. "
            "They are not shown here: download a file to open it."
        )
        for item in loaded.evidence:

            def fetch(attachment_id: int = item.id) -> bytes:
                # Runs when the button is clicked; every download is in the audit log.
                got = run(evidence_content, actor=reviewer, attachment_id=attachment_id)
                return b"" if isinstance(got, Failed) else got[1]

            st.download_button(
                escape_markdown(
                    f"{item.filename} · {item.size / 1024:,.0f} KB · {item.uploaded_at:%d %b %Y}"
                ),
                data=fetch,
                file_name=item.filename,
                # Served as a download, never as something the browser shows inline.
                mime="application/octet-stream",
                icon=":material/download:",
                key=f"evidence_{item.id}",
                on_click="ignore",
            )

    st.markdown(f"**Timeline** ({len(detail.events)})")

    def what(kind_value: str, feedback: bool) -> str:
        label = kind_value.replace("_", " ")
        return f"{label} (feedback)" if feedback and kind_value != EventKind.closed else label

    # A conversation reads top to bottom; the box scrolls, so the actions stay in view.
    with st.container(height=460 if len(detail.events) > 5 else "content", border=True):
        for e in detail.events:
            change = " · ".join(
                x
                for x in (
                    f"→ {e.to_status.replace('_', ' ')}" if e.to_status else "",
                    f"severity {e.severity}" if e.severity else "",
                    f"outcome {e.outcome.replace('_', ' ')}" if e.outcome else "",
                )
                if x
            )
            st.caption(
                escape_markdown(
                    f"{e.occurred_at:%Y-%m-%d %H:%M} UTC · {e.actor_label} · "
                    f"{what(e.kind, e.feedback)}" + (f" · {change}" if change else "")
                )
            )
            if e.body:
                st.text(e.body)

if case.purged_at is not None:
    st.stop()

status = CaseStatus(case.status)
assignable = {u.id: u.display_name for u in loaded.assignable if u.id is not None}

with actions:
    if case.assignee_id is None and st.button(
        "Claim this case", key="claim", icon=":material/back_hand:", width="stretch"
    ):
        act(claim_case, done="You have claimed the case.", actor=reviewer, case_id=case_id)
    if status is CaseStatus.new:
        ack_text = st.text_area(
            "Acknowledgement message to the reporter (optional)",
            key=key("ack_message"),
            max_chars=TEXT_MAX,
        )
        if st.button("Acknowledge", type="primary", key="ack"):
            act_and_clear(
                acknowledge,
                "Acknowledged.",
                ("ack_message",),
                actor=reviewer,
                case_id=case_id,
                message=ack_text,
                version=version,
            )
    elif not welfare and status is not CaseStatus.closed:
        reply = st.text_area(
            "Message to the reporter", key=key("reply_message"), max_chars=TEXT_MAX
        )
        as_feedback = st.checkbox(
            "This is feedback on the action taken or planned",
            key=key("reply_feedback"),
            help="Feedback stops the 3-month clock. A question or an update that is not "
            "feedback does not.",
        )
        if st.button("Send to reporter", type="primary", key="send_reply"):
            act_and_clear(
                message_reporter,
                "Feedback sent." if as_feedback else "Message sent.",
                ("reply_message", "reply_feedback"),
                actor=reviewer,
                case_id=case_id,
                text=reply,
                feedback=as_feedback,
            )
    note = st.text_area(
        "Internal note (never shown to the reporter)", key=key("note_text"), max_chars=TEXT_MAX
    )
    if st.button("Add note", key="add_note"):
        act_and_clear(
            add_note, "Note added.", ("note_text",), actor=reviewer, case_id=case_id, text=note
        )

    labels = ["Assess", "Assign", "Close or reopen"]
    if welfare or detail.check_ins:
        labels.append("Check-ins")
    if loaded.requests:
        labels.append("Access requests")
    tabs = dict(zip(labels, st.tabs(labels, key=key("case_tabs")), strict=True))

    with tabs["Assess"]:
        grade = st.select_slider(
            "Severity (harm)",
            [s.value for s in Severity],
            value=case.severity or Severity.none.value,
            key=key("grade"),
        )
        reasoned_change(
            "Reason for this grade",
            "grade_reason",
            "Set severity",
            set_severity,
            "Severity set.",
            severity=Severity(grade),
        )
        moves = sorted(MOVES.get(status, frozenset()), key=lambda s: list(CaseStatus).index(s))
        if moves:
            target = st.selectbox(
                "Move to",
                [m.value for m in moves],
                format_func=lambda v: STATUS_LABELS[CaseStatus(v)],
                key=key("move_to"),
            )
            reasoned_change(
                "Reason for the change",
                "move_reason",
                "Change status",
                change_status,
                "Status changed.",
                status=CaseStatus(target),
            )

    with tabs["Assign"]:
        # Only reviewers who may see the case are offered: never an excluded one.
        assignee = st.selectbox(
            "Assign to",
            list(assignable),
            format_func=lambda uid: assignable[uid],
            key=key("assign_to"),
        )
        if st.button("Assign", key="assign") and assignee is not None:
            act(
                assign_case,
                done=f"Assigned to {escape_markdown(assignable[assignee])}.",
                actor=reviewer,
                case_id=case_id,
                assignee_id=assignee,
                version=version,
            )
        st.divider()
        excluded = st.selectbox(
            "Exclude a reviewer (conflict of interest)",
            list(assignable),
            format_func=lambda uid: assignable[uid],
            key=key("exclude_who"),
        )
        exclude_reason = st.text_input("Why", key=key("exclude_reason"), max_chars=SHORT_TEXT_MAX)
        if st.button("Exclude", key="exclude") and excluded is not None:
            act_and_clear(
                exclude_reviewer,
                "Reviewer excluded.",
                ("exclude_reason",),
                actor=reviewer,
                case_id=case_id,
                user_id=excluded,
                reason=exclude_reason,
            )

    with tabs["Close or reopen"]:
        if status is CaseStatus.closed:
            reopen_reason = st.text_input(
                "Reason for reopening", key=key("reopen_reason"), max_chars=SHORT_TEXT_MAX
            )
            if st.button("Reopen", key="reopen"):
                act_and_clear(
                    reopen_case,
                    "Reopened.",
                    ("reopen_reason",),
                    actor=reviewer,
                    case_id=case_id,
                    reason=reopen_reason,
                    version=version,
                )
        else:
            outcome = st.selectbox(
                "Outcome",
                [o.value for o in Outcome],
                format_func=lambda v: OUTCOME_LABELS[Outcome(v)],
                key=key("close_outcome"),
            )
            close_reason = st.text_input(
                "Reason and summary (internal)", key=key("close_reason"), max_chars=SHORT_TEXT_MAX
            )
            close_message = ""
            if not welfare:
                close_message = st.text_area(
                    "Message to the reporter with the outcome (optional)",
                    key=key("close_message"),
                    max_chars=TEXT_MAX,
                    help="The reporter is told the case was closed and its outcome: that is "
                    "their feedback. Add what you can tell them about what was done.",
                )
            if st.button("Close case", key="close"):
                act_and_clear(
                    close_case,
                    "Closed.",
                    ("close_reason", "close_message"),
                    actor=reviewer,
                    case_id=case_id,
                    outcome=Outcome(outcome),
                    reason=close_reason,
                    message=close_message,
                    version=version,
                )

    if "Check-ins" in tabs:
        with tabs["Check-ins"]:
            open_check_ins: list[CheckIn] = [c for c in detail.check_ins if c.done_at is None]
            if not detail.check_ins:
                st.info("No check-ins are scheduled for this case.")
            for check_in in detail.check_ins:
                if check_in.done_at is not None:
                    st.text(f"{check_in.due_on:%Y-%m-%d} · done · {check_in.outcome or ''}")
            if open_check_ins:
                first_open = open_check_ins[0]
                assert first_open.id is not None
                st.caption(f"Next check-in due {first_open.due_on:%Y-%m-%d}")
                check_outcome = st.text_input(
                    "How did it go?", key=key("check_outcome"), max_chars=SHORT_TEXT_MAX
                )
                if st.button("Log check-in", key="log_check_in"):
                    act_and_clear(
                        log_check_in,
                        "Check-in logged.",
                        ("check_outcome",),
                        actor=reviewer,
                        check_in_id=first_open.id,
                        outcome=check_outcome,
                    )

    if "Access requests" in tabs:
        with tabs["Access requests"]:
            for request in loaded.requests:
                st.markdown(
                    f"**Access request #{request.request_id:d}** · due {request.due_on:%Y-%m-%d}"
                )
                if request.released:
                    st.caption("Released to the request:")
                    st.text(request.content or "Nothing the person is entitled to.")
                    continue
                st.caption(
                    "The person this case is about asked for a copy of their data. Write what "
                    "they are entitled to from this case — what they told us and what was "
                    "done, never what others said in confidence. Leave it empty if there is "
                    "nothing to hand over."
                )
                draft = f"case_release_{request.request_id}"
                released_text = st.text_area("What to release", key=key(draft), max_chars=TEXT_MAX)
                if st.button(
                    "Release to the access request", key=f"case_release_go_{request.request_id}"
                ):
                    act_and_clear(
                        release_to_access_request,
                        "Released to the access request.",
                        (draft,),
                        actor=reviewer,
                        case_id=case_id,
                        request_id=request.request_id,
                        content=released_text,
                    )
