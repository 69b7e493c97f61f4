"""Releases and tallies: what reports may show, stored as snapshots.

A release is the respondent count per (department, team) that reports show
(`survey_release`). While a survey is open only counts are released, and a leaf's
count moves only once it has gained the threshold's worth of new answers
(`release_step`); item results are shown only once the survey has closed, when every
answer is released and summed into `survey_tally` once. Reports read the tallies
instead of scanning every answer (years of waves stay fast). A command that adds an
answer to a closed survey (`import_response`) re-sums only the leaves whose release
moves, so a closed survey's results too change only by `k` answers or more at once.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from db.core.small_groups import release_step
from db.models.surveys import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyRelease,
    SurveyResponse,
    SurveyStatus,
    SurveyTally,
)

Leaf = tuple[str, str]

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


def live_counts(session: Session, survey_id: int) -> dict[Leaf, int]:
    """Respondents per (department, team) as stored now: never shown as such."""
    rows = session.execute(
        sa_select(col(SurveyResponse.department), col(SurveyResponse.team), func.count())
        .where(col(SurveyResponse.survey_id) == survey_id)
        .group_by(col(SurveyResponse.department), col(SurveyResponse.team))
    ).all()
    return {(d, t): int(n) for d, t, n in rows}


def _downloaded_answers(session: Session, survey_id: int) -> dict[Leaf, int]:
    """Answered invitations whose link HR downloaded, per (department, team)."""
    rows = session.execute(
        sa_select(col(SurveyInvitation.department), col(SurveyInvitation.team), func.count())
        .where(
            col(SurveyInvitation.survey_id) == survey_id,
            col(SurveyInvitation.answered).is_(True),
            col(SurveyInvitation.link_downloaded).is_(True),
        )
        .group_by(col(SurveyInvitation.department), col(SurveyInvitation.team))
    ).all()
    return {(d, t): int(n) for d, t, n in rows}


@dataclass(frozen=True)
class Release:
    """One leaf's released figures."""

    responses: int
    through_download: int
    at_close: int = 0


def released(session: Session, survey_id: int) -> dict[Leaf, Release]:
    """The released figures per (department, team): what reports count from."""
    rows = session.execute(
        sa_select(
            col(SurveyRelease.department),
            col(SurveyRelease.team),
            col(SurveyRelease.responses),
            col(SurveyRelease.through_download),
            col(SurveyRelease.at_close),
        ).where(col(SurveyRelease.survey_id) == survey_id)
    ).all()
    return {(d, t): Release(int(n), int(dl), int(c)) for d, t, n, dl, c in rows}


def release(session: Session, survey: Survey, *, final: bool = False) -> set[Leaf]:
    """Move each leaf whose count gained `k` or more (every leaf when `final`); no commit.

    Returns the leaves that moved. The update carries its own condition, so two views
    releasing at once cannot move a leaf by less than `k` between them.
    """
    assert survey.id is not None
    survey_id = survey.id
    k = survey.min_group
    before = released(session, survey_id)
    current = live_counts(session, survey_id)
    target = (
        current
        if final
        else release_step({leaf: r.responses for leaf, r in before.items()}, current, k)
    )
    if not final and all(
        before.get(leaf, Release(0, 0)).responses == n for leaf, n in target.items()
    ):
        return set()  # nothing moves: most views end here, after two small reads
    downloaded = _downloaded_answers(session, survey_id)
    table = SurveyRelease.__table__  # type: ignore[attr-defined]
    moved: set[Leaf] = set()
    for leaf, n in target.items():
        old = before.get(leaf)
        through = min(downloaded.get(leaf, 0), n)
        if (
            old is not None
            and old.responses == n
            and (not final or (old.through_download, old.at_close) == (through, n))
        ):
            continue
        values = {"responses": n, "through_download": through}
        if final:
            values["at_close"] = n
        department, team = leaf
        if old is None:
            try:
                with session.begin_nested():
                    session.execute(
                        insert(table).values(
                            survey_id=survey_id, department=department, team=team, **values
                        )
                    )
                moved.add(leaf)
                continue
            except IntegrityError:
                pass  # another view released this leaf first: move it only by the rule below
        guard = [] if final else [table.c.responses <= n - k]
        changed = session.execute(
            update(table)
            .where(
                table.c.survey_id == survey_id,
                table.c.department == department,
                table.c.team == team,
                *guard,
            )
            .values(**values)
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            moved.add(leaf)
    return moved


def current_release(session: Session, survey: Survey) -> dict[Leaf, Release]:
    """Release what an open survey may show now, commit, and return the released figures."""
    assert survey.id is not None
    if survey.status == SurveyStatus.open.value and release(session, survey):
        session.commit()
    return released(session, survey.id)


def tally_survey(*, session: Session, survey: Survey) -> int:
    """Release a closing survey's answers and sum them into tallies (the caller commits).

    The first call (at close) releases and sums every leaf. Later calls (an answer
    imported into the closed survey) re-sum only the leaves whose release moved by
    the threshold or more; returns the tally rows written.
    """
    if survey.tallied:
        leaves = release(session, survey)
        if not leaves:
            return 0
    else:
        release(session, survey, final=True)
        leaves = None
    return _sum_into_tallies(session, survey, leaves)


def _sum_into_tallies(session: Session, survey: Survey, leaves: set[Leaf] | None) -> int:
    """Recompute the tallies of `leaves` (all when None) from the answers."""
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
    doomed = delete(table).where(table.c.survey_id == survey_id)
    if leaves is not None:
        doomed = doomed.where(
            or_(*(and_(table.c.department == d, table.c.team == t) for d, t in leaves))
        )
    session.execute(doomed)
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
        if leaves is None or (department, team) in leaves
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
