"""The reviewers' side: the queue, opening a case, claiming, assigning, exclusions.

An excluded reviewer is filtered out here, in the queries themselves: the case is
missing from their queue and opening it answers NotFound, whatever the page does.
"""

import json
from dataclasses import asdict, dataclass, fields
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
from db.cases.sla import FEEDBACK_DUE_SOON, SlaClock, sla_clock
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.types import utcnow
from db.models.auth import Role, User, UserRole
from db.models.cases import (
    Case,
    CaseEvent,
    CaseExclusion,
    CaseRead,
    CaseRelease,
    CaseSavedView,
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
    severities: tuple[str, ...] = ()  # "unset" stands for cases not graded yet
    assignee_id: int | None = None  # one reviewer's cases
    search: str = ""  # words in the reference, the case's text or its answers
    unread_only: bool = False


UNSET_SEVERITY = "unset"
SEARCH_MAX = 100


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
    # The reporter wrote (the concern, or a reply) since this reviewer last opened it.
    unread: bool = False


def unread_by(actor: Actor) -> Any:
    """A SQL condition: the reporter wrote since this actor last opened the case."""
    return col(Case.reporter_at).is_not(None) & ~exists().where(
        col(CaseRead.case_id) == col(Case.id),
        col(CaseRead.user_id) == actor.id,
        col(CaseRead.read_at) >= col(Case.reporter_at),
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_conditions(search: str) -> list[Any]:
    text = search.replace("\x00", "").strip().lower()
    if len(text) > SEARCH_MAX:
        raise ValidationError(f"Search: use at most {SEARCH_MAX} characters.", field="search")
    conditions = []
    # Every word must appear somewhere in the case: its reference, text or answers.
    for word in text.split()[:8]:
        pattern = _like(word)
        conditions.append(
            func.lower(col(Case.reference)).like(pattern, escape="\\")
            | func.lower(func.coalesce(col(Case.what_happened), "")).like(pattern, escape="\\")
            | func.lower(func.coalesce(col(Case.where_when), "")).like(pattern, escape="\\")
            | func.lower(func.coalesce(col(Case.people_involved), "")).like(pattern, escape="\\")
            | func.lower(func.coalesce(col(Case.answers), "")).like(pattern, escape="\\")
        )
    return conditions


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
    if flt.assignee_id is not None:
        conditions.append(col(Case.assignee_id) == flt.assignee_id)
    if flt.overdue_only:
        conditions.append(col(Case.sla_due_at) < now)
    if flt.severities:
        graded = [s for s in flt.severities if s != UNSET_SEVERITY]
        wanted: Any = col(Case.severity).in_(graded)
        if UNSET_SEVERITY in flt.severities:
            wanted = wanted | col(Case.severity).is_(None)
        conditions.append(wanted)
    if flt.search.strip():
        conditions.extend(_search_conditions(flt.search))
    if flt.unread_only:
        conditions.append(unread_by(actor))
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
        select(Case, User.display_name, unread_by(actor))
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
    for case, assignee, unread in session.exec(query).all():
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
                unread=bool(unread),
            )
        )
    return rows


def case_clock(*, session: Session, case: Case, now: datetime | None = None) -> SlaClock:
    """The SLA clock of a case now."""
    return sla_clock(
        received_at=case.received_at,
        acknowledged_at=case.acknowledged_at,
        feedback_at=case.feedback_at,
        closed_at=case.closed_at,
        reopened_at=case.reopened_at,
        policy=policy_for(session=session, category=case.category),
        now=now or utcnow(),
    )


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
        record(session, actor, "case.open_excluded", "case", entity_id=excluded)
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
    _mark_read(session, actor, case, now or utcnow())
    if record_open:
        record_view(
            session=session, actor=actor, entity="case", entity_id=case.reference, what="case.open"
        )
    return detail


def _mark_read(session: Session, actor: Actor, case: Case, now: datetime) -> None:
    """Note that this reviewer has read what the reporter wrote so far (commits)."""
    if case.reporter_at is None or actor.id is None or case.id is None:
        return
    mark = session.get(CaseRead, (case.id, actor.id))
    if mark is not None and mark.read_at >= case.reporter_at:
        return
    if mark is None:
        mark = CaseRead(case_id=case.id, user_id=actor.id, read_at=now)
    mark.read_at = max(now, case.reporter_at)
    session.add(mark)
    session.commit()


def list_reviewers(*, session: Session, actor: Actor, case_id: int | None = None) -> list[User]:
    """Active case reviewers, for assigning (reviewers only).

    With `case_id`, only those who may see that case: an excluded reviewer is never
    offered as its assignee.
    """
    require_reviewer(actor, "list reviewers")
    if case_id is not None:
        case_by_id(session=session, actor=actor, case_id=case_id)
        return _readers(session=session, case_id=case_id, by_name=True)
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
        session,
        case,
        EventKind.assigned,
        actor,
        now,
        assignee_id=actor.id,
        body="Claimed the case.",
    )
    record(session, actor, "case.claim", "case", entity_id=case.reference)
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
        session,
        case,
        EventKind.assigned,
        actor,
        now,
        assignee_id=assignee_id,
        body=f"Assigned to {target.display_name}.",
    )
    record(
        session,
        actor,
        "case.assign",
        "case",
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
        session,
        case,
        EventKind.exclusion,
        actor,
        now,
        body=f"Excluded {target.display_name}: {reason.strip()}",
    )
    record(
        session,
        actor,
        "case.exclude",
        "case",
        entity_id=case.reference,
        details={"user_id": user_id, "colleague": user_id != actor.id},
    )
    session.commit()


def _readers(*, session: Session, case_id: int, by_name: bool = False) -> list[User]:
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
        .order_by(col(User.display_name) if by_name else col(User.id))
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
        session,
        case,
        EventKind.internal_note,
        actor,
        now,
        body=f"Released to access request #{request_id}"
        + ("." if text else ": nothing the person is entitled to."),
    )
    record(
        session,
        actor,
        "case.release",
        "case",
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


# ---- saved views: a reviewer's own named filters ----------------------------------------

VIEW_NAME_MAX = 60
VIEWS_MAX = 20


@dataclass(frozen=True)
class SavedView:
    """A reviewer's named queue filters."""

    id: int
    name: str
    flt: QueueFilter


def _filter_of(raw: str) -> QueueFilter:
    data = json.loads(raw)
    known = {f.name for f in fields(QueueFilter)}
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known
    }
    return QueueFilter(**values)


def save_view(*, session: Session, actor: Actor, name: str, flt: QueueFilter) -> SavedView:
    """Keep the queue's filters under a name, for this reviewer only (same name: replaced)."""
    require_reviewer(actor, "save queue views")
    label = clean_text(
        name, label="View name", field="view_name", limit=VIEW_NAME_MAX, required=True
    )
    assert label is not None and actor.id is not None
    found = session.exec(
        select(CaseSavedView).where(
            col(CaseSavedView.user_id) == actor.id, col(CaseSavedView.name) == label
        )
    ).first()
    if found is None:
        held = session.exec(
            select(func.count())
            .select_from(CaseSavedView)
            .where(col(CaseSavedView.user_id) == actor.id)
        ).one()
        if int(held) >= VIEWS_MAX:
            raise ValidationError(
                f"View name: you can keep at most {VIEWS_MAX} views; delete one first.",
                field="view_name",
            )
        found = CaseSavedView(user_id=actor.id, name=label, filters="{}")
    found.filters = json.dumps(asdict(flt))
    session.add(found)
    session.commit()
    assert found.id is not None
    return SavedView(found.id, found.name, flt)


def list_views(*, session: Session, actor: Actor) -> list[SavedView]:
    """This reviewer's saved views, by name."""
    require_reviewer(actor, "see queue views")
    rows = session.exec(
        select(CaseSavedView)
        .where(col(CaseSavedView.user_id) == actor.id)
        .order_by(col(CaseSavedView.name))
    ).all()
    return [SavedView(r.id or 0, r.name, _filter_of(r.filters)) for r in rows]


def delete_view(*, session: Session, actor: Actor, view_id: int) -> None:
    """Delete one of this reviewer's saved views (another's reads as missing)."""
    require_reviewer(actor, "delete queue views")
    found = session.get(CaseSavedView, view_id)
    if found is None or found.user_id != actor.id:
        raise NotFound("There is no such saved view.")
    session.delete(found)
    session.commit()
