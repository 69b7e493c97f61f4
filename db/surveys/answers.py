"""Answering through a personal link (public: no account, nobody is looked up by name).

Submission marks the invitation answered with one conditional UPDATE, so two
submissions racing on one link cannot both succeed; the response is written in the
same transaction without any reference to the invitation. Used links stay (as
hashes) only so that a second visit can be told the link was already used.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import update
from sqlmodel import Session, col

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import DomainError, ValidationError
from db.core.limits import PublicForm, check_allowance, note_submission
from db.core.types import utcnow
from db.models.auth import Role
from db.models.people import Contact
from db.models.surveys import (
    Employee,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyLink,
    SurveyQuestion,
    SurveyResponse,
)
from db.surveys.builder import accepts_answers, list_questions
from db.surveys.distribution import hash_token
from db.surveys.employees import tenure_band
from db.surveys.tallies import tally_survey
from db.surveys.voice import respondent_cuts

MAX_TEXT = 4000
# The code at the end of an invitation link, as pasted.
TOKEN_MAX = 200
UNKNOWN_LINK = (
    "This link is not recognised. Check that you copied the whole link from your email; "
    "if it still fails, ask HR for a new one."
)
USED_LINK = "This link has already been used: thank you, your answers are in. Each link works once."


class LinkProblem(DomainError):
    """The link cannot be used (unknown, used or closed); the message says which."""


@dataclass(frozen=True)
class Questionnaire:
    """What the answering page shows."""

    survey_id: int
    title: str
    closes_on: date
    min_group: int
    questions: list[SurveyQuestion]


def _find(session: Session, token: str) -> tuple[SurveyInvitation, Survey]:
    token = (token or "").strip()
    if not token or len(token) > TOKEN_MAX:
        raise LinkProblem(UNKNOWN_LINK)
    link = session.get(SurveyLink, hash_token(token))
    invitation = session.get(SurveyInvitation, link.invitation_id) if link else None
    if invitation is None:
        raise LinkProblem(UNKNOWN_LINK)
    if invitation.answered:
        raise LinkProblem(USED_LINK)
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    if not accepts_answers(survey, date.today()):
        if date.today() < survey.opens_on:
            raise LinkProblem(f"This survey opens on {survey.opens_on:%d %B %Y}; come back then.")
        raise LinkProblem("This survey is closed and no longer takes answers. Thank you anyway.")
    return invitation, survey


def open_link(*, session: Session, token: str) -> Questionnaire:
    """The questionnaire behind a link, or LinkProblem saying why it cannot be used."""
    _invitation, survey = _find(session, token)
    assert survey.id is not None
    return Questionnaire(
        survey_id=survey.id,
        title=survey.title,
        closes_on=survey.closes_on,
        min_group=survey.min_group,
        questions=list_questions(session=session, survey_id=survey.id),
    )


def validate_answers(
    questions: list[SurveyQuestion], answers: dict[int, int | str | None]
) -> dict[int, int | str]:
    """Check every answer against its question; name the first question to fix."""
    clean: dict[int, int | str] = {}
    for number, question in enumerate(questions, start=1):
        assert question.id is not None
        value = answers.get(question.id)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            if question.required:
                raise ValidationError(
                    f"Question {number}: please answer “{question.text}”.", field=str(question.id)
                )
            continue
        kind = QuestionKind(question.kind)
        if kind in (QuestionKind.agree5, QuestionKind.scale10):
            low, high = (1, 5) if kind == QuestionKind.agree5 else (0, 10)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValidationError(
                    f"Question {number}: choose a value from {low} to {high}.",
                    field=str(question.id),
                )
        elif kind == QuestionKind.choice:
            options = (question.choices or "").split("\n")
            if value not in options:
                raise ValidationError(
                    f"Question {number}: choose one of the options.", field=str(question.id)
                )
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValidationError(
                f"Question {number}: keep your comment under {MAX_TEXT} characters.",
                field=str(question.id),
            )
        clean[question.id] = value
    return clean


def submit_answers(
    *,
    session: Session,
    token: str,
    answers: dict[int, int | str | None],
    visitor: str | None = None,
) -> None:
    """Store one anonymous response for a link; the link cannot be used again.

    `visitor` (the public page's browser session) puts it under the public forms' rate
    limits.
    """
    if visitor is not None:
        check_allowance(session=session, form=PublicForm.survey_answer, visitor=visitor)
    invitation, survey = _find(session, token)
    questions = list_questions(session=session, survey_id=invitation.survey_id)
    clean = validate_answers(questions, answers)
    _claim_and_store(session, survey, invitation, questions, clean, date.today())
    if visitor is not None:
        note_submission(session=session, form=PublicForm.survey_answer, visitor=visitor)
    # The audit entry names the survey only: not the link, invitation or response.
    record(
        session=session, actor=None, action="survey.answer", entity="survey", entity_id=survey.id
    )
    session.commit()


def import_response(
    *,
    session: Session,
    invitation_id: int,
    answers: dict[int, int | str | None],
    submitted_on: date,
    actor: Actor,
) -> None:
    """Load a response gathered outside Rapport (a paper or earlier wave) for an invitation (HR)."""
    require_role(actor, Role.hr, doing="import survey responses")
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None:
        raise LinkProblem(UNKNOWN_LINK)
    questions = list_questions(session=session, survey_id=invitation.survey_id)
    clean = validate_answers(questions, answers)
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    _claim_and_store(session, survey, invitation, questions, clean, submitted_on)
    if survey.tallied:
        # A closed survey's tallies stand for its answers: recompute them with this one.
        session.flush()
        tally_survey(session=session, survey=survey)
    session.commit()


def _respondent(
    session: Session, survey: Survey, invitation: SurveyInvitation, on: date
) -> dict[str, object]:
    """The columns a response keeps about who answered: cuts only, unless named."""
    if invitation.contact_id is not None:
        contact = session.get(Contact, invitation.contact_id)
        assert contact is not None
        kind, organisation, region = respondent_cuts(session, contact)
        named = not survey.anonymous
        return {
            "department": kind,
            "team": organisation,
            "location": region,
            "tenure_band": "",
            # Only a survey declared non-anonymous ties the answer to the contact.
            "contact_id": contact.id if named else None,
            # An imported (earlier) answer is placed at noon of its day.
            "submitted_at": (
                None
                if not named
                else utcnow()
                if on >= utcnow().date()
                else datetime.combine(on, time(12), tzinfo=UTC)
            ),
        }
    employee = session.get(Employee, invitation.employee_id)
    assert employee is not None
    return {
        "department": employee.department,
        "team": employee.team,
        "location": employee.location,
        "tenure_band": tenure_band(employee.start_date, on),
    }


def _claim_and_store(
    session: Session,
    survey: Survey,
    invitation: SurveyInvitation,
    questions: list[SurveyQuestion],
    clean: dict[int, int | str],
    on: date,
) -> None:
    who = _respondent(session, survey, invitation, on)
    claimed = session.execute(
        update(SurveyInvitation)
        .where(col(SurveyInvitation.id) == invitation.id, col(SurveyInvitation.answered).is_(False))
        .values(answered=True)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise LinkProblem(USED_LINK)
    response = SurveyResponse(
        id=secrets.token_hex(16),
        survey_id=invitation.survey_id,
        submitted_on=on,
        **who,  # type: ignore[arg-type]
    )
    session.add(response)
    session.flush()  # the answers' foreign key needs the response row first
    text_kinds = (QuestionKind.text.value, QuestionKind.choice.value)
    kinds = {q.id: q.kind for q in questions}
    for question_id, value in clean.items():
        is_text = kinds[question_id] in text_kinds
        session.add(
            SurveyAnswer(
                response_id=response.id,
                question_id=question_id,
                value=None if is_text else int(value),
                text=str(value) if is_text else None,
            )
        )


def questions_by_section(questions: list[SurveyQuestion]) -> list[tuple[str, list[SurveyQuestion]]]:
    """Questions grouped into their sections, in order."""
    sections: list[tuple[str, list[SurveyQuestion]]] = []
    for question in questions:
        if not sections or sections[-1][0] != question.section:
            sections.append((question.section, []))
        sections[-1][1].append(question)
    return sections
