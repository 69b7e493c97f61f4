"""The question library: the built-in templates' questions plus those HR adds (HR).

A library question keeps its item code, so every survey that takes it reports under the
same code and its results trend across surveys and waves.
"""

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, NotFound
from db.models.auth import Role
from db.models.survey_library import SurveyLibraryQuestion
from db.models.surveys import QuestionKind, SurveyQuestion
from db.surveys.builder import TEMPLATES, TemplateQuestion, add_question, check_question


def add_to_library(
    *,
    session: Session,
    section: str,
    code: str,
    text: str,
    kind: QuestionKind,
    factor: str | None,
    choices: list[str] | None,
    required: bool,
    actor: Actor,
) -> TemplateQuestion:
    """Keep a question in the library for later surveys (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    checked = check_question(section, code, text, kind, factor, choices, required)
    if (
        checked.code in {q.code for q in _built_in()}
        or session.exec(
            select(SurveyLibraryQuestion.id).where(SurveyLibraryQuestion.code == checked.code)
        ).first()
    ):
        raise Conflict(f"Item code: {checked.code} is already in the library.")
    session.add(
        SurveyLibraryQuestion(
            code=checked.code,
            section=checked.section,
            text=checked.text,
            kind=checked.kind.value,
            factor=checked.factor,
            choices=checked.choices,
            required=checked.required,
            created_by=actor.id,
        )
    )
    record(
        session=session,
        actor=actor,
        action="survey.library.add",
        entity="survey_library_question",
        entity_id=None,
        details={"code": checked.code},
    )
    session.commit()
    return checked


def _built_in() -> list[TemplateQuestion]:
    seen: dict[str, TemplateQuestion] = {}
    for questions in TEMPLATES.values():
        for question in questions:
            seen.setdefault(question.code, question)
    return list(seen.values())


def library(*, session: Session, actor: Actor) -> list[TemplateQuestion]:
    """Every question HR can add: the templates' ones, then those added, by code (HR)."""
    require_role(actor, Role.hr, doing="build surveys")
    added = session.exec(
        select(SurveyLibraryQuestion).order_by(col(SurveyLibraryQuestion.code))
    ).all()
    return _built_in() + [
        TemplateQuestion(
            q.section, q.code, q.text, QuestionKind(q.kind), q.factor, q.choices, q.required
        )
        for q in added
    ]


def add_from_library(
    *, session: Session, survey_id: int, code: str, actor: Actor
) -> SurveyQuestion:
    """Add a library question to a draft survey, under its own item code (HR)."""
    found = next((q for q in library(session=session, actor=actor) if q.code == code), None)
    if found is None:
        raise NotFound(f"There is no question {code} in the library.")
    return add_question(
        session=session,
        survey_id=survey_id,
        section=found.section,
        code=found.code,
        text=found.text,
        kind=found.kind,
        factor=found.factor,
        choices=(found.choices or "").split("\n") if found.choices else None,
        required=found.required,
        actor=actor,
    )
