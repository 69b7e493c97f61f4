"""Voice of customers and citizens: the survey engine asking contacts, not staff.

A contact survey is an ordinary survey whose audience is contacts (filtered by kind,
tag and organisation). Only contacts whose consent allows the `feedback` purpose are
invited, checked when the survey opens; the rest are counted with the reason. Answers
are tied to the contact only when the survey is declared non-anonymous; an anonymous
contact survey keeps the employee surveys' unlinkability and thresholds.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.state import ConsentState, LedgerEntry, derive_state
from db.core.errors import Conflict, ValidationError
from db.core.small_groups import big_enough
from db.core.types import utcnow
from db.models.auth import Role
from db.models.consent import ConsentChannel, ConsentEvent, ConsentPurpose
from db.models.people import Contact, ContactKind, ContactTag, Organisation
from db.models.surveys import (
    DEFAULT_COMMENT_MIN,
    DEFAULT_MIN_GROUP,
    AudienceKind,
    QuestionKind,
    Survey,
    SurveyInvitation,
    SurveyStatus,
)
from db.surveys.builder import (
    TemplateQuestion,
    add_template_questions,
    get_survey,
    list_questions,
    survey_title,
    validate_thresholds,
)

FEEDBACK_PURPOSE = "feedback"
NPS_CODE = "nps"
NPS_TEXT = "How likely are you to recommend us to a friend or colleague?"
NO_ORGANISATION = "No organisation"
SKIP_REASONS = {
    ConsentState.none: "never agreed to be asked for feedback",
    ConsentState.withdrawn: "withdrew their consent to feedback requests",
    ConsentState.objected: "objected to feedback requests",
    ConsentState.expired: "gave consent to feedback requests that has expired",
}
NO_EMAIL = "has no email address to send the link to"

CUSTOMER_NPS_TEMPLATE: tuple[TemplateQuestion, ...] = (
    TemplateQuestion("Your experience", NPS_CODE, NPS_TEXT, QuestionKind.scale10),
    TemplateQuestion(
        "Your experience",
        "sat_overall",
        "Overall, how satisfied are you with our service?",
        QuestionKind.choice,
        choices="Very satisfied\nSatisfied\nNeither\nDissatisfied\nVery dissatisfied",
    ),
    TemplateQuestion(
        "Your experience",
        "reason",
        "What is the main reason for your score?",
        QuestionKind.text,
        required=False,
    ),
)

CONSULTATION_TEMPLATE: tuple[TemplateQuestion, ...] = (
    TemplateQuestion(
        "The proposal",
        "plan_support",
        "Do you support the proposed plan?",
        QuestionKind.choice,
        choices="Support\nSupport with changes\nOppose\nNo view",
    ),
    TemplateQuestion(
        "The proposal",
        "plan_affects",
        "How does the plan affect you?",
        QuestionKind.choice,
        choices="I live nearby\nI work nearby\nI use the service\nOther",
    ),
    TemplateQuestion(
        "Have your say",
        "plan_comment",
        "What would you change in the plan, and why?",
        QuestionKind.text,
        required=False,
    ),
)

CONTACT_TEMPLATES: dict[str, tuple[TemplateQuestion, ...]] = {
    "customer NPS": CUSTOMER_NPS_TEMPLATE,
    "consultation": CONSULTATION_TEMPLATE,
    "blank": (),
}


class ContactSurveyCreate(SQLModel):
    """What HR gives to start a survey of customers or citizens."""

    title: str
    template: str = "customer NPS"
    contact_kind: ContactKind | None = None
    tag: str | None = None
    organisation_id: int | None = None
    opens_on: date
    closes_on: date
    min_group: int = DEFAULT_MIN_GROUP
    comment_min: int = DEFAULT_COMMENT_MIN
    anonymous: bool = True


def create_contact_survey(
    *, session: Session, survey_in: ContactSurveyCreate, actor: Actor
) -> Survey:
    """A new draft survey of contacts, filled from a contact template (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    title = survey_title(survey_in.title)
    if survey_in.template not in CONTACT_TEMPLATES:
        raise ValidationError(
            f"Template: choose one of {', '.join(CONTACT_TEMPLATES)}.", field="template"
        )
    validate_thresholds(survey_in.min_group, survey_in.comment_min)
    if survey_in.closes_on < survey_in.opens_on:
        raise ValidationError(
            "Close date: it must be on or after the open date.", field="closes_on"
        )
    if survey_in.organisation_id is not None and not session.get(
        Organisation, survey_in.organisation_id
    ):
        raise ValidationError("Organisation: that organisation does not exist.", field="org")
    survey = Survey(
        title=title,
        opens_on=survey_in.opens_on,
        closes_on=survey_in.closes_on,
        min_group=survey_in.min_group,
        comment_min=survey_in.comment_min,
        audience_kind=AudienceKind.contacts.value,
        audience_contact_kind=survey_in.contact_kind.value if survey_in.contact_kind else None,
        audience_tag=(survey_in.tag or "").strip().lower() or None,
        audience_organisation_id=survey_in.organisation_id,
        anonymous=survey_in.anonymous,
    )
    session.add(survey)
    session.flush()
    survey.series_id = survey.id
    add_template_questions(session, survey, CONTACT_TEMPLATES[survey_in.template])
    record(
        session=session,
        actor=actor,
        action="survey.create",
        entity="survey",
        entity_id=survey.id,
        details={"template": survey_in.template, "audience": "contacts"},
    )
    session.commit()
    return survey


def is_contact_survey(survey: Survey) -> bool:
    """True when the survey asks contacts rather than employees."""
    return survey.audience_kind == AudienceKind.contacts.value


def _audience(survey: Survey) -> list[Any]:
    conditions: list[Any] = [
        col(Contact.erased_at).is_(None),
        col(Contact.merged_into_id).is_(None),
    ]
    if survey.audience_contact_kind:
        conditions.append(col(Contact.kind) == survey.audience_contact_kind)
    if survey.audience_organisation_id is not None:
        conditions.append(col(Contact.organisation_id) == survey.audience_organisation_id)
    if survey.audience_tag:
        tagged = select(ContactTag.contact_id).where(ContactTag.tag == survey.audience_tag)
        conditions.append(col(Contact.id).in_(tagged))
    return conditions


def feedback_states(
    session: Session, purpose_id: int, contact_ids: list[int]
) -> dict[int, ConsentState]:
    """Each contact's current consent state for the feedback purpose, on email."""
    entries: dict[int, list[LedgerEntry]] = defaultdict(list)
    now = utcnow()
    for start in range(0, len(contact_ids), 500):  # stay under bound-parameter limits
        chunk = contact_ids[start : start + 500]
        events = session.exec(
            select(ConsentEvent).where(
                ConsentEvent.purpose_id == purpose_id, col(ConsentEvent.contact_id).in_(chunk)
            )
        ).all()
        for e in events:
            entries[e.contact_id].append(
                LedgerEntry(e.seq, e.channel, e.action, e.occurred_at, e.expires_at)
            )
    return {
        cid: derive_state(entries.get(cid, []), ConsentChannel.email, now, marketing=False)
        for cid in contact_ids
    }


def feedback_withdrawn(session: Session, survey: Survey) -> dict[int, str]:
    """Invited contacts whose feedback consent no longer holds right now, with the reason."""
    if not is_contact_survey(survey):
        return {}
    purpose_id = session.exec(
        select(ConsentPurpose.id).where(ConsentPurpose.code == FEEDBACK_PURPOSE)
    ).first()
    contact_ids = [
        int(cid)
        for cid in session.exec(
            select(SurveyInvitation.contact_id).where(
                SurveyInvitation.survey_id == survey.id,
                col(SurveyInvitation.contact_id).is_not(None),
            )
        ).all()
        if cid is not None
    ]
    if purpose_id is None:
        return dict.fromkeys(contact_ids, SKIP_REASONS[ConsentState.none])
    states = feedback_states(session, purpose_id, contact_ids)
    return {
        cid: SKIP_REASONS[state] for cid, state in states.items() if state != ConsentState.granted
    }


@dataclass(frozen=True)
class ContactInvitations:
    """How many contacts were invited, and how many were left out and why."""

    invited: int
    skipped: dict[str, int]

    @property
    def skipped_total(self) -> int:
        """Everyone in the audience who was not invited."""
        return sum(self.skipped.values())


def open_contact_survey(*, session: Session, survey_id: int, actor: Actor) -> ContactInvitations:
    """Open a draft contact survey, inviting only contacts who allow feedback requests (HR)."""
    require_role(actor, Role.hr, doing="open surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    if not is_contact_survey(survey):
        raise Conflict("This survey asks employees; open it as an employee survey.")
    if survey.status != SurveyStatus.draft.value:
        raise Conflict("This survey has already been opened.")
    questions = list_questions(session=session, survey_id=survey_id)
    if not any(q.kind != QuestionKind.text.value for q in questions):
        raise ValidationError("Questions: add at least one scaled or choice question first.")
    purpose_id = session.exec(
        select(ConsentPurpose.id).where(ConsentPurpose.code == FEEDBACK_PURPOSE)
    ).first()
    if purpose_id is None:
        raise ValidationError(
            f"Consent: there is no '{FEEDBACK_PURPOSE}' purpose yet, so nobody has agreed to "
            "be asked for feedback. Ask the privacy officer to create it.",
            field="consent",
        )
    people = session.exec(
        select(Contact.id, Contact.email, Contact.kind, Organisation.name)
        .outerjoin(Organisation, col(Organisation.id) == col(Contact.organisation_id))
        .where(*_audience(survey))
        .order_by(col(Contact.id))
    ).all()
    states = feedback_states(session, purpose_id, [p[0] for p in people if p[0] is not None])
    skipped: Counter[str] = Counter()
    chosen: list[tuple[int, str, str]] = []
    for contact_id, email, kind, organisation in people:
        assert contact_id is not None
        state = states[contact_id]
        if state != ConsentState.granted:
            skipped[SKIP_REASONS[state]] += 1
        elif not (email or "").strip():
            skipped[NO_EMAIL] += 1
        else:
            # The invitation carries the same cuts the response will, for participation.
            chosen.append((contact_id, _kind(kind), (organisation or NO_ORGANISATION)[:80]))
    if not big_enough(len(chosen), survey.min_group):
        reasons = "; ".join(f"{n} {why}" for why, n in skipped.most_common())
        raise ValidationError(
            f"Audience: only {len(chosen)} contacts match and allow feedback requests; a "
            f"survey needs at least {survey.min_group}. Widen the audience."
            + (f" Left out: {reasons}." if reasons else ""),
            field="audience",
        )
    for contact_id, kind, organisation in chosen:
        session.add(
            SurveyInvitation(
                survey_id=survey_id, contact_id=contact_id, department=kind, team=organisation
            )
        )
    survey.status = SurveyStatus.open.value
    survey.version += 1
    session.add(survey)
    record(
        session=session,
        actor=actor,
        action="survey.open",
        entity="survey",
        entity_id=survey_id,
        details={"invited": len(chosen), "skipped": dict(skipped)},
    )
    session.commit()
    return ContactInvitations(len(chosen), dict(skipped))


def _kind(kind: Any) -> str:
    return str(kind.value if isinstance(kind, ContactKind) else kind)


def respondent_cuts(session: Session, contact: Contact) -> tuple[str, str, str]:
    """The groups a contact's response is reported in: kind, organisation, region."""
    organisation = (
        session.get(Organisation, contact.organisation_id) if contact.organisation_id else None
    )
    return (
        _kind(contact.kind),
        organisation.name[:80] if organisation else NO_ORGANISATION,
        (contact.region or "")[:80],
    )


@dataclass(frozen=True)
class AudienceChoices:
    """What a contact survey's audience can be filtered by."""

    tags: list[str]
    organisations: list[tuple[int, str]]


def audience_choices(*, session: Session, actor: Actor) -> AudienceChoices:
    """Tags and organisations in use, for building a contact survey's audience (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    tags = session.exec(select(ContactTag.tag).distinct().order_by(col(ContactTag.tag))).all()
    organisations = session.exec(
        select(Organisation.id, Organisation.name).order_by(col(Organisation.name))
    ).all()
    return AudienceChoices(
        list(tags), [(int(oid), name) for oid, name in organisations if oid is not None]
    )


def describe_audience(session: Session, survey: Survey) -> str:
    """The audience of a contact survey in words."""
    parts = [f"{survey.audience_contact_kind or 'all'} contacts"]
    if survey.audience_tag:
        parts.append(f"tagged {survey.audience_tag}")
    if survey.audience_organisation_id is not None:
        organisation = session.get(Organisation, survey.audience_organisation_id)
        parts.append(f"of {organisation.name if organisation else 'a removed organisation'}")
    parts.append("allowing feedback requests")
    parts.append("named answers" if not survey.anonymous else "anonymous")
    return ", ".join(parts)
