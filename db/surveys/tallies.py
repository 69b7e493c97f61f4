"""Tallies of closed surveys: every report's sums, computed once when the survey closes.

A closed survey takes no more answers, so its sums per (department, team) and question
do not change; reports read them instead of scanning every answer (years of waves
stay fast). The commands that change a closed survey's answers (`import_response`)
recompute them; an open survey is always reported from its answers.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import case, delete, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.models.surveys import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    SurveyTally,
)

SCALED = (QuestionKind.agree5.value, QuestionKind.scale10.value)

ENGAGEMENT_FACTOR = "engagement"


def uses_tallies(survey: Survey) -> bool:
    """True when reports may read the survey's tallies instead of its answers."""
    return survey.status == SurveyStatus.closed.value and survey.tallied


def _blank() -> dict[str, Any]:
    return {
        "n": 0,
        "favourable": 0,
        "neutral": 0,
        "unfavourable": 0,
        "promoters": 0,
        "detractors": 0,
        "total": 0,
        "d_n": 0,
        "d_sx": 0.0,
        "d_sy": 0.0,
        "d_sxy": 0.0,
        "d_sxx": 0.0,
        "d_syy": 0.0,
    }


def tally_survey(*, session: Session, survey: Survey) -> int:
    """Recompute the survey's tallies from its answers (the caller commits); returns rows."""
    assert survey.id is not None
    survey_id = survey.id
    rows: dict[tuple[str, str, int, str], dict[str, Any]] = defaultdict(_blank)
    value = col(SurveyAnswer.value)
    leaf = (col(SurveyResponse.department), col(SurveyResponse.team))
    scaled = (
        sa_select(
            *leaf,
            col(SurveyAnswer.question_id),
            func.count(value),
            func.sum(case((value >= 4, 1), else_=0)),
            func.sum(case((value == 3, 1), else_=0)),
            func.sum(case((value <= 2, 1), else_=0)),
            func.sum(case((value >= 9, 1), else_=0)),
            func.sum(case((value <= 6, 1), else_=0)),
            func.coalesce(func.sum(value), 0),
        )
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(col(SurveyResponse.survey_id) == survey_id, value.is_not(None))
        .group_by(*leaf, col(SurveyAnswer.question_id))
    )
    for department, team, qid, n, fav, neu, unf, pro, det, total in session.execute(scaled):
        rows[(department, team, int(qid), "")].update(
            n=int(n),
            favourable=int(fav or 0),
            neutral=int(neu or 0),
            unfavourable=int(unf or 0),
            promoters=int(pro or 0),
            detractors=int(det or 0),
            total=int(total or 0),
        )
    for department, team, qid, n, sx, sy, sxy, sxx, syy in session.execute(_driver_sums(survey_id)):
        rows[(department, team, int(qid), "")].update(
            d_n=int(n),
            d_sx=float(sx),
            d_sy=float(sy),
            d_sxy=float(sxy),
            d_sxx=float(sxx),
            d_syy=float(syy),
        )
    choices = (
        sa_select(*leaf, col(SurveyAnswer.question_id), col(SurveyAnswer.text), func.count())
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .where(
            col(SurveyResponse.survey_id) == survey_id,
            col(SurveyQuestion.kind) == QuestionKind.choice.value,
            col(SurveyAnswer.text).is_not(None),
        )
        .group_by(*leaf, col(SurveyAnswer.question_id), col(SurveyAnswer.text))
    )
    for department, team, qid, option, n in session.execute(choices):
        rows[(department, team, int(qid), str(option)[:200])]["n"] = int(n)
    table = SurveyTally.__table__  # type: ignore[attr-defined]
    session.execute(delete(table).where(table.c.survey_id == survey_id))
    records = [
        {
            "survey_id": survey_id,
            "department": department,
            "team": team,
            "question_id": qid,
            "option": option,
            **sums,
        }
        for (department, team, qid, option), sums in rows.items()
    ]
    for start in range(0, len(records), 5000):
        session.execute(insert(table), records[start : start + 5000])
    survey.tallied = True
    session.add(survey)
    return len(records)


def engagement_per_response(survey_id: int, *conditions: Any) -> Any:
    """Subquery: each response's mean engagement answer (`rid`, `eng`)."""
    return (
        sa_select(
            col(SurveyAnswer.response_id).label("rid"),
            func.avg(col(SurveyAnswer.value) * 1.0).label("eng"),
        )
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(
            col(SurveyResponse.survey_id) == survey_id,
            col(SurveyQuestion.factor) == ENGAGEMENT_FACTOR,
            *conditions,
        )
        .group_by(col(SurveyAnswer.response_id))
        .subquery()
    )


def _driver_sums(survey_id: int) -> Any:
    """Per leaf and non-engagement item: sums for Pearson's r against engagement."""
    engaged = engagement_per_response(survey_id)
    x = col(SurveyAnswer.value) * 1.0
    y = engaged.c.eng
    return (
        sa_select(
            col(SurveyResponse.department),
            col(SurveyResponse.team),
            col(SurveyAnswer.question_id),
            func.count(),
            func.sum(x),
            func.sum(y),
            func.sum(x * y),
            func.sum(x * x),
            func.sum(y * y),
        )
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .join(engaged, engaged.c.rid == col(SurveyAnswer.response_id))
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(
            col(SurveyQuestion.survey_id) == survey_id,
            col(SurveyQuestion.kind) == QuestionKind.agree5.value,
            col(SurveyQuestion.factor) != ENGAGEMENT_FACTOR,
        )
        .group_by(
            col(SurveyResponse.department),
            col(SurveyResponse.team),
            col(SurveyAnswer.question_id),
        )
    )


def tally_conditions(department: str | None, team: str | None) -> list[Any]:
    """Conditions limiting tally rows to one group of the report tree."""
    conditions: list[Any] = []
    if department is not None:
        conditions.append(col(SurveyTally.department) == department)
    if team is not None:
        conditions.append(col(SurveyTally.team) == team)
    return conditions
