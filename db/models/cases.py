"""Tables of the cases area: concerns and welfare cases, their events, exclusions, check-ins.

An anonymous case row holds what the reporter chose to write and nothing about where
it came from: no IP address, user agent, cookie, session or account column exists here.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class CaseKind(StrEnum):
    """A concern raised by someone, or a welfare case opened by a reviewer."""

    concern = "concern"
    welfare = "welfare"


class CaseStatus(StrEnum):
    """Where a case is: new → acknowledged → under review → action taken → closed."""

    new = "new"
    acknowledged = "acknowledged"
    under_review = "under_review"
    action_taken = "action_taken"
    closed = "closed"


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.new: "New",
    CaseStatus.acknowledged: "Acknowledged",
    CaseStatus.under_review: "Under review",
    CaseStatus.action_taken: "Action taken",
    CaseStatus.closed: "Closed",
}


class Severity(StrEnum):
    """The 5-grade harm scale."""

    none = "none"
    low = "low"
    moderate = "moderate"
    severe = "severe"
    catastrophic = "catastrophic"


SEVERITY_RANK: dict[Severity, int] = {s: i for i, s in enumerate(Severity)}


class Urgency(StrEnum):
    """How urgent it feels to the reporter."""

    low = "low"
    medium = "medium"
    high = "high"


class Outcome(StrEnum):
    """How a case ended."""

    substantiated = "substantiated"
    partly_substantiated = "partly_substantiated"
    not_substantiated = "not_substantiated"
    resolved_informally = "resolved_informally"
    referred_elsewhere = "referred_elsewhere"
    support_provided = "support_provided"
    withdrawn = "withdrawn"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.substantiated: "Substantiated",
    Outcome.partly_substantiated: "Partly substantiated",
    Outcome.not_substantiated: "Not substantiated",
    Outcome.resolved_informally: "Resolved informally",
    Outcome.referred_elsewhere: "Referred elsewhere",
    Outcome.support_provided: "Support provided",
    Outcome.withdrawn: "Withdrawn",
}


class EventKind(StrEnum):
    """What an entry in a case's timeline records."""

    received = "received"
    acknowledged = "acknowledged"
    assigned = "assigned"
    severity_set = "severity_set"
    status_changed = "status_changed"
    internal_note = "internal_note"
    message_to_reporter = "message_to_reporter"
    message_from_reporter = "message_from_reporter"
    check_in = "check_in"
    closed = "closed"
    reopened = "reopened"
    exclusion = "exclusion"


# What the reporter sees of the timeline on the follow-up page.
REPORTER_VISIBLE: frozenset[EventKind] = frozenset(
    {
        EventKind.received,
        EventKind.acknowledged,
        EventKind.message_to_reporter,
        EventKind.message_from_reporter,
        EventKind.closed,
        EventKind.reopened,
    }
)


class CaseCategory(SQLModel, table=True):
    """A category of concern, with its own deadlines (configurable per category)."""

    __tablename__ = "case_category"

    key: str = Field(primary_key=True, max_length=40)
    label: str = Field(max_length=80)
    ack_days: int = Field(default=7)
    feedback_months: int = Field(default=3)
    sort_order: int = Field(default=0)
    active: bool = Field(default=True)


class CaseBase(SQLModel):
    category: str = Field(foreign_key="case_category.key", max_length=40, index=True)
    what_happened: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    where_when: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    occurred_on: date | None = None
    people_involved: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    urgency: str = Field(default=Urgency.medium.value, max_length=16)


class Case(CaseBase, table=True):
    """A concern or welfare case. State columns mirror its append-only events for queries."""

    __tablename__ = "case_record"
    # Open cases by deadline: the reviewer's Home counts new, overdue and due-soon cases.
    __table_args__ = (Index("ix_case_record_open_due", "status", "purged_at", "sla_due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True, index=True)
    kind: str = Field(default=CaseKind.concern.value, max_length=16, index=True)
    anonymous: bool = Field(default=True)
    contact_name: str | None = Field(default=None, max_length=120)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=40)
    # The people area links its contact here; the foreign key arrives with that area.
    contact_id: int | None = Field(default=None, index=True)
    status: str = Field(default=CaseStatus.new.value, max_length=16, index=True)
    severity: str | None = Field(default=None, max_length=16)
    severity_rank: int = Field(default=-1, index=True)
    outcome: str | None = Field(default=None, max_length=32, index=True)
    assignee_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    ack_due_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feedback_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The deadline now running (acknowledge or feedback), for sorting the queue in SQL.
    sla_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "scrypt$log2n$r$p$salt$hash"; the receipt itself is never stored.
    receipt_hash: str | None = Field(default=None, max_length=200)
    failed_attempts: int = Field(default=0)
    retry_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # When the reporter last replied: a reviewer who has not opened the case since sees
    # it marked in the queue (a new concern shows as New already).
    reporter_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The reporter's answers to the category's own intake questions, as JSON
    # ([{"question": ..., "answer": ...}]), kept as they were asked.
    answers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = Field(default=1)


class ConcernCreate(CaseBase):
    """What a reporter submits on Raise a concern."""

    anonymous: bool = True
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    exclude_reviewer_ids: list[int] = []
    # The category's own questions, by question id: what the reporter answered.
    answers: dict[int, str] = {}


class WelfareCreate(SQLModel):
    """A welfare case a reviewer opens for a named person, with check-ins."""

    category: str = "wellbeing"
    person_name: str
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_id: int | None = None
    reason: str
    first_check_in: date
    every_days: int = 7
    check_ins: int = 4


class CaseEvent(SQLModel, table=True):
    """One entry in a case's timeline; never updated (retention erases whole cases)."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    kind: str = Field(max_length=32)
    # None for the reporter: an anonymous reporter is never linked to an account.
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_label: str = Field(max_length=120)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    severity: str | None = Field(default=None, max_length=16)
    outcome: str | None = Field(default=None, max_length=32)
    assignee_id: int | None = Field(default=None)
    # A message to the reporter marked as the feedback the law asks for (on the action
    # taken or planned, or the outcome): only such a message stops the feedback clock.
    feedback: bool = Field(default=False)


class CaseExclusion(SQLModel, table=True):
    """A reviewer who must not see a case (conflict of interest)."""

    __tablename__ = "case_exclusion"

    case_id: int = Field(foreign_key="case_record.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True)
    by_reporter: bool = Field(default=False)
    # Who made the exclusion (None for the reporter's own choice at intake).
    excluded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseRelease(SQLModel, table=True):
    """What a case reviewer releases from one case to one data-subject access request.

    An access export never reads a case itself: it carries only these releases, written
    by a reviewer who may see the case, so exclusions and reviewers' judgement hold.
    """

    __tablename__ = "case_release"

    request_id: int = Field(foreign_key="privacy_request.id", primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", primary_key=True, index=True)
    released_by_id: int = Field(foreign_key="app_user.id")
    released_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    content: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CheckIn(SQLModel, table=True):
    """A scheduled welfare check-in and, once done, its outcome."""

    __tablename__ = "case_check_in"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    due_on: date = Field(index=True)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class QuestionKind(StrEnum):
    """How a category's intake question is answered."""

    text = "text"
    date = "date"


class CaseQuestion(SQLModel, table=True):
    """One of a category's own questions at intake (when, where, who was involved)."""

    __tablename__ = "case_question"

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(foreign_key="case_category.key", max_length=40, index=True)
    position: int = Field(default=0)
    prompt: str = Field(max_length=200)
    kind: str = Field(default=QuestionKind.text.value, max_length=8)
    active: bool = Field(default=True)


class CaseAttachment(SQLModel, table=True):
    """A file of evidence, stored with its case once its metadata has been stripped.

    Only the cleaned bytes are kept: the file as uploaded (with its EXIF or PDF author)
    is never written anywhere.
    """

    __tablename__ = "case_attachment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    filename: str = Field(max_length=120)
    content_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    from_reporter: bool = Field(default=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseRead(SQLModel, table=True):
    """When a reviewer last opened a case, for the queue's unread marker."""

    __tablename__ = "case_read"

    case_id: int = Field(foreign_key="case_record.id", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", primary_key=True, index=True)
    read_at: datetime = Field(sa_type=UTCDateTime)


class CaseSavedView(SQLModel, table=True):
    """A reviewer's own named set of queue filters."""

    __tablename__ = "case_saved_view"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_case_saved_view_user_name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=60)
    filters: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
