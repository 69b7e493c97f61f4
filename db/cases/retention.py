"""Retention: erase the content of long-closed cases, keeping a tombstone.

The tombstone is the case row itself with its dates, category and outcome; what
people wrote (the case text, answers, contact details, timeline, check-ins, evidence
files) is deleted. The receipt code's salted hash is kept: it holds nothing the
reporter wrote, and it is what lets the follow-up page tell the reporter that their
case was closed and erased under the retention rules, instead of "the code is wrong".
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.cases.common import case_settings
from db.cases.review import not_excluded, require_reviewer
from db.cases.sla import add_months
from db.core.types import utcnow
from db.models.auth import Role
from db.models.cases import (
    Case,
    CaseAttachment,
    CaseEvent,
    CaseExclusion,
    CaseRead,
    CaseStatus,
    CheckIn,
)

WARNING_DAYS = 30


def purge_cutoff(now: datetime, years: int) -> datetime:
    """Cases closed before this moment are due for erasure."""
    return add_months(now, -12 * years)


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did."""

    purged: int
    cutoff: datetime


def purge_cases(
    *, session: Session, actor: Actor, now: datetime | None = None, years: int | None = None
) -> PurgeReport:
    """Erase the content of cases closed longer than the retention period (operator, admin)."""
    require_role(actor, Role.admin, doing="purge cases")
    now = now or utcnow()
    cutoff = purge_cutoff(now, years or case_settings().retention_years)
    ids = list(
        session.exec(
            select(Case.id).where(
                col(Case.status) == CaseStatus.closed.value,
                col(Case.closed_at) < cutoff,
                col(Case.purged_at).is_(None),
            )
        ).all()
    )
    for case_id in ids:
        session.execute(delete(CaseEvent).where(col(CaseEvent.case_id) == case_id))
        session.execute(delete(CheckIn).where(col(CheckIn.case_id) == case_id))
        session.execute(delete(CaseExclusion).where(col(CaseExclusion.case_id) == case_id))
        session.execute(delete(CaseAttachment).where(col(CaseAttachment.case_id) == case_id))
        session.execute(delete(CaseRead).where(col(CaseRead.case_id) == case_id))
        case = session.get(Case, case_id)
        assert case is not None
        case.what_happened = case.where_when = case.people_involved = None
        case.occurred_on = None
        case.contact_name = case.contact_email = case.contact_phone = None
        case.contact_id = None
        case.answers = None
        case.reporter_at = None
        case.assignee_id = None
        case.purged_at = now
        case.version += 1
        session.add(case)
        record(
            session,
            actor,
            "case.purge",
            "case",
            entity_id=case.reference,
            details={"closed_at": case.closed_at.isoformat() if case.closed_at else None},
        )
    session.commit()
    return PurgeReport(purged=len(ids), cutoff=cutoff)


def nearing_purge(*, session: Session, actor: Actor, now: datetime | None = None) -> int:
    """How many visible cases will be erased within the next 30 days (reviewers' warning)."""
    require_reviewer(actor, "see retention warnings")
    now = now or utcnow()
    cutoff = purge_cutoff(now + timedelta(days=WARNING_DAYS), case_settings().retention_years)
    query = (
        select(func.count())
        .select_from(Case)
        .where(
            col(Case.status) == CaseStatus.closed.value,
            col(Case.closed_at) < cutoff,
            col(Case.purged_at).is_(None),
            not_excluded(actor),
        )
    )
    return int(session.exec(query).one())


def nearing_purge_references(
    *, session: Session, actor: Actor, now: datetime | None = None, limit: int = 10
) -> list[str]:
    """The references of visible cases erased soonest within the next 30 days, to open."""
    require_reviewer(actor, "see retention warnings")
    now = now or utcnow()
    cutoff = purge_cutoff(now + timedelta(days=WARNING_DAYS), case_settings().retention_years)
    query = (
        select(Case.reference)
        .where(
            col(Case.status) == CaseStatus.closed.value,
            col(Case.closed_at) < cutoff,
            col(Case.purged_at).is_(None),
            not_excluded(actor),
        )
        .order_by(col(Case.closed_at), col(Case.id))
        .limit(max(1, min(limit, 50)))
    )
    return list(session.exec(query).all())


# What a case reviewer reads on a case when the person it names asks to be erased.
ERASURE_NOTE = (
    "The person this case names asked to be erased (data-subject request #{request}). "
    "Case records are kept under the exemptions for legal claims and for whistleblowing "
    "record-keeping: nothing in this case was changed. Review whether it must still be "
    "kept when the retention period ends."
)


def note_erasure_request(session: Session, contact_id: int, request_id: int) -> dict[str, int]:
    """Tell the reviewers of every named case about the person that erasure was asked for.

    Called by the consent area's erasure (through db.wiring) in its transaction; case
    content is never rewritten. Returns how many case records are kept, for the privacy
    officer; anonymous concerns are neither counted nor noted, so the count tells nobody
    that someone wrote about the person without giving their name.
    """
    cases = session.exec(
        select(Case).where(
            col(Case.contact_id) == contact_id,
            col(Case.anonymous).is_(False),
            col(Case.purged_at).is_(None),
        )
    ).all()
    for case in cases:
        session.add(
            CaseEvent(
                case_id=case.id or 0,
                kind="internal_note",
                actor_label="Privacy office",
                body=ERASURE_NOTE.format(request=request_id),
            )
        )
    return {"case_records_kept": len(cases)}
