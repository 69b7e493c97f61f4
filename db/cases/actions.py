"""What a reviewer does to a case: acknowledge, grade, move, note, message, close, reopen.

Each command appends one timeline event (the proof) and updates the case row's
state columns (for queries) in the same transaction.
"""

from datetime import datetime

from sqlmodel import Session

from db.auth.actor import Actor
from db.auth.audit import record
from db.cases.common import (
    SHORT_TEXT_MAX,
    TEXT_MAX,
    append_event,
    check_version,
    clean_text,
    refresh_deadlines,
)
from db.cases.review import case_by_id, is_excluded
from db.cases.sla import feedback_start
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.types import utcnow
from db.models.cases import (
    SEVERITY_RANK,
    STATUS_LABELS,
    Case,
    CaseStatus,
    EventKind,
    Outcome,
    Severity,
)

# Forward moves a reviewer may make with a reason; closing and reopening have their own commands.
MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.acknowledged: frozenset({CaseStatus.under_review, CaseStatus.action_taken}),
    CaseStatus.under_review: frozenset({CaseStatus.action_taken, CaseStatus.acknowledged}),
    CaseStatus.action_taken: frozenset({CaseStatus.under_review}),
}


def _load(session: Session, actor: Actor, case_id: int, version: int | None, doing: str) -> Case:
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    check_version(case, version, session=session)
    if case.purged_at is not None:
        raise Conflict(
            f"Case {case.reference} was erased under the retention rules; you cannot {doing}."
        )
    return case


def _save(
    session: Session, actor: Actor, case: Case, action: str, details: dict[str, object]
) -> Case:
    case.version += 1
    refresh_deadlines(session=session, case=case)
    session.add(case)
    # Writing the row waits for an exclusion being made at the same moment (it writes the
    # row too); checking again afterwards means an excluded reviewer never acts, above all
    # never closes, even when the exclusion lands between loading the case and saving.
    session.flush()
    assert case.id is not None
    if is_excluded(session=session, case_id=case.id, user_id=actor.id):
        session.rollback()
        raise NotFound("There is no such case that you can open.")
    record(session, actor, action, "case", entity_id=case.reference, details=details)
    session.commit()
    return case


def _reason(reason: str | None, *, required: bool = True) -> str | None:
    return clean_text(
        reason, label="Reason", field="reason", limit=SHORT_TEXT_MAX, required=required
    )


def acknowledge(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    message: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Acknowledge receipt (starts the feedback clock); an optional message goes to the reporter."""
    now = now or utcnow()
    case = _load(session, actor, case_id, version, "acknowledge it")
    if case.status != CaseStatus.new.value:
        raise Conflict(f"Case {case.reference} is already acknowledged.")
    body = clean_text(message, label="Message", field="message", limit=TEXT_MAX, required=False)
    case.status = CaseStatus.acknowledged.value
    case.acknowledged_at = now
    append_event(
        session,
        case,
        EventKind.acknowledged,
        actor,
        now,
        from_status=CaseStatus.new.value,
        to_status=CaseStatus.acknowledged.value,
    )
    if body:
        append_event(session, case, EventKind.message_to_reporter, actor, now, body=body)
    if case.assignee_id is None:
        case.assignee_id = actor.id
    return _save(session, actor, case, "case.acknowledge", {})


def set_severity(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    severity: Severity,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Grade the harm on the 5-grade scale, with a reason."""
    now = now or utcnow()
    case = _load(session, actor, case_id, version, "grade it")
    why = _reason(reason)
    grade = Severity(severity)
    case.severity = grade.value
    case.severity_rank = SEVERITY_RANK[grade]
    append_event(session, case, EventKind.severity_set, actor, now, severity=grade.value, body=why)
    return _save(session, actor, case, "case.severity", {"severity": grade.value})


def change_status(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    status: CaseStatus,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Move an acknowledged case between review stages, with a reason."""
    now = now or utcnow()
    case = _load(session, actor, case_id, version, "change its status")
    current = CaseStatus(case.status)
    target = CaseStatus(status)
    if target not in MOVES.get(current, frozenset()):
        raise ValidationError(
            f"Status: a case that is {STATUS_LABELS[current].lower()} cannot move to "
            f"{STATUS_LABELS[target].lower()} this way.",
            field="status",
        )
    why = _reason(reason)
    case.status = target.value
    append_event(
        session,
        case,
        EventKind.status_changed,
        actor,
        now,
        from_status=current.value,
        to_status=target.value,
        body=why,
    )
    return _save(session, actor, case, "case.status", {"from": current.value, "to": target.value})


def add_note(
    *, session: Session, actor: Actor, case_id: int, text: str, now: datetime | None = None
) -> Case:
    """Add an internal note (never shown to the reporter)."""
    now = now or utcnow()
    case = _load(session, actor, case_id, None, "add a note")
    body = clean_text(text, label="Note", field="note", limit=TEXT_MAX, required=True)
    append_event(session, case, EventKind.internal_note, actor, now, body=body)
    return _save(session, actor, case, "case.note", {})


def message_reporter(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    text: str,
    feedback: bool = False,
    now: datetime | None = None,
) -> Case:
    """Send a message the reporter reads on the follow-up page.

    Only a message marked as feedback (on the action taken or planned) stops the
    feedback clock; a question to the reporter or any other message does not.
    """
    now = now or utcnow()
    case = _load(session, actor, case_id, None, "message the reporter")
    body = clean_text(text, label="Message", field="message", limit=TEXT_MAX, required=True)
    if case.acknowledged_at is None:
        raise Conflict("Acknowledge the case first; the acknowledgement can carry your message.")
    append_event(
        session, case, EventKind.message_to_reporter, actor, now, body=body, feedback=feedback
    )
    if feedback:
        case.feedback_at = now
    return _save(session, actor, case, "case.message", {"feedback": feedback})


def close_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    outcome: Outcome,
    reason: str,
    message: str | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Close an acknowledged case with an outcome and a reason.

    The reporter is told the outcome (and `message`, if given): the closing outcome is
    feedback, so it stops the feedback clock when no feedback was marked before.
    """
    now = now or utcnow()
    case = _load(session, actor, case_id, version, "close it")
    if case.status == CaseStatus.closed.value:
        raise Conflict(f"Case {case.reference} is already closed.")
    if case.acknowledged_at is None:
        raise Conflict("Acknowledge the case before closing it.")
    why = _reason(reason)
    body = clean_text(message, label="Message", field="message", limit=TEXT_MAX, required=False)
    result = Outcome(outcome)
    previous = case.status
    case.status = CaseStatus.closed.value
    case.outcome = result.value
    case.closed_at = now
    if body:
        append_event(
            session, case, EventKind.message_to_reporter, actor, now, body=body, feedback=True
        )
    append_event(
        session,
        case,
        EventKind.closed,
        actor,
        now,
        from_status=previous,
        to_status=CaseStatus.closed.value,
        outcome=result.value,
        body=why,
        feedback=True,
    )
    start = feedback_start(case.acknowledged_at, case.reopened_at)
    if case.feedback_at is None or (start is not None and case.feedback_at < start):
        case.feedback_at = now
    return _save(session, actor, case, "case.close", {"outcome": result.value})


def reopen_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    reason: str,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Reopen a closed case with a reason; feedback is owed again from now."""
    now = now or utcnow()
    case = _load(session, actor, case_id, version, "reopen it")
    if case.status != CaseStatus.closed.value:
        raise Conflict(f"Case {case.reference} is not closed.")
    why = _reason(reason)
    case.status = CaseStatus.under_review.value
    case.reopened_at = now
    case.closed_at = None
    case.outcome = None
    append_event(
        session,
        case,
        EventKind.reopened,
        actor,
        now,
        from_status=CaseStatus.closed.value,
        to_status=CaseStatus.under_review.value,
        body=why,
    )
    return _save(session, actor, case, "case.reopen", {})
