"""Single-choice results: how many picked each option, under the same thresholds.

A single-choice question may be optional, so fewer people can answer it than are in a
group. Each question therefore gets its own suppressed tree over the counts of people
who answered it; a distribution is shown only where the group is shown in the
survey's tree and in the question's tree. A group shown in the question's tree holds
at least `k` answers, so hiding it as well keeps every hidden remainder (a parent minus
its shown children) either empty or at least `k` answers.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.core.small_groups import SMALL
from db.models.surveys import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyTally,
)
from db.surveys.privacy import build_tree
from db.surveys.reports import WHILE_OPEN, percent, report_scope, scope_group, survey_questions
from db.surveys.tallies import uses_tallies


@dataclass
class ChoiceResult:
    """One single-choice question in one group: the count and share of each option."""

    code: str
    question: str
    answered: int | None
    shown: bool
    note: str = ""
    options: list[dict[str, object]] = field(default_factory=list)


def choice_counts(
    session: Session, survey: Survey
) -> dict[int, dict[tuple[str, str], dict[str, int]]]:
    """Per choice question, per (department, team): how many picked each option (SQL)."""
    assert survey.id is not None
    survey_id = survey.id
    query = (
        sa_select(
            col(SurveyAnswer.question_id),
            col(SurveyResponse.department),
            col(SurveyResponse.team),
            col(SurveyAnswer.text),
            func.count(),
        )
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .where(
            col(SurveyResponse.survey_id) == survey_id,
            col(SurveyQuestion.kind) == QuestionKind.choice.value,
            col(SurveyAnswer.text).is_not(None),
        )
        .group_by(
            col(SurveyAnswer.question_id),
            col(SurveyResponse.department),
            col(SurveyResponse.team),
            col(SurveyAnswer.text),
        )
    )
    if uses_tallies(survey):
        query = (
            sa_select(
                col(SurveyTally.question_id),
                col(SurveyTally.department),
                col(SurveyTally.team),
                col(SurveyTally.option),
                col(SurveyTally.n),
            )
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyTally.question_id))
            .where(
                col(SurveyTally.survey_id) == survey_id,
                col(SurveyQuestion.kind) == QuestionKind.choice.value,
                col(SurveyTally.option) != "",
            )
        )
    counts: dict[int, dict[tuple[str, str], dict[str, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for question_id, department, team, option, n in session.execute(query).all():
        counts[int(question_id)][(department, team)][option] = int(n)
    return counts


def _in_group(leaf: tuple[str, str], department: str | None, team: str | None) -> bool:
    return (department is None or leaf[0] == department) and (team is None or leaf[1] == team)


def choice_results(
    *, session: Session, survey_id: int, group_key: str, actor: Actor
) -> list[ChoiceResult]:
    """Each single-choice question's distribution in one group, where it may be shown."""
    scope = report_scope(session, survey_id, actor)
    group = scope_group(scope, group_key)
    k = scope.survey.min_group
    questions = [
        q for q in survey_questions(session, survey_id) if q.kind == QuestionKind.choice.value
    ]
    if not questions:
        return []
    counts = choice_counts(session, scope.survey) if group.shown and scope.final else {}
    results: list[ChoiceResult] = []
    for question in questions:
        options = (question.choices or "").split("\n")
        if not group.shown:
            results.append(ChoiceResult(question.code, question.text, None, False, group.reason))
            continue
        if not scope.final:
            note = WHILE_OPEN.format(k=k)
            results.append(ChoiceResult(question.code, question.text, None, False, note))
            continue
        by_leaf = counts.get(question.id or 0, {})
        answered_tree = {
            g.key: g
            for g in build_tree({leaf: sum(picks.values()) for leaf, picks in by_leaf.items()}, k)
        }
        mine = answered_tree.get(group.key)
        if mine is None or not mine.shown:
            note = mine.reason if mine is not None else SMALL.format(k=k)
            results.append(
                ChoiceResult(question.code, question.text, None, False, f"answers {note}")
            )
            continue
        totals: dict[str, int] = defaultdict(int)
        for leaf, picks in by_leaf.items():
            if _in_group(leaf, group.department, group.team):
                for option, n in picks.items():
                    totals[option] += n
        answered = sum(totals.values())
        results.append(
            ChoiceResult(
                question.code,
                question.text,
                answered,
                True,
                options=[
                    {
                        "option": option,
                        "count": totals.get(option, 0),
                        "percent": percent(totals.get(option, 0), answered),
                    }
                    for option in options
                ],
            )
        )
    return results


def choice_rows(results: list[ChoiceResult]) -> list[dict[str, object]]:
    """The shown distributions as flat rows, for a chart or a CSV download."""
    return [
        {"code": r.code, "question": r.question, **option}
        for r in results
        if r.shown
        for option in r.options
    ]
