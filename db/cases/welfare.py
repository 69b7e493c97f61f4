"""Welfare cases: a reviewer opens one for a named person, with scheduled check-ins."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.auth.audit import record
from db.cases.common import (
    SHORT_TEXT_MAX,
    append_event,
    clean_text,
    get_category,
    policy_for,
    refresh_deadlines,
)
from db.cases.intake import CONTACT_NAME_MAX, new_reference
from db.cases.review import case_by_id, not_excluded, require_reviewer
from db.cases.sla import ack_due
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.core.types import utcnow
from db.models.cases import Case, CaseKind, CaseStatus, CheckIn, EventKind, WelfareCreate

MAX_CHECK_INS = 52


def open_welfare_case(
    *, session: Session, actor: Actor, welfare_in: WelfareCreate, now: datetime | None = None
) -> Case:
    """Open an acknowledged welfare case for a named person with a schedule of check-ins."""
    require_reviewer(actor, "open welfare cases")
    now = now or utcnow()
    category = get_category(session=session, key=welfare_in.category)
    name = clean_text(
        welfare_in.person_name,
        label="Person",
        field="person_name",
        limit=CONTACT_NAME_MAX,
        required=True,
    )
    email = (welfare_in.contact_email or "").strip() or None
    if email is not None and len(email) > EMAIL_MAX:
        raise ValidationError(f"Email: use at most {EMAIL_MAX} characters.", field="contact_email")
    phone = (welfare_in.contact_phone or "").strip() or None
    if phone is not None and len(phone) > PHONE_MAX:
        raise ValidationError(f"Phone: use at most {PHONE_MAX} characters.", field="contact_phone")
    reason = clean_text(
        welfare_in.reason, label="Why", field="reason", limit=SHORT_TEXT_MAX, required=True
    )
    if not 1 <= welfare_in.every_days <= 90:
        raise ValidationError("Every (days): choose between 1 and 90 days.", field="every_days")
    if not 1 <= welfare_in.check_ins <= MAX_CHECK_INS:
        raise ValidationError(
            f"Check-ins: choose between 1 and {MAX_CHECK_INS}.", field="check_ins"
        )
    if welfare_in.first_check_in < now.date() - timedelta(days=1):
        raise ValidationError(
            "First check-in: choose today or a later date.", field="first_check_in"
        )
    case = Case(
        reference=new_reference(session=session),
        kind=CaseKind.welfare.value,
        category=category.key,
        what_happened=reason,
        anonymous=False,
        contact_name=name,
        contact_email=email,
        contact_phone=phone,
        contact_id=welfare_in.contact_id,
        status=CaseStatus.acknowledged.value,
        assignee_id=actor.id,
        received_at=now,
        acknowledged_at=now,
        # A welfare case has no reporter to answer, so feedback is not owed.
        feedback_at=now,
        ack_due_at=ack_due(now, policy_for(session=session, category=category.key)),
        last_activity_at=now,
    )
    refresh_deadlines(session=session, case=case)
    session.add(case)
    session.flush()
    assert case.id is not None
    append_event(session, case, EventKind.received, actor, now, body=reason)
    append_event(
        session, case, EventKind.acknowledged, actor, now, to_status=CaseStatus.acknowledged.value
    )
    for n in range(welfare_in.check_ins):
        due = welfare_in.first_check_in + timedelta(days=n * welfare_in.every_days)
        session.add(CheckIn(case_id=case.id, due_on=due))
    record(
        session,
        actor,
        "case.welfare_open",
        "case",
        entity_id=case.reference,
        details={"check_ins": welfare_in.check_ins, "every_days": welfare_in.every_days},
    )
    session.commit()
    return case


def log_check_in(
    *,
    session: Session,
    actor: Actor,
    check_in_id: int,
    outcome: str,
    now: datetime | None = None,
) -> CheckIn:
    """Record that a check-in happened and how it went."""
    require_reviewer(actor, "log check-ins")
    now = now or utcnow()
    check_in = session.get(CheckIn, check_in_id)
    if check_in is None:
        raise NotFound("There is no such check-in.")
    case = case_by_id(session=session, actor=actor, case_id=check_in.case_id)
    if check_in.done_at is not None:
        raise Conflict(f"This check-in was already logged on {check_in.done_at:%Y-%m-%d}.")
    text = clean_text(
        outcome, label="Outcome", field="outcome", limit=SHORT_TEXT_MAX, required=True
    )
    check_in.done_at = now
    check_in.done_by_id = actor.id
    check_in.outcome = text
    session.add(check_in)
    append_event(
        session,
        case,
        EventKind.check_in,
        actor,
        now,
        body=f"Check-in due {check_in.due_on:%Y-%m-%d}: {text}",
    )
    case.version += 1
    session.add(case)
    record(session, actor, "case.check_in", "case", entity_id=case.reference)
    session.commit()
    return check_in


@dataclass(frozen=True)
class DueCheckIn:
    """A check-in due today or overdue, for the reviewer's Home."""

    check_in_id: int
    reference: str
    person: str
    due_on: date


def due_check_ins(
    *, session: Session, actor: Actor, today: date | None = None, limit: int = 20
) -> list[DueCheckIn]:
    """Open check-ins due by `today` on cases this reviewer may see, oldest first."""
    require_reviewer(actor, "see check-ins")
    today = today or utcnow().date()
    query = (
        sa_select(col(CheckIn.id), col(Case.reference), col(Case.contact_name), col(CheckIn.due_on))
        .join(Case, col(Case.id) == col(CheckIn.case_id))
        .where(
            col(CheckIn.done_at).is_(None),
            col(CheckIn.due_on) <= today,
            col(Case.status) != CaseStatus.closed.value,
            not_excluded(actor),
        )
        .order_by(col(CheckIn.due_on))
        .limit(limit)
    )
    return [
        DueCheckIn(check_in_id=int(cid or 0), reference=ref, person=name or "", due_on=due)
        for cid, ref, name, due in session.execute(query).all()
    ]
