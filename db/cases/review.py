"""The reviewers' side: the queue, opening a case, claiming, assigning, exclusions.

An excluded reviewer is filtered out here, in the queries themselves: the case is
missing from their queue and opening it answers NotFound, whatever the page does.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record, record_view
from db.cases.common import (
    SHORT_TEXT_MAX,
    TEXT_MAX,
    append_event,
    category_labels,
    check_version,
    clean_text,
    policy_for,
)
from db.cases.sla import FEEDBACK_DUE_SOON, SlaClock, clock_state, running_deadline
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.types import utcnow
from db.models.auth import Role, User, UserRole
from db.models.cases import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseRelease,
    CaseStatus,
    CheckIn,
    EventKind,
)
from db.models.consent import PrivacyRequest, RequestKind, RequestStatus

PAGE_SIZE_MAX = 200
OPEN_STATUSES = tuple(s.value for s in CaseStatus if s is not CaseStatus.closed)


def require_reviewer(actor: Actor | None, doing: str) -> Actor:
    """Raise Forbidden unless the actor is a case reviewer."""
    return require_role(actor, Role.reviewer, doing=doing)


def not_excluded(actor: Actor) -> Any:
    """A SQL condition: the case has no exclusion for this actor."""
    return ~exists().where(
        col(CaseExclusion.case_id) == col(Case.id), col(CaseExclusion.user_id) == actor.id
    )


@dataclass(frozen=True)
class QueueFilter:
    """What the queue filters by; empty means no filter."""

    statuses: tuple[str, ...] = OPEN_STATUSES
    category: str | None = None
    kind: str | None = None
    assignee: str = "any"  # "any", "mine" or "unassigned"
    overdue_only: bool = False


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue."""

    id: int
    reference: str
    kind: str
    category: str
    severity: str | None
    urgency: str
    status: str
    received_at: datetime
    assignee: str | None
    clock: SlaClock


def _queue_conditions(actor: Actor, flt: QueueFilter, now: datetime) -> list[Any]:
    conditions: list[Any] = [not_excluded(actor), col(Case.purged_at).is_(None)]
    if flt.statuses:
        conditions.append(col(Case.status).in_(flt.statuses))
    if flt.category:
        conditions.append(col(Case.category) == flt.category)
    if flt.kind:
        conditions.append(col(Case.kind) == flt.kind)
    if flt.assignee == "mine":
        conditions.append(col(Case.assignee_id) == actor.id)
    elif flt.assignee == "unassigned":
        conditions.append(col(Case.assignee_id).is_(None))
    if flt.overdue_only:
        conditions.append(col(Case.sla_due_at) < now)
    return conditions


def count_queue(
    *, session: Session, actor: Actor, flt: QueueFilter, now: datetime | None = None
) -> int:
    """How many cases match the filter, among those this reviewer may see."""
    require_reviewer(actor, "see the case queue")
    now = now or utcnow()
    query = select(func.count()).select_from(Case).where(*_queue_conditions(actor, flt, now))
    return int(session.exec(query).one())


def list_queue(
    *,
    session: Session,
    actor: Actor,
    flt: QueueFilter,
    offset: int = 0,
    limit: int = 25,
    now: datetime | None = None,
) -> list[QueueRow]:
    """One page of the queue, most pressing deadline first, then by severity and age."""
    require_reviewer(actor, "see the case queue")
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    now = now or utcnow()
    query = (
        select(Case, User.display_name)
        .outerjoin(User, col(User.id) == col(Case.assignee_id))
        .where(*_queue_conditions(actor, flt, now))
        .order_by(
            col(Case.sla_due_at).asc().nulls_last(),
            col(Case.severity_rank).desc(),
            col(Case.received_at),
            col(Case.id),
        )
        .offset(max(offset, 0))
        .limit(limit)
    )
    labels = category_labels(session=session)
    rows = []
    for case, assignee in session.exec(query).all():
        assert case.id is not None
        rows.append(
            QueueRow(
                id=case.id,
                reference=case.reference,
                kind=case.kind,
                category=labels.get(case.category, case.category),
                severity=case.severity,
                urgency=case.urgency,
                status=case.status,
                received_at=case.received_at,
                assignee=assignee,
                clock=case_clock(session=session, case=case, now=now),
            )
        )
    return rows


def case_clock(*, session: Session, case: Case, now: datetime | None = None) -> SlaClock:
    """The SLA clock of a case now."""
    stage, due_at = running_deadline(
        received_at=case.received_at,
        acknowledged_at=case.acknowledged_at,
        feedback_at=case.feedback_at,
        closed_at=case.closed_at,
        reopened_at=case.reopened_at,
        policy=policy_for(session=session, category=case.category),
    )
    return SlaClock(stage, due_at, clock_state(stage, due_at, now or utcnow()))


def is_excluded(*, session: Session, case_id: int, user_id: int | None) -> bool:
    """Whether this person is excluded from the case (whatever roles they hold)."""
    if user_id is None:
        return False
    # A query, not the identity map: an exclusion committed a moment ago must count.
    found = session.exec(
        select(CaseExclusion.case_id).where(
            col(CaseExclusion.case_id) == case_id, col(CaseExclusion.user_id) == user_id
        )
    ).first()
    return found is not None


def _refuse_excluded(session: Session, actor: Actor, condition: Any, message: str) -> None:
    """Write an attempt to open a case one is excluded from to the audit log, then refuse.

    The answer is the same NotFound as for a case that does not exist, so an exclusion
    does not reveal the case; the attempt itself is on record for an administrator.
    """
    session.rollback()
    excluded = session.exec(
        select(Case.reference)
        .join(CaseExclusion, col(CaseExclusion.case_id) == col(Case.id))
        .where(condition, col(CaseExclusion.user_id) == actor.id)
    ).first()
    if excluded is not None:
        record(
            session=session,
            actor=actor,
            action="case.open_excluded",
            entity="case",
            entity_id=excluded,
        )
        session.commit()
    raise NotFound(message)


def visible_case(*, session: Session, actor: Actor, reference: str) -> Case:
    """The case with this reference if this reviewer may see it, else NotFound."""
    require_reviewer(actor, "open cases")
    ref = reference.strip().upper()
    case = session.exec(select(Case).where(col(Case.reference) == ref, not_excluded(actor))).first()
    if case is None:
        # Excluded or missing: the same answer, so exclusion does not reveal a case.
        _refuse_excluded(
            session, actor, col(Case.reference) == ref, f"There is no case {ref} that you can open."
        )
    assert case is not None
    return case


def case_by_id(*, session: Session, actor: Actor, case_id: int) -> Case:
    """The case with this id if this reviewer may see it, else NotFound."""
    require_reviewer(actor, "open cases")
    case = session.exec(select(Case).where(col(Case.id) == case_id, not_excluded(actor))).first()
    if case is None:
        _refuse_excluded(
            session, actor, col(Case.id) == case_id, "There is no such case that you can open."
        )
    assert case is not None
    return case


@dataclass(frozen=True)
class CaseDetail:
    """Everything the case page shows."""

    case: Case
    category: str
    assignee: str | None
    clock: SlaClock
    events: list[CaseEvent]
    excluded: list[str]
    check_ins: list[CheckIn]


def open_case(
    *,
    session: Session,
    actor: Actor,
    reference: str,
    now: datetime | None = None,
    record_open: bool = True,
) -> CaseDetail:
    """Open a case for a reviewer; every open is written to the audit log.

    `record_open=False` is for redrawing a case already open in the same browser
    session (a widget rerun), which is not a new look at the case.
    """
    case = visible_case(session=session, actor=actor, reference=reference)
    events = list(
        session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(col(CaseEvent.occurred_at), col(CaseEvent.id))
        ).all()
    )
    excluded = list(
        session.exec(
            select(User.display_name)
            .join(CaseExclusion, col(CaseExclusion.user_id) == col(User.id))
            .where(CaseExclusion.case_id == case.id)
            .order_by(col(User.display_name))
        ).all()
    )
    check_ins = list(
        session.exec(
            select(CheckIn).where(CheckIn.case_id == case.id).order_by(col(CheckIn.due_on))
        ).all()
    )
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    detail = CaseDetail(
        case=case,
        category=category_labels(session=session).get(case.category, case.category),
        assignee=assignee.display_name if assignee else None,
        clock=case_clock(session=session, case=case, now=now),
        events=events,
        excluded=excluded,
        check_ins=check_ins,
    )
    if record_open:
        record_view(
            session=session, actor=actor, entity="case", entity_id=case.reference, what="case.open"
        )
    return detail


def list_reviewers(*, session: Session, actor: Actor) -> list[User]:
    """Active case reviewers, for assigning (reviewers only)."""
    require_reviewer(actor, "list reviewers")
    query = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(UserRole.role == Role.reviewer.value, col(User.is_active).is_(True))
        .order_by(col(User.display_name))
    )
    return list(session.exec(query).all())


def claim_case(
    *, session: Session, actor: Actor, case_id: int, now: datetime | None = None
) -> Case:
    """Take an unassigned case; of two reviewers claiming at once, exactly one wins."""
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    now = now or utcnow()
    # One conditional UPDATE: the database lets only the first claimant match the row.
    result = session.execute(
        update(Case)
        .where(col(Case.id) == case_id, col(Case.assignee_id).is_(None))
        .values(assignee_id=actor.id, version=Case.version + 1, last_activity_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(case)
        holder = session.get(User, case.assignee_id) if case.assignee_id else None
        name = holder.display_name if holder else "someone else"
        raise Conflict(f"Case {case.reference} was claimed by {name} first — reload the queue.")
    session.refresh(case)
    append_event(
        session=session,
        case=case,
        kind=EventKind.assigned,
        actor=actor,
        at=now,
        assignee_id=actor.id,
        body="Claimed the case.",
    )
    record(
        session=session, actor=actor, action="case.claim", entity="case", entity_id=case.reference
    )
    session.commit()
    return case


def assign_case(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    assignee_id: int,
    version: int | None = None,
    now: datetime | None = None,
) -> Case:
    """Give a case to a reviewer who is not excluded from it."""
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    check_version(case, version, session=session)
    now = now or utcnow()
    target = session.get(User, assignee_id)
    if target is None or not target.is_active or Role.reviewer not in target.roles:
        raise ValidationError("Assignee: choose an active case reviewer.", field="assignee")
    assert case.id is not None
    if is_excluded(session=session, case_id=case.id, user_id=assignee_id):
        raise ValidationError(
            f"Assignee: {target.display_name} is excluded from this case.", field="assignee"
        )
    case.assignee_id = assignee_id
    case.version += 1
    session.add(case)
    append_event(
        session=session,
        case=case,
        kind=EventKind.assigned,
        actor=actor,
        at=now,
        assignee_id=assignee_id,
        body=f"Assigned to {target.display_name}.",
    )
    record(
        session=session,
        actor=actor,
        action="case.assign",
        entity="case",
        entity_id=case.reference,
        details={"assignee_id": assignee_id},
    )
    session.commit()
    return case


def exclude_reviewer(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    user_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Exclude a reviewer from a case (conflict of interest); they lose sight of it at once."""
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    now = now or utcnow()
    if not reason.strip():
        raise ValidationError("Reason: say why this reviewer must be left out.", field="reason")
    if len(reason.strip()) > SHORT_TEXT_MAX:
        raise ValidationError(
            f"Reason: use at most {SHORT_TEXT_MAX:,} characters "
            f"(this has {len(reason.strip()):,}).",
            field="reason",
        )
    target = session.get(User, user_id)
    if target is None or Role.reviewer not in target.roles:
        raise ValidationError("Reviewer: choose a case reviewer.", field="reviewer")
    assert case.id is not None
    if is_excluded(session=session, case_id=case.id, user_id=user_id):
        raise Conflict(f"{target.display_name} is already excluded from this case.")
    # Somebody must still be able to see the case: nobody, the excluding reviewer
    # included, can take a case out of everyone's sight.
    if not [r for r in _readers(session=session, case_id=case.id) if r.id != user_id]:
        raise ValidationError(
            "Reviewer: at least one active reviewer must still be able to see this case. "
            "Ask an administrator to add a reviewer first.",
            field="reviewer",
        )
    session.add(
        CaseExclusion(case_id=case.id, user_id=user_id, excluded_by_id=actor.id, created_at=now)
    )
    if case.assignee_id == user_id:
        case.assignee_id = None
    case.version += 1
    session.add(case)
    append_event(
        session=session,
        case=case,
        kind=EventKind.exclusion,
        actor=actor,
        at=now,
        body=f"Excluded {target.display_name}: {reason.strip()}",
    )
    record(
        session=session,
        actor=actor,
        action="case.exclude",
        entity="case",
        entity_id=case.reference,
        # A reviewer leaving out a colleague is flagged for an administrator at once.
        details={"user_id": user_id, "colleague": user_id != actor.id},
    )
    session.commit()


def _readers(*, session: Session, case_id: int) -> list[User]:
    """Active reviewers who are not excluded from the case."""
    query = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(
            UserRole.role == Role.reviewer.value,
            col(User.is_active).is_(True),
            ~exists().where(
                col(CaseExclusion.case_id) == case_id, col(CaseExclusion.user_id) == col(User.id)
            ),
        )
        .order_by(col(User.id))
    )
    return list(session.exec(query).all())


def case_audience(session: Session, case_id: int) -> set[int]:
    """Who may be told about a case (notifications): its readers, never an excluded one."""
    return {user.id for user in _readers(session=session, case_id=case_id) if user.id}


@dataclass(frozen=True)
class ColleagueExclusion:
    """A reviewer's exclusion of another reviewer from a case, for an administrator."""

    reference: str
    excluded: str
    excluded_by: str
    at: datetime
    readers_left: int


def colleague_exclusions(
    *, session: Session, actor: Actor, limit: int = 50
) -> list[ColleagueExclusion]:
    """Exclusions of one reviewer by another, newest first (administrators only).

    Shows who left whom out of which case and how many reviewers can still see it,
    never the case's content or the reason given.
    """
    require_role(actor, Role.admin, doing="see exclusions between reviewers")
    excluded_user = aliased(User)
    by_user = aliased(User)
    query = (
        select(Case, CaseExclusion, excluded_user.display_name, by_user.display_name)
        .join(CaseExclusion, col(CaseExclusion.case_id) == col(Case.id))
        .join(excluded_user, excluded_user.id == col(CaseExclusion.user_id))  # type: ignore[arg-type]
        .join(by_user, by_user.id == col(CaseExclusion.excluded_by_id))  # type: ignore[arg-type]
        .where(col(CaseExclusion.excluded_by_id) != col(CaseExclusion.user_id))
        .order_by(col(CaseExclusion.created_at).desc())
        .limit(max(1, min(limit, PAGE_SIZE_MAX)))
    )
    rows = []
    for case, exclusion, excluded_name, by_name in session.exec(query).all():
        assert case.id is not None
        rows.append(
            ColleagueExclusion(
                reference=case.reference,
                excluded=excluded_name,
                excluded_by=by_name,
                at=exclusion.created_at,
                readers_left=len(_readers(session=session, case_id=case.id)),
            )
        )
    return rows


def queue_summary(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Counts for the reviewer's Home: new, overdue, due soon, assigned to me."""
    require_reviewer(actor, "see the case queue")
    now = now or utcnow()
    base = [not_excluded(actor), col(Case.status).in_(OPEN_STATUSES), col(Case.purged_at).is_(None)]

    def count(*extra: Any) -> int:
        return int(session.exec(select(func.count()).select_from(Case).where(*base, *extra)).one())

    return {
        "new": count(col(Case.status) == CaseStatus.new.value),
        "overdue": count(col(Case.sla_due_at) < now),
        "due_soon": count(
            col(Case.sla_due_at) >= now, col(Case.sla_due_at) < now + FEEDBACK_DUE_SOON
        ),
        "mine": count(col(Case.assignee_id) == actor.id),
    }


# ---- access requests: reviewers release what the person is entitled to ------------------


@dataclass(frozen=True)
class AccessRequestForCase:
    """An open access request by the person a named case is about."""

    request_id: int
    due_on: date
    released: bool
    content: str | None


def _named(case: Case) -> bool:
    return not case.anonymous and case.contact_id is not None and case.purged_at is None


def access_requests_for_case(
    *, session: Session, actor: Actor, case_id: int
) -> list[AccessRequestForCase]:
    """Open access requests by the person this named case is about (none for anonymous
    concerns, which are never part of an access request)."""
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    if not _named(case):
        return []
    requests = session.exec(
        select(PrivacyRequest)
        .where(
            col(PrivacyRequest.contact_id) == case.contact_id,
            col(PrivacyRequest.kind) == RequestKind.access.value,
            col(PrivacyRequest.status) == RequestStatus.open.value,
        )
        .order_by(col(PrivacyRequest.id))
    ).all()
    found = []
    for request in requests:
        assert request.id is not None
        release = session.get(CaseRelease, (request.id, case_id))
        found.append(
            AccessRequestForCase(
                request.id,
                request.deadline,
                release is not None,
                release.content if release else None,
            )
        )
    return found


def release_to_access_request(
    *,
    session: Session,
    actor: Actor,
    case_id: int,
    request_id: int,
    content: str,
    now: datetime | None = None,
) -> CaseRelease:
    """Release what the person is entitled to from this case to their access request.

    The reviewer writes it: what the person told us and what was done, never what
    others said in confidence. An empty release says there is nothing to hand over.
    """
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    now = now or utcnow()
    if not _named(case):
        raise ValidationError(
            "Anonymous concerns are never part of an access request.", field="request"
        )
    request = session.get(PrivacyRequest, request_id)
    if (
        request is None
        or request.contact_id != case.contact_id
        or request.kind != RequestKind.access
        or request.status != RequestStatus.open
    ):
        raise NotFound("There is no open access request by this person with that number.")
    if session.get(CaseRelease, (request_id, case_id)) is not None:
        raise Conflict(f"Case {case.reference} was already released to request #{request_id}.")
    text = clean_text(content, label="Release", field="content", limit=TEXT_MAX, required=False)
    release = CaseRelease(
        request_id=request_id,
        case_id=case_id,
        released_by_id=actor.id or 0,
        released_at=now,
        content=text,
    )
    session.add(release)
    append_event(
        session=session,
        case=case,
        kind=EventKind.internal_note,
        actor=actor,
        at=now,
        body=f"Released to access request #{request_id}"
        + ("." if text else ": nothing the person is entitled to."),
    )
    record(
        session=session,
        actor=actor,
        action="case.release",
        entity="case",
        entity_id=case.reference,
        details={"request_id": request_id, "empty": text is None},
    )
    session.commit()
    return release


def awaiting_release(*, session: Session, actor: Actor) -> list[str]:
    """References of named cases this reviewer may see that an open access request
    still waits on, oldest request first."""
    require_reviewer(actor, "see cases awaiting release")
    query = (
        select(Case.reference)
        .join(PrivacyRequest, col(PrivacyRequest.contact_id) == col(Case.contact_id))
        .where(
            col(Case.anonymous).is_(False),
            col(Case.purged_at).is_(None),
            not_excluded(actor),
            col(PrivacyRequest.kind) == RequestKind.access.value,
            col(PrivacyRequest.status) == RequestStatus.open.value,
            ~exists().where(
                col(CaseRelease.case_id) == col(Case.id),
                col(CaseRelease.request_id) == col(PrivacyRequest.id),
            ),
        )
        .order_by(col(PrivacyRequest.due_on), col(Case.reference))
    )
    return list(dict.fromkeys(session.exec(query).all()))
