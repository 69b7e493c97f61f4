"""Data-subject requests: register, verify identity, extend, and complete them."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.pipeline_ui import query_id
from components.text import escape_markdown
from components.ui import FAILED, Failed, act, attempt, pager, run
from db.consent.requests import (
    EXTEND_REASON_MAX,
    NOTES_MAX,
    OUTCOME_MAX,
    REFUSAL_MAX,
    VERIFICATION_METHODS,
    VERIFICATION_NOTE_MAX,
    AccessExport,
    case_releases,
    complete_access,
    complete_erasure,
    complete_nothing_held,
    complete_other,
    complete_portability,
    extend_request,
    find_subjects,
    get_request,
    link_contact,
    list_requests,
    refuse_request,
    register_request,
    subject_names,
    verify_identity,
)
from db.core.normalise import SEARCH_MAX
from db.models.consent import (
    PrivacyRequest,
    PrivacyRequestCreate,
    RequestKind,
    RequestStatus,
)
from db.models.people import Contact

user = page(__file__)
st.title("Data-subject requests")
st.caption(
    "Answer within one calendar month of receipt; it may be extended to three months if "
    "the person is told, with the reason, within the first month."
)
PAGE_SIZE = 25
today = dt.date.today()

status_label = st.selectbox(
    "Show", ["open", "completed", "refused", "all"], key="dsr_status", index=0
)
status = None if status_label == "all" else RequestStatus(status_label)


def load_page(offset: int) -> tuple[list[PrivacyRequest], int]:
    with db_session() as session:
        return list_requests(
            session=session, actor=user, status=status, offset=offset, limit=PAGE_SIZE
        )


first = attempt(lambda: load_page(0)) or ([], 0)
total = first[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="dsr_page") if total else 0
rows = first[0] if offset == 0 else (attempt(lambda: load_page(offset)) or ([], 0))[0]
named = run(subject_names, requests=rows, actor=user)
names: dict[int, str] = {} if named is FAILED else named  # type: ignore[assignment]
if rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": r.id,
                    "Kind": r.kind,
                    "Person": names.get(r.id or 0, ""),
                    "Reference": r.reference or "",
                    "Received": r.received_on,
                    "Deadline": r.deadline,
                    "Extended": "yes" if r.extended_due_on else "",
                    "Identity verified": "yes" if r.verified_at else "no",
                    "Status": "OVERDUE"
                    if r.status == RequestStatus.open and r.deadline < today
                    else r.status,
                    "Outcome": r.outcome or "",
                    "Refusal reason": r.refusal_reason or "",
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No requests here.")

register_tab, work_tab = st.tabs(["Register a request", "Work on a request"])

with register_tab:
    query = st.text_input(
        "Find the person",
        key="dsr_find",
        placeholder="Full name, family name, email or phone",
        max_chars=SEARCH_MAX,
    )
    matches: list[Contact] = []
    if query.strip():
        found = run(find_subjects, query=query, actor=user)
        matches = [] if found is FAILED else list(found)  # type: ignore[arg-type]
        if not matches:
            st.warning("No contact matches. Try the full name, the email or the phone number.")
        elif len(matches) > 1:
            st.info(f"{len(matches)} people match: choose the right one below.")
    if matches:
        with st.form("register_request"):
            # Never chosen for the officer: with several matches nothing is preselected.
            person = st.selectbox(
                "Person",
                matches,
                index=0 if len(matches) == 1 else None,
                placeholder="Choose the person this request is about",
                format_func=lambda c: (
                    f"{c.full_name} · {c.email or 'no email'} · {c.phone or 'no phone'} · #{c.id}"
                ),
            )
            kind = st.selectbox("Kind", list(RequestKind), format_func=str)
            received = st.date_input("Received on", value=today, max_value=today)
            notes = st.text_area("Notes (how it arrived, what was asked)", max_chars=NOTES_MAX)
            pressed = st.form_submit_button("Register", type="primary")
            if pressed and person is None:
                st.error("Person: choose who the request is about.")
            if pressed and person is not None:
                made = run(
                    register_request,
                    request_in=PrivacyRequestCreate(
                        kind=RequestKind(str(kind)),
                        contact_id=person.id or 0,
                        received_on=received,
                        notes=notes or None,
                    ),
                    actor=user,
                )
                if isinstance(made, PrivacyRequest):
                    st.success(f"Registered request #{made.id}; due {made.due_on:%d %b %Y}.")

with work_tab:
    listed_ids = [r.id for r in rows]
    # ?request=ID opens that request (a link from an email or a bookmark).
    wanted = query_id("request")
    if wanted is not None and wanted not in listed_ids:
        listed_ids.insert(0, wanted)
    request_id = st.selectbox(
        "Request",
        listed_ids,
        index=listed_ids.index(wanted) if wanted is not None else 0,
        format_func=lambda i: f"#{i} · {names.get(i or 0, '')}".rstrip(" ·"),
        key="dsr_id",
        help="The requests listed above; change the filter to reach others.",
    )

    def open_request() -> PrivacyRequest:
        with db_session() as session:
            return get_request(session=session, request_id=int(request_id or 0), actor=user)

    opened = attempt(open_request) if request_id is not None else None
    if opened is not None:
        req: PrivacyRequest = opened
        st.text(
            f"#{req.id} · {req.kind} · {names.get(req.id or 0, '')} · received "
            f"{req.received_on:%d %b %Y} · due {req.deadline:%d %b %Y} · {req.status}"
        )
        if req.notes:
            st.text(req.notes)
        if req.extended_due_on is not None:
            st.text(
                f"Extended to {req.extended_due_on:%d %b %Y}; person told "
                f"{req.extension_notified_on:%d %b %Y}. Reason: {req.extension_reason or ''}"
            )
        if req.status == RequestStatus.refused:
            st.text(
                f"Refused; person told on {req.refusal_notified_on:%d %b %Y}, with the reasons "
                "and their right to complain to a supervisory authority."
            )
            st.text(f"Reason: {req.refusal_reason or '(erased with the person)'}")
        if req.status == RequestStatus.open:
            if req.verified_at is None:
                with st.form("verify"):
                    method = st.selectbox(
                        "How identity was verified",
                        VERIFICATION_METHODS,
                        index=None,
                        placeholder="Choose how",
                        key="dsr_method",
                    )
                    note = st.text_area(
                        "What was checked",
                        key="dsr_verify_note",
                        max_chars=VERIFICATION_NOTE_MAX,
                        placeholder="e.g. passport seen; name and date of birth match the record",
                    )
                    if st.form_submit_button("Record verification"):
                        act(
                            verify_identity,
                            done="Identity verification recorded.",
                            request_id=req.id or 0,
                            method=method or "",
                            note=note,
                            version=req.version,
                            actor=user,
                        )
            else:
                st.caption(
                    f"Identity verified: {escape_markdown(req.verification_method or '')}"
                    + (
                        f" — {escape_markdown(req.verification_note)}"
                        if req.verification_note
                        else ""
                    )
                )
            if req.contact_id is None:
                st.warning(
                    "This request came from the public page and is not linked to a contact "
                    "(no contact, or several, have the requester's address). Link it to the "
                    "person it is about, or answer that we hold nothing."
                )
                link_query = st.text_input(
                    "Find the person to link",
                    key="dsr_link_find",
                    placeholder="Full name, family name, email or phone",
                    max_chars=SEARCH_MAX,
                )
                if link_query.strip():
                    found_link = run(find_subjects, query=link_query, actor=user)
                    candidates: list[Contact] = (
                        [] if found_link is FAILED else list(found_link)  # type: ignore[arg-type]
                    )
                    chosen = st.selectbox(
                        "Person",
                        candidates,
                        index=None,
                        placeholder="Choose the person",
                        key="dsr_link_person",
                        format_func=lambda c: f"{c.full_name} · {c.email or 'no email'} · #{c.id}",
                    )
                    if st.button("Link the request", key="dsr_link", disabled=chosen is None):
                        act(
                            link_contact,
                            done="Linked to the person.",
                            request_id=req.id or 0,
                            contact_id=chosen.id or 0 if chosen else 0,
                            version=req.version,
                            actor=user,
                        )
                if st.button("Answer: we hold nothing about them", key="dsr_nothing"):
                    act(
                        complete_nothing_held,
                        done="Answered: we hold nothing. The requester can see it by reference.",
                        request_id=req.id or 0,
                        version=req.version,
                        actor=user,
                    )
            if req.extended_due_on is None:
                with st.form("extend"):
                    reason = st.text_input(
                        "Reason for more time", key="dsr_reason", max_chars=EXTEND_REASON_MAX
                    )
                    told = st.date_input("Person told on", value=today, max_value=today)
                    if st.form_submit_button("Extend to three months"):
                        run(
                            extend_request,
                            success="Extended; the new deadline is recorded.",
                            request_id=req.id or 0,
                            reason=reason,
                            notified_on=told,
                            version=req.version,
                            actor=user,
                        )
            if req.kind == RequestKind.access:
                state = run(case_releases, request_id=req.id or 0, actor=user)
                if not isinstance(state, Failed) and (state.released or state.awaiting):
                    st.caption(
                        f"Case records: {state.released:d} released by the case reviewers, "
                        f"{state.awaiting:d} waiting for them. Case content reaches the export "
                        "only as a reviewer releases it; anonymous concerns never do."
                    )
                if st.button("Complete: produce the export", key="dsr_access"):
                    produced = run(
                        complete_access,
                        success="Access request completed.",
                        request_id=req.id or 0,
                        version=req.version,
                        actor=user,
                    )
                    if not isinstance(produced, Failed):
                        st.session_state["dsr_export"] = produced
            elif req.kind == RequestKind.portability:
                if st.button("Complete: produce the machine-readable export", key="dsr_port"):
                    made_port = run(
                        complete_portability,
                        request_id=req.id or 0,
                        version=req.version,
                        actor=user,
                    )
                    if made_port is not FAILED:
                        st.session_state["dsr_export"] = made_port
                        st.success("Portability request completed.")
            elif req.kind == RequestKind.erasure:
                sure = st.checkbox(
                    "I understand erasure anonymises this person everywhere and cannot be undone",
                    key="dsr_sure",
                )
                if st.button("Complete: erase the person", disabled=not sure, key="dsr_erase"):
                    run(
                        complete_erasure,
                        success="Erased; identifiers are suppressed from imports.",
                        request_id=req.id or 0,
                        version=req.version,
                        actor=user,
                    )
            else:
                with st.form("complete_other"):
                    outcome = st.text_area(
                        "What was done", key="dsr_outcome", max_chars=OUTCOME_MAX
                    )
                    if st.form_submit_button("Complete"):
                        run(
                            complete_other,
                            success="Request completed.",
                            request_id=req.id or 0,
                            outcome=outcome,
                            version=req.version,
                            actor=user,
                        )
            with st.expander("Refuse this request", icon=":material/block:"):
                st.caption(
                    "GDPR Art. 12(4): tell the person, within the deadline, why no action is "
                    "taken and that they may complain to a supervisory authority and seek a "
                    "judicial remedy. The refusal closes the request."
                )
                with st.form("refuse"):
                    refusal = st.text_area(
                        "Reasons for refusing", key="dsr_refusal", max_chars=REFUSAL_MAX
                    )
                    refused_told = st.date_input(
                        "Person told on", value=today, max_value=today, key="dsr_refused_on"
                    )
                    complaint = st.checkbox(
                        "They were told of their right to complain to a supervisory authority",
                        key="dsr_complaint",
                    )
                    if st.form_submit_button("Refuse the request"):
                        run(
                            refuse_request,
                            success="Request refused; the reasons are recorded.",
                            request_id=req.id or 0,
                            reason=refusal,
                            notified_on=refused_told,
                            told_of_right_to_complain=complaint,
                            version=req.version,
                            actor=user,
                        )

export: AccessExport | None = st.session_state.get("dsr_export")
if export is not None:
    st.subheader("Access export")
    one, two = st.columns(2)
    one.download_button(
        "Download everything (JSON)",
        export.json_text,
        file_name="personal-data.json",
        mime="application/json",
    )
    two.download_button(
        "Download the readable summary",
        export.summary,
        file_name="personal-data-summary.txt",
        mime="text/plain",
    )
