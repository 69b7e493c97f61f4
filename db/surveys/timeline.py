"""Answers to non-anonymous contact surveys on the contact's timeline.

Only a survey declared non-anonymous stores the contact beside the response; an
anonymous survey's responses carry no contact, so they can never appear here.
"""

from typing import Any

from sqlalchemy import String, and_, case, cast, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.models.people import Contact
from db.models.surveys import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from db.surveys.voice import NPS_CODE


def survey_answers_source(session: Session, contact: Contact, actor: Actor) -> Any:
    """The person's answers to named (non-anonymous) contact surveys, with their NPS score."""
    score = (
        sa_select(col(SurveyAnswer.value))
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .where(
            col(SurveyAnswer.response_id) == col(SurveyResponse.id),
            col(SurveyQuestion.code) == NPS_CODE,
        )
        .limit(1)
        .scalar_subquery()
    )
    return (
        sa_select(
            col(SurveyResponse.submitted_at).label("at"),
            literal("survey").label("source"),
            case(
                (score >= 9, "promoter"),
                (and_(score >= 7, score <= 8), "passive"),
                (score <= 6, "detractor"),
                else_="answered",
            ).label("kind"),
            cast(literal(None), String).label("channel"),
            col(Survey.title).label("title"),
            _score_detail(score).label("detail"),
            col(Survey.id).label("ref_id"),
        )
        .join(Survey, col(Survey.id) == col(SurveyResponse.survey_id))
        .where(
            col(SurveyResponse.contact_id) == contact.id,
            col(Survey.anonymous).is_(False),
            col(SurveyResponse.submitted_at).is_not(None),
        )
    )


def _score_detail(score: Any) -> Any:
    """'NPS answer: n of 10', or 'Answered' when the survey has no NPS item."""
    return case(
        (score.is_(None), literal("Answered")),
        else_=literal("NPS answer: ") + cast(score, String) + literal(" of 10"),
    )
