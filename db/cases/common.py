"""Shared pieces of the cases area: settings, categories, timeline events, deadlines."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.cases.sla import SlaPolicy, feedback_due, feedback_start, running_deadline
from db.core.errors import Conflict, ValidationError
from db.core.settings import get_settings
from db.models.auth import Role
from db.models.cases import Case, CaseCategory, CaseEvent, CaseQuestion, EventKind, QuestionKind

DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("wellbeing", "Wellbeing"),
    ("health_safety", "Health and safety"),
    ("safeguarding", "Safeguarding"),
    ("patient_safety", "Patient safety"),
    ("bullying", "Bullying or harassment"),
    ("misconduct", "Misconduct"),
    ("service_quality", "Service quality"),
    ("other", "Other"),
)

# Each default category's own intake questions (text, or a date), asked after the form.
DEFAULT_QUESTIONS: dict[str, tuple[tuple[str, QuestionKind], ...]] = {
    "health_safety": (
        ("Where exactly is the hazard?", QuestionKind.text),
        ("When did you first notice it?", QuestionKind.date),
        ("Has anyone been hurt?", QuestionKind.text),
    ),
    "patient_safety": (
        ("Which ward or service?", QuestionKind.text),
        ("Was a patient harmed, or nearly harmed?", QuestionKind.text),
    ),
    "safeguarding": (
        ("Is anyone in danger now?", QuestionKind.text),
        ("Who was involved (roles are enough)?", QuestionKind.text),
    ),
    "bullying": (
        ("When did it start?", QuestionKind.date),
        ("Did anyone else see or hear it?", QuestionKind.text),
    ),
    "misconduct": (
        ("When did it happen?", QuestionKind.date),
        ("Is there a record of it (documents, emails, rotas)?", QuestionKind.text),
    ),
}
REPORTER_LABEL = "Reporter"
TEXT_MAX = 20_000
SHORT_TEXT_MAX = 2_000


@dataclass(frozen=True)
class CaseSettings:
    """Deployer settings of the cases area."""

    retention_years: int
    receipt_log2n: int


def case_settings() -> CaseSettings:
    """Read the cases settings from the environment."""
    settings = get_settings()
    return CaseSettings(
        retention_years=settings.case_retention_years,
        # scrypt cost 2**14 takes about 75 ms and 16 MB; tests lower it.
        receipt_log2n=settings.receipt_scrypt_log2n,
    )


def ensure_categories(*, session: Session) -> None:
    """Insert the default categories when none exist yet (commits)."""
    if session.exec(select(CaseCategory).limit(1)).first() is not None:
        return
    for order, (key, label) in enumerate(DEFAULT_CATEGORIES):
        session.add(CaseCategory(key=key, label=label, sort_order=order))
    session.flush()
    for key, questions in DEFAULT_QUESTIONS.items():
        for position, (prompt, kind) in enumerate(questions):
            session.add(
                CaseQuestion(category=key, position=position, prompt=prompt, kind=kind.value)
            )
    session.commit()


def list_categories(*, session: Session) -> list[CaseCategory]:
    """The active categories, in display order (public: the intake form lists them)."""
    ensure_categories(session=session)
    query = (
        select(CaseCategory)
        .where(col(CaseCategory.active).is_(True))
        .order_by(col(CaseCategory.sort_order), col(CaseCategory.label))
    )
    return list(session.exec(query).all())


def category_labels(*, session: Session) -> dict[str, str]:
    """Every category key with its label, inactive ones included."""
    ensure_categories(session=session)
    return {c.key: c.label for c in session.exec(select(CaseCategory)).all()}


def get_category(*, session: Session, key: str) -> CaseCategory:
    """The active category `key`, or a ValidationError naming the field."""
    ensure_categories(session=session)
    found = session.get(CaseCategory, key)
    if found is None or not found.active:
        raise ValidationError("Category: choose one of the listed categories.", field="category")
    return found


def policy_for(*, session: Session, category: str) -> SlaPolicy:
    """The deadlines of a category (the defaults if it has gone)."""
    found = session.get(CaseCategory, category)
    if found is None:
        return SlaPolicy()
    return SlaPolicy(ack_days=found.ack_days, feedback_months=found.feedback_months)


def refresh_deadlines(*, session: Session, case: Case) -> None:
    """Recompute the stored feedback due date and the running deadline of a case."""
    policy = policy_for(session=session, category=case.category)
    start = feedback_start(case.acknowledged_at, case.reopened_at)
    case.feedback_due_at = None if start is None else feedback_due(start, policy)
    _stage, case.sla_due_at = running_deadline(
        received_at=case.received_at,
        acknowledged_at=case.acknowledged_at,
        feedback_at=case.feedback_at,
        closed_at=case.closed_at,
        reopened_at=case.reopened_at,
        policy=policy,
    )


def actor_label(actor: Actor) -> str:
    """How a staff member appears in a timeline."""
    return actor.display_name


def append_event(
    session: Session,
    case: Case,
    kind: EventKind,
    actor: Actor | None,
    at: datetime,
    /,
    **fields: Any,
) -> CaseEvent:
    """Add an entry to a case's timeline (the caller commits): what, by whom, when, and
    the kind's own fields (a body, a status change, a severity…)."""
    assert case.id is not None
    event = CaseEvent(
        case_id=case.id,
        occurred_at=at,
        kind=kind.value,
        actor_id=None if actor is None else actor.id,
        actor_label=REPORTER_LABEL if actor is None else actor_label(actor),
        **fields,
    )
    case.last_activity_at = at
    session.add(event)
    return event


def check_version(case: Case, version: int | None, *, session: Session) -> None:
    """Refuse a change made on a stale copy of the case, naming who changed it and when."""
    if version is None or version == case.version:
        return
    last = session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .order_by(col(CaseEvent.occurred_at).desc(), col(CaseEvent.id).desc())
        .limit(1)
    ).first()
    who = last.actor_label if last is not None else "someone else"
    when = (last.occurred_at if last is not None else case.last_activity_at).strftime(
        "%Y-%m-%d %H:%M"
    )
    raise Conflict(f"Case {case.reference} was changed by {who} at {when} UTC — reload.")


def clean_text(
    value: str | None, *, label: str, field: str, limit: int, required: bool
) -> str | None:
    """Strip text, enforce presence and length, naming the field on refusal."""
    # NUL is never meant in typed text, and PostgreSQL's text type cannot hold it.
    text = (value or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationError(f"{label}: this cannot be empty.", field=field)
    if len(text) > limit:
        raise ValidationError(
            f"{label}: use at most {limit:,} characters (this has {len(text):,}).", field=field
        )
    return text or None


def set_category_deadlines(
    *, session: Session, actor: Actor, key: str, ack_days: int, feedback_months: int
) -> CaseCategory:
    """Change a category's deadlines (admin); they apply from each case's next change."""
    require_role(actor, Role.admin, doing="change case deadlines")
    category = get_category(session=session, key=key)
    if not 1 <= ack_days <= 90:
        raise ValidationError("Acknowledge within: choose 1 to 90 days.", field="ack_days")
    if not 1 <= feedback_months <= 12:
        raise ValidationError("Feedback within: choose 1 to 12 months.", field="feedback_months")
    before = {"ack_days": category.ack_days, "feedback_months": category.feedback_months}
    category.ack_days, category.feedback_months = ack_days, feedback_months
    session.add(category)
    record(
        session,
        actor,
        "case.category_deadlines",
        "case_category",
        entity_id=key,
        details={
            "before": before,
            "after": {"ack_days": ack_days, "feedback_months": feedback_months},
        },
    )
    session.commit()
    return category
