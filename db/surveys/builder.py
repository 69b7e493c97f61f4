"""Survey builder: templates, questions, waves, opening and closing (HR)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, NotFound, ValidationError
from db.models.auth import Role
from db.models.surveys import (
    FLOOR_MIN_GROUP,
    QuestionKind,
    Survey,
    SurveyCreate,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from db.surveys.held import flush_held_answers
from db.surveys.tallies import tally_survey

ENPS_CODE = "enps"
ENPS_TEXT = "How likely are you to recommend this organisation as a place to work?"
FACTORS = (
    "engagement",
    "leadership",
    "my manager",
    "growth",
    "recognition",
    "wellbeing",
    "workload",
    "inclusion",
    "health and safety",
)
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
SURVEY_TITLE_MAX = 160
SECTION_MAX = 80
ITEM_CODE_MAX = 40
QUESTION_TEXT_MAX = 400
CHOICE_MAX = 200
# The choices of one question, one a line.
CHOICES_TEXT_MAX = 2000
# More than any audience: a threshold above it would withhold everything anyway.
THRESHOLD_MAX = 100_000


def survey_title(title: str, *, label: str = "Title") -> str:
    """A survey title, stripped; refuses an empty or too long one."""
    text = title.strip()
    if not text:
        raise ValidationError(f"{label}: give the survey a title.", field="title")
    if len(text) > SURVEY_TITLE_MAX:
        raise ValidationError(
            f"{label}: use at most {SURVEY_TITLE_MAX} characters (this has {len(text)}).",
            field="title",
        )
    return text


@dataclass(frozen=True)
class TemplateQuestion:
    """A question of a built-in template."""

    section: str
    code: str
    text: str
    kind: QuestionKind
    factor: str | None = None
    choices: str | None = None
    required: bool = True


def _agree(section: str, code: str, factor: str, text: str) -> TemplateQuestion:
    return TemplateQuestion(section, code, text, QuestionKind.agree5, factor)


ENGAGEMENT_TEMPLATE: tuple[TemplateQuestion, ...] = (
    _agree("Engagement", "eng_proud", "engagement", "I am proud to work for this organisation."),
    _agree("Engagement", "eng_stay", "engagement", "I see myself still working here in two years."),
    _agree(
        "Engagement", "eng_motivated", "engagement", "I am motivated to go beyond what is asked."
    ),
    TemplateQuestion("Engagement", ENPS_CODE, ENPS_TEXT, QuestionKind.scale10),
    _agree(
        "Leadership", "lead_direction", "leadership", "Leaders have communicated a clear vision."
    ),
    _agree("Leadership", "lead_trust", "leadership", "I trust the decisions of senior leaders."),
    _agree("My manager", "mgr_support", "my manager", "My manager supports me when I need it."),
    _agree("My manager", "mgr_feedback", "my manager", "I get useful feedback from my manager."),
    _agree("Growth", "growth_learn", "growth", "I have opportunities to learn and grow."),
    _agree("Growth", "growth_career", "growth", "I can see a path for my career here."),
    _agree("Recognition", "recog_valued", "recognition", "I am recognised for good work."),
    _agree("Wellbeing", "well_balance", "wellbeing", "I can balance my work and personal life."),
    _agree("Workload", "work_manageable", "workload", "My workload is manageable."),
    _agree("Inclusion", "incl_belong", "inclusion", "I feel I belong here."),
    _agree("Inclusion", "incl_fair", "inclusion", "People here are treated fairly."),
    _agree("Health and safety", "hs_safe", "health and safety", "I feel safe at work."),
    TemplateQuestion(
        "Your voice",
        "comment",
        "What one thing would most improve working here?",
        QuestionKind.text,
        required=False,
    ),
)

PULSE_TEMPLATE: tuple[TemplateQuestion, ...] = (
    _agree("Pulse", "eng_proud", "engagement", "I am proud to work for this organisation."),
    _agree("Pulse", "eng_stay", "engagement", "I see myself still working here in two years."),
    TemplateQuestion("Pulse", ENPS_CODE, ENPS_TEXT, QuestionKind.scale10),
    _agree("Pulse", "mgr_support", "my manager", "My manager supports me when I need it."),
    _agree("Pulse", "work_manageable", "workload", "My workload is manageable."),
    TemplateQuestion(
        "Pulse",
        "comment",
        "Anything else you would like to tell us?",
        QuestionKind.text,
        required=False,
    ),
)

TEMPLATES: dict[str, tuple[TemplateQuestion, ...]] = {
    "engagement": ENGAGEMENT_TEMPLATE,
    "pulse": PULSE_TEMPLATE,
    "blank": (),
}


def validate_thresholds(min_group: int, comment_min: int) -> None:
    """Refuse thresholds that would expose small groups (or that no column can hold)."""
    if min_group < FLOOR_MIN_GROUP:
        raise ValidationError(
            f"Confidentiality threshold: use at least {FLOOR_MIN_GROUP}.", field="min_group"
        )
    for value, label, name in (
        (min_group, "Confidentiality threshold", "min_group"),
        (comment_min, "Comment threshold", "comment_min"),
    ):
        if value > THRESHOLD_MAX:
            raise ValidationError(f"{label}: use at most {THRESHOLD_MAX:,}.", field=name)
    if comment_min < min_group:
        raise ValidationError(
            "Comment threshold: use at least the confidentiality threshold.",
            field="comment_min",
        )


def _validate_dates(opens_on: date, closes_on: date) -> None:
    if closes_on < opens_on:
        raise ValidationError(
            "Close date: it must be on or after the open date.", field="closes_on"
        )


def get_survey(*, session: Session, survey_id: int) -> Survey:
    """The survey, or NotFound."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound("That survey does not exist.")
    return survey


def add_template_questions(
    session: Session, survey: Survey, items: tuple[TemplateQuestion, ...]
) -> None:
    """Give a new survey a template's questions, in the template's order."""
    for position, item in enumerate(items, start=1):
        session.add(
            SurveyQuestion(
                survey_id=survey.id,  # type: ignore[arg-type]
                position=position,
                section=item.section,
                code=item.code,
                text=item.text,
                kind=item.kind.value,
                factor=item.factor,
                choices=item.choices,
                required=item.required,
            )
        )


def create_survey(*, session: Session, survey_in: SurveyCreate, actor: Actor) -> Survey:
    """A new draft survey, filled from a template (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    title = survey_title(survey_in.title)
    if survey_in.template not in TEMPLATES:
        raise ValidationError(f"Template: choose one of {', '.join(TEMPLATES)}.", field="template")
    validate_thresholds(survey_in.min_group, survey_in.comment_min)
    _validate_dates(survey_in.opens_on, survey_in.closes_on)
    data = survey_in.model_dump(exclude={"template"})
    for key in ("audience_department", "audience_team", "audience_location"):
        data[key] = (data[key] or "").strip() or None
    data["title"] = title
    survey = Survey(**data)
    session.add(survey)
    session.flush()
    survey.series_id = survey.id
    add_template_questions(session, survey, TEMPLATES[survey_in.template])
    record(
        session=session,
        actor=actor,
        action="survey.create",
        entity="survey",
        entity_id=survey.id,
        details={"template": survey_in.template},
    )
    session.commit()
    return survey


def _require_draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.draft.value:
        raise Conflict("This survey is already open; its questions can no longer change.")


def check_question(
    section: str,
    code: str,
    text: str,
    kind: QuestionKind,
    factor: str | None,
    choices: list[str] | None,
    required: bool,
) -> TemplateQuestion:
    """A question as it will be stored, or ValidationError naming the field to fix."""
    code = code.strip().lower()
    if not code or not set(code) <= CODE_CHARS or len(code) > ITEM_CODE_MAX:
        raise ValidationError(
            "Item code: use lower-case letters, digits and _ (it links waves together).",
            field="code",
        )
    if not text.strip():
        raise ValidationError("Question: write the question.", field="text")
    if len(text.strip()) > QUESTION_TEXT_MAX:
        raise ValidationError(
            f"Question: use at most {QUESTION_TEXT_MAX} characters.", field="text"
        )
    if len(section.strip()) > SECTION_MAX:
        raise ValidationError(f"Section: use at most {SECTION_MAX} characters.", field="section")
    scaled = kind in (QuestionKind.agree5, QuestionKind.scale10)
    if kind == QuestionKind.agree5 and factor not in FACTORS:
        raise ValidationError(f"Factor: choose one of {', '.join(FACTORS)}.", field="factor")
    clean_choices = [c.strip() for c in (choices or []) if c.strip()]
    if kind == QuestionKind.choice and len(clean_choices) < 2:
        raise ValidationError("Choices: give at least two, one per line.", field="choices")
    if any(len(c) > CHOICE_MAX for c in clean_choices):
        raise ValidationError(
            f"Choices: each choice may have at most {CHOICE_MAX} characters.", field="choices"
        )
    if len("\n".join(clean_choices)) > CHOICES_TEXT_MAX:
        raise ValidationError(
            f"Choices: use at most {CHOICES_TEXT_MAX} characters in all.", field="choices"
        )
    if scaled and not required:
        # Every respondent answers every scaled item, so an item's count always
        # equals its group's count and skipped items cannot shrink a group.
        raise ValidationError("Required: scaled questions must be required.", field="required")
    return TemplateQuestion(
        section.strip() or "Questions",
        code,
        text.strip(),
        kind,
        factor if kind == QuestionKind.agree5 else None,
        "\n".join(clean_choices) if kind == QuestionKind.choice else None,
        required,
    )


def add_question(
    *,
    session: Session,
    survey_id: int,
    section: str,
    code: str,
    text: str,
    kind: QuestionKind,
    factor: str | None,
    choices: list[str] | None,
    required: bool,
    actor: Actor,
) -> SurveyQuestion:
    """Append a question to a draft survey (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    _require_draft(survey)
    checked = check_question(section, code, text, kind, factor, choices, required)
    code = checked.code
    taken = session.exec(
        select(SurveyQuestion.id).where(
            SurveyQuestion.survey_id == survey_id, SurveyQuestion.code == code
        )
    ).first()
    if taken is not None:
        raise Conflict(f"Item code: {code} is already used in this survey.")
    last = session.exec(
        select(func.max(SurveyQuestion.position)).where(SurveyQuestion.survey_id == survey_id)
    ).one()
    question = SurveyQuestion(
        survey_id=survey_id,
        position=(last or 0) + 1,
        section=checked.section,
        code=code,
        text=checked.text,
        kind=checked.kind.value,
        factor=checked.factor,
        choices=checked.choices,
        required=checked.required,
    )
    session.add(question)
    record(
        session=session,
        actor=actor,
        action="survey.question.add",
        entity="survey",
        entity_id=survey_id,
        details={"code": code},
    )
    session.commit()
    return question


def remove_question(*, session: Session, question_id: int, actor: Actor) -> None:
    """Take a question out of a draft survey (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    question = session.get(SurveyQuestion, question_id)
    if question is None:
        raise NotFound("That question does not exist.")
    _require_draft(get_survey(session=session, survey_id=question.survey_id))
    session.delete(question)
    record(
        session=session,
        actor=actor,
        action="survey.question.remove",
        entity="survey",
        entity_id=question.survey_id,
        details={"code": question.code},
    )
    session.commit()


def list_questions(*, session: Session, survey_id: int) -> list[SurveyQuestion]:
    """The survey's questions in order (the questionnaire is not confidential)."""
    query = (
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list(session.exec(query).all())


def list_surveys(*, session: Session, actor: Actor) -> list[Survey]:
    """Every survey, newest first (HR and managers see the list)."""
    require_role(actor, Role.hr, Role.manager, doing="see surveys")
    return list(session.exec(select(Survey).order_by(col(Survey.id).desc())).all())


def copy_to_new_wave(
    *, session: Session, survey_id: int, title: str, opens_on: date, closes_on: date, actor: Actor
) -> Survey:
    """A new draft with the same questions and item codes, in the same series (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    source = get_survey(session=session, survey_id=survey_id)
    title = survey_title(title, label="Title of the new wave")
    _validate_dates(opens_on, closes_on)
    series = source.series_id or source.id
    last_wave = session.exec(select(func.max(Survey.wave)).where(Survey.series_id == series)).one()
    wave = Survey(
        title=title,
        audience_department=source.audience_department,
        audience_team=source.audience_team,
        audience_location=source.audience_location,
        opens_on=opens_on,
        closes_on=closes_on,
        min_group=source.min_group,
        comment_min=source.comment_min,
        audience_kind=source.audience_kind,
        audience_contact_kind=source.audience_contact_kind,
        audience_tag=source.audience_tag,
        audience_organisation_id=source.audience_organisation_id,
        anonymous=source.anonymous,
        series_id=series,
        wave=(last_wave or 1) + 1,
        copied_from_id=source.id,
    )
    session.add(wave)
    session.flush()
    for question in list_questions(session=session, survey_id=survey_id):
        data = question.model_dump(exclude={"id", "survey_id"})
        session.add(SurveyQuestion(survey_id=wave.id, **data))  # type: ignore[arg-type]
    record(
        session=session,
        actor=actor,
        action="survey.copy",
        entity="survey",
        entity_id=wave.id,
        details={"from": survey_id},
    )
    session.commit()
    return wave


def close_survey(*, session: Session, survey_id: int, actor: Actor) -> Survey:
    """Stop accepting answers (HR)."""
    require_role(actor, Role.hr, doing="close surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    if survey.status != SurveyStatus.open.value:
        raise Conflict("Only an open survey can be closed.")
    # Answers still held for their batch are written first, so the tallies count them.
    flush_held_answers(session=session, survey_id=survey_id)
    survey.status = SurveyStatus.closed.value
    survey.version += 1
    session.add(survey)
    session.flush()
    tally_survey(session=session, survey=survey)
    record(
        session=session, actor=actor, action="survey.close", entity="survey", entity_id=survey_id
    )
    session.commit()
    return survey


def delete_draft(*, session: Session, survey_id: int, actor: Actor) -> str:
    """Delete a draft survey that was never opened, with its questions; returns its title (HR).

    Only a draft can go: once opened, a survey has invitations and perhaps answers.
    """
    require_role(actor, Role.hr, doing="build surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    if survey.status != SurveyStatus.draft.value:
        raise Conflict(
            f"“{survey.title}” has been opened, so it is kept; only drafts can be deleted."
        )
    title = survey.title
    for question in list_questions(session=session, survey_id=survey_id):
        session.delete(question)
    session.flush()
    session.delete(survey)
    record(
        session=session,
        actor=actor,
        action="survey.delete",
        entity="survey",
        entity_id=survey_id,
        details={"title": title},
    )
    session.commit()
    return title


def has_answers(session: Session, survey_id: int) -> bool:
    """True once anyone has answered (a spent link counts, even before its answers are written)."""
    spent = session.exec(
        select(SurveyInvitation.id).where(
            SurveyInvitation.survey_id == survey_id, col(SurveyInvitation.answered).is_(True)
        )
    ).first()
    written = session.exec(
        select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id)
    ).first()
    return spent is not None or written is not None


def edit_question(
    *, session: Session, question_id: int, text: str, section: str, actor: Actor
) -> SurveyQuestion:
    """Reword a question or move it to another section until the first answer arrives (HR).

    Its kind, code and choices stay: the code links waves, and the link mails already
    sent promise the same questionnaire. Once anyone has answered, the wording is fixed,
    so that every answer was given to the same question.
    """
    require_role(actor, Role.hr, doing="build surveys")
    question = session.get(SurveyQuestion, question_id)
    if question is None:
        raise NotFound("That question does not exist.")
    survey = get_survey(session=session, survey_id=question.survey_id)
    if survey.status == SurveyStatus.closed.value or has_answers(session, question.survey_id):
        raise Conflict(
            "Someone has already answered this survey, so its questions can no longer change."
        )
    wording = text.strip()
    if not wording:
        raise ValidationError("Question: write the question.", field="text")
    if len(wording) > QUESTION_TEXT_MAX:
        raise ValidationError(
            f"Question: use at most {QUESTION_TEXT_MAX} characters.", field="text"
        )
    if len(section.strip()) > SECTION_MAX:
        raise ValidationError(f"Section: use at most {SECTION_MAX} characters.", field="section")
    question.text = wording
    question.section = section.strip() or question.section
    session.add(question)
    record(
        session=session,
        actor=actor,
        action="survey.question.edit",
        entity="survey",
        entity_id=question.survey_id,
        details={"code": question.code},
    )
    session.commit()
    return question
