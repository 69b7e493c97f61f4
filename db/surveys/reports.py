"""Survey results, aggregated in SQL, with the confidentiality rules applied here.

Every reader goes through `report_scope`, which builds the suppressed group tree from the
released respondent counts (`db.surveys.tallies.release`) and keeps only the groups this
actor may see: HR every group, a manager the groups of their own team. Nothing is
returned for a hidden group except its label and why. While a survey is open only
participation is shown, in releases; scores, eNPS, heatmap, drivers, comments and
choices appear once it has closed, so no two views of them differ by one person.
"""

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.core.errors import Forbidden
from db.models.auth import Role
from db.models.surveys import (
    AudienceKind,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
    SurveyTally,
)
from db.surveys.builder import ENPS_CODE, get_survey
from db.surveys.privacy import ORG_KEY, Group, build_tree, keep_hidden, visible_to_team
from db.surveys.tallies import (
    ENGAGEMENT_FACTOR,
    current_release,
    engagement_per_response,
    live_counts,
    tally_conditions,
    uses_tallies,
)

# The employee eNPS item and the customer NPS item are scored the same way.
NPS_CODES = (ENPS_CODE, "nps")
WHILE_OPEN = (
    "results are shown once the survey closes; until then only participation, "
    "in steps of {k} or more answers"
)


def results_released(survey: Survey) -> bool:
    """True once the survey is closed: only then are item results, comments and eNPS shown."""
    return survey.status == SurveyStatus.closed.value


@dataclass
class Tally:
    """Counts of answers to scaled items: enough for every score we report."""

    n: int = 0
    favourable: int = 0
    neutral: int = 0
    unfavourable: int = 0
    promoters: int = 0
    detractors: int = 0
    total: int = 0

    def add(self, other: "Tally") -> None:
        """Add another tally's counts to this one."""
        for name in (
            "n",
            "favourable",
            "neutral",
            "unfavourable",
            "promoters",
            "detractors",
            "total",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def percent(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, one decimal; None when there is no whole."""
    return round(100.0 * part / whole, 1) if whole else None


def agreement_scores(t: Tally) -> dict[str, float | None]:
    """% favourable (4-5), neutral (3), unfavourable (1-2) and the mean."""
    return {
        "favourable": percent(t.favourable, t.n),
        "neutral": percent(t.neutral, t.n),
        "unfavourable": percent(t.unfavourable, t.n),
        "mean": round(t.total / t.n, 2) if t.n else None,
    }


def enps(t: Tally) -> float | None:
    """% promoters (9-10) minus % detractors (0-6), in points."""
    return round(100.0 * (t.promoters - t.detractors) / t.n, 1) if t.n else None


@dataclass(frozen=True)
class Scope:
    """The survey, every group of the tree, and those this actor may see."""

    survey: Survey
    groups: list[Group]
    visible: list[Group]
    # Answers through links HR downloaded, per (department, team), once closed.
    through_download: dict[tuple[str, str], int] = field(default_factory=dict)
    # Respondents per (department, team) when the survey closed (empty before).
    at_close: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        """True when item results may be shown (the survey is closed)."""
        return results_released(self.survey)


def cache_key(*, waves: list[Survey], viewer: Actor) -> tuple[object, ...] | None:
    """The key a report over these waves may be cached under for this viewer, or None.

    Only reports of closed, tallied surveys are cacheable: their figures change only
    with the survey's version. What a viewer may see depends on their roles and team
    (HR sees every group, a manager their team), so both are in the key: two viewers
    who may see different groups never share an entry.
    """
    if not waves or not all(uses_tallies(w) for w in waves):
        return None
    return (
        tuple((w.id, w.version) for w in waves),
        getattr(viewer, "id", None),
        tuple(sorted(str(r) for r in getattr(viewer, "roles", ()))),
        getattr(viewer, "team", None),
    )


def _members(group: Group) -> list[Any]:
    conditions: list[Any] = []
    if group.department is not None:
        conditions.append(col(SurveyResponse.department) == group.department)
    if group.team is not None:
        conditions.append(col(SurveyResponse.team) == group.team)
    return conditions


def report_scope(session: Session, survey_id: int, actor: Actor) -> Scope:
    require_role(actor, Role.hr, Role.manager, doing="see survey results")
    survey = get_survey(session=session, survey_id=survey_id)
    through: dict[tuple[str, str], int] = {}
    at_close: dict[tuple[str, str], int] = {}
    if survey.status == SurveyStatus.closed.value and not survey.tallied:
        # Closed before releases existed and never summed: its answers are final.
        counts = live_counts(session, survey_id)
    else:
        # Never live counts: what this view shows is what the last release holds.
        releases = current_release(session, survey)
        counts = {leaf: r.responses for leaf, r in releases.items() if r.responses}
        through = {leaf: r.through_download for leaf, r in releases.items()}
        if survey.status == SurveyStatus.closed.value:
            at_close = {leaf: r.at_close for leaf, r in releases.items() if r.at_close}
    groups = _tree(counts, at_close, survey.min_group)
    if actor.has_any({Role.hr}) or survey.audience_kind == AudienceKind.contacts.value:
        # Contact surveys are cut by contact kind and organisation, not by staff team.
        visible = groups
    else:
        team = getattr(actor, "team", None)
        visible = visible_to_team(groups, team) if team else []
    return Scope(survey, groups, visible, through, at_close)


def _tree(
    counts: dict[tuple[str, str], int], at_close: dict[tuple[str, str], int], k: int
) -> list[Group]:
    """The suppressed tree; after answers added since the close, what was hidden stays so."""
    groups = build_tree(counts, k)
    if at_close and at_close != counts:
        groups = keep_hidden(groups, build_tree(at_close, k))
    return groups


def scope_group(scope: Scope, key: str) -> Group:
    for group in scope.visible:
        if group.key == key:
            return group
    raise Forbidden("You can only see results for your own team.")


def groups(*, session: Session, survey_id: int, actor: Actor) -> list[Group]:
    """The groups this actor may look at, each marked shown or hidden."""
    return report_scope(session, survey_id, actor).visible


def participation(*, session: Session, survey_id: int, actor: Actor) -> list[dict[str, object]]:
    """Invited and answered per visible group; counts only for shown groups."""
    scope = report_scope(session, survey_id, actor)
    invited_rows = session.exec(
        select(SurveyInvitation.department, SurveyInvitation.team, func.count())
        .where(SurveyInvitation.survey_id == survey_id)
        .group_by(col(SurveyInvitation.department), col(SurveyInvitation.team))
    ).all()
    invited: dict[str, int] = defaultdict(int)
    for department, team, n in invited_rows:
        invited[ORG_KEY] += int(n)
        invited[f"d:{department}"] += int(n)
        invited[f"d:{department}/t:{team}"] += int(n)
    downloaded: dict[str, int] = defaultdict(int)
    for (department, team), n in scope.through_download.items():
        downloaded[ORG_KEY] += n
        downloaded[f"d:{department}"] += n
        downloaded[f"d:{department}/t:{team}"] += n
    result = []
    for group in scope.visible:
        base = invited.get(group.key, 0)
        result.append(
            {
                "group": group.label,
                "level": group.level,
                "department": group.department,
                "invited": base,
                "responses": group.n if group.shown else None,
                "rate": percent(group.n, base) if group.shown and base else None,
                # Answers HR could have given itself: shown beside the total once closed,
                # so that a group pushed over the threshold this way can be told.
                "through a link HR downloaded": (
                    min(downloaded.get(group.key, 0), group.n)
                    if group.shown and scope.final
                    else None
                ),
                "note": group.reason
                or ("" if scope.final else WHILE_OPEN.format(k=scope.survey.min_group)),
            }
        )
    return result


def _leaf_tallies(session: Session, survey: Survey, group: Group) -> dict[int, Tally]:
    """Per question: counts over the group's respondents, aggregated in SQL."""
    assert survey.id is not None
    survey_id = survey.id
    if uses_tallies(survey):
        summed = (
            sa_select(
                col(SurveyTally.question_id),
                *(
                    func.sum(getattr(SurveyTally, name))
                    for name in (
                        "n",
                        "favourable",
                        "neutral",
                        "unfavourable",
                        "promoters",
                        "detractors",
                        "total",
                    )
                ),
            )
            .where(
                col(SurveyTally.survey_id) == survey_id,
                col(SurveyTally.option) == "",
                *tally_conditions(group.department, group.team),
            )
            .group_by(col(SurveyTally.question_id))
        )
        return {
            int(qid): Tally(*(int(v or 0) for v in values))
            for qid, *values in session.execute(summed).all()
        }
    value = col(SurveyAnswer.value)
    query = (
        sa_select(
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
        .where(col(SurveyResponse.survey_id) == survey_id, value.is_not(None), *_members(group))
        .group_by(col(SurveyAnswer.question_id))
    )
    return {
        qid: Tally(
            int(n), int(f or 0), int(ne or 0), int(u or 0), int(p or 0), int(d or 0), int(t or 0)
        )
        for qid, n, f, ne, u, p, d, t in session.execute(query).all()
    }


@dataclass
class GroupResult:
    """Scores of one shown group (or only why it is hidden)."""

    group: Group
    items: list[dict[str, object]] = field(default_factory=list)
    factors: list[dict[str, object]] = field(default_factory=list)
    engagement_index: float | None = None
    enps: float | None = None


def survey_questions(session: Session, survey_id: int) -> list[SurveyQuestion]:
    query = (
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list(session.exec(query).all())


def _result(session: Session, survey: Survey, group: Group) -> GroupResult:
    result = GroupResult(group)
    if not group.shown or not results_released(survey):
        return result
    assert survey.id is not None
    tallies = _leaf_tallies(session, survey, group)
    by_factor: dict[str, Tally] = defaultdict(Tally)
    for question in survey_questions(session, survey.id):
        tally = tallies.get(question.id or 0, Tally())
        if question.kind == QuestionKind.agree5.value:
            by_factor[question.factor or "other"].add(tally)
            result.items.append(
                {
                    "code": question.code,
                    "question": question.text,
                    "factor": question.factor,
                    "n": tally.n,
                    **agreement_scores(tally),
                }
            )
        elif question.kind == QuestionKind.scale10.value and question.code in NPS_CODES:
            result.enps = enps(tally)
    for factor, tally in by_factor.items():
        result.factors.append({"factor": factor, "n_answers": tally.n, **agreement_scores(tally)})
    if ENGAGEMENT_FACTOR in by_factor:
        result.engagement_index = agreement_scores(by_factor[ENGAGEMENT_FACTOR])["favourable"]
    return result


def results(*, session: Session, survey_id: int, group_key: str, actor: Actor) -> GroupResult:
    """Items, factors, engagement index and eNPS of one group, if it may be shown."""
    scope = report_scope(session, survey_id, actor)
    return _result(session, scope.survey, scope_group(scope, group_key))


def group_result(session: Session, scope: Scope, group: Group) -> GroupResult:
    """The scores of a group of `scope` (nothing but the group when hidden or still open).

    For reports that compare a visible group with one the viewer may not pick, such as
    the whole survey as a benchmark beside a manager's team: the caller decides that.
    """
    return _result(session, scope.survey, group)


def heatmap_results(session: Session, scope: Scope, actor: Actor) -> list[GroupResult]:
    """The heatmap's rows: departments for HR, teams for managers; empty while open."""
    if not scope.final:
        return []
    wanted = [g for g in scope.visible if g.level == (1 if actor.has_any({Role.hr}) else 2)]
    return [_result(session, scope.survey, group) for group in wanted]


def heatmap(*, session: Session, survey_id: int, actor: Actor) -> list[dict[str, object]]:
    """% favourable per factor × department (or × team for managers); hidden cells marked."""
    scope = report_scope(session, survey_id, actor)
    cells: list[dict[str, object]] = []
    for result in heatmap_results(session, scope, actor):
        group = result.group
        if not group.shown:
            cells.append(
                {"group": group.label, "factor": None, "favourable": None, "note": group.reason}
            )
            continue
        for row in result.factors:
            cells.append(
                {
                    "group": group.label,
                    "factor": row["factor"],
                    "favourable": row["favourable"],
                    "note": "",
                }
            )
    return cells


def trend(
    *, session: Session, survey_id: int, group_key: str, actor: Actor
) -> list[dict[str, object]]:
    """% favourable per item code in every wave of this survey's series, where shown."""
    require_role(actor, Role.hr, Role.manager, doing="see survey results")
    survey = get_survey(session=session, survey_id=survey_id)
    waves = session.exec(
        select(Survey).where(Survey.series_id == survey.series_id).order_by(col(Survey.wave))
    ).all()
    rows: list[dict[str, object]] = []
    for wave in waves:
        assert wave.id is not None
        if not results_released(wave):
            continue
        scope = report_scope(session, wave.id, actor)
        group = next((g for g in scope.visible if g.key == group_key), None)
        if group is None or not group.shown:
            continue
        result = _result(session, wave, group)
        for item in result.items:
            rows.append(
                {
                    "wave": wave.wave,
                    "title": wave.title,
                    "code": item["code"],
                    "favourable": item["favourable"],
                    "n": item["n"],
                }
            )
        if result.engagement_index is not None:
            rows.append(
                {
                    "wave": wave.wave,
                    "title": wave.title,
                    "code": "engagement index",
                    "favourable": result.engagement_index,
                    "n": group.n,
                }
            )
    return rows


def pearson(n: int, sx: float, sy: float, sxy: float, sxx: float, syy: float) -> float | None:
    """Pearson's r from sums; None when either variable does not vary."""
    cov = n * sxy - sx * sy
    var = (n * sxx - sx * sx) * (n * syy - sy * sy)
    if n < 2 or var <= 0:
        return None
    return round(cov / math.sqrt(var), 3)


def drivers(
    *, session: Session, survey_id: int, group_key: str, actor: Actor
) -> list[dict[str, object]]:
    """Each non-engagement item's correlation with the engagement index, with n and score."""
    scope = report_scope(session, survey_id, actor)
    return driver_impacts(session, scope, scope_group(scope, group_key))


def driver_impacts(session: Session, scope: Scope, group: Group) -> list[dict[str, Any]]:
    """Per non-engagement item of a shown group: Pearson's r with engagement, n and score.

    `n` counts the respondents who answered both the item and the engagement items.
    """
    if not group.shown or not scope.final:
        return []
    survey_id = scope.survey.id or 0
    query = (
        _tallied_driver_sums(survey_id, group)
        if uses_tallies(scope.survey)
        else _driver_sums(survey_id, group)
    )
    rows: list[dict[str, Any]] = []
    for code, text, n, sx, sy, sxy, sxx, syy, fav in session.execute(query).all():
        r = pearson(int(n), float(sx), float(sy), float(sxy), float(sxx), float(syy))
        rows.append(
            {
                "code": code,
                "question": text,
                "n": int(n),
                "impact": r,
                "favourable": percent(int(fav), int(n)),
            }
        )
    rows.sort(key=_driver_order)
    return rows


def _tallied_driver_sums(survey_id: int, group: Group) -> Any:
    return (
        sa_select(
            col(SurveyQuestion.code),
            col(SurveyQuestion.text),
            func.sum(col(SurveyTally.d_n)),
            func.sum(col(SurveyTally.d_sx)),
            func.sum(col(SurveyTally.d_sy)),
            func.sum(col(SurveyTally.d_sxy)),
            func.sum(col(SurveyTally.d_sxx)),
            func.sum(col(SurveyTally.d_syy)),
            func.sum(col(SurveyTally.favourable)),
        )
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyTally.question_id))
        .where(
            col(SurveyTally.survey_id) == survey_id,
            col(SurveyTally.option) == "",
            col(SurveyQuestion.kind) == QuestionKind.agree5.value,
            col(SurveyQuestion.factor) != ENGAGEMENT_FACTOR,
            col(SurveyTally.d_n) > 0,
            *tally_conditions(group.department, group.team),
        )
        .group_by(col(SurveyQuestion.code), col(SurveyQuestion.text))
    )


def _driver_sums(survey_id: int, group: Group) -> Any:
    engaged = engagement_per_response(survey_id, *_members(group))
    x = col(SurveyAnswer.value) * 1.0
    y = engaged.c.eng
    return (
        sa_select(
            col(SurveyQuestion.code),
            col(SurveyQuestion.text),
            func.count(),
            func.sum(x),
            func.sum(y),
            func.sum(x * y),
            func.sum(x * x),
            func.sum(y * y),
            func.sum(case((col(SurveyAnswer.value) >= 4, 1), else_=0)),
        )
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .join(engaged, engaged.c.rid == col(SurveyAnswer.response_id))
        .where(
            col(SurveyQuestion.survey_id) == survey_id,
            col(SurveyQuestion.kind) == QuestionKind.agree5.value,
            col(SurveyQuestion.factor) != ENGAGEMENT_FACTOR,
        )
        .group_by(col(SurveyQuestion.code), col(SurveyQuestion.text))
    )


def _driver_order(row: dict[str, Any]) -> tuple[float, float]:
    return (-(row["impact"] if row["impact"] is not None else -2.0), row["favourable"] or 0.0)


def comments(*, session: Session, survey_id: int, group_key: str, actor: Actor) -> list[str]:
    """Free-text answers of a group at or above the comment threshold, shuffled, undated."""
    scope = report_scope(session, survey_id, actor)
    group = scope_group(scope, group_key)
    counts = {(g.department or "", g.team or ""): g.n for g in scope.groups if g.level == 2}
    # The comment threshold gets its own tree, so subtraction cannot isolate a small
    # group's comments either.
    comment_tree = {g.key: g for g in _tree(counts, scope.at_close, scope.survey.comment_min)}
    if not group.shown or not comment_tree[group.key].shown or not scope.final:
        return []
    if uses_tallies(scope.survey) and _unreleased_answers(session, survey_id, counts, group):
        # Comments are read from the answers, not from the tallies: while an answer added
        # after the close is not yet released, the group's comments wait for it.
        return []
    query = (
        select(SurveyAnswer.text)
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(
            SurveyResponse.survey_id == survey_id,
            SurveyQuestion.kind == QuestionKind.text.value,
            col(SurveyAnswer.text).is_not(None),
            *_members(group),
        )
    )
    found = [t for t in session.exec(query).all() if t]
    secrets.SystemRandom().shuffle(found)
    return found


def _unreleased_answers(
    session: Session, survey_id: int, released: dict[tuple[str, str], int], group: Group
) -> bool:
    """True when a leaf of the group holds answers its last release does not count."""
    return any(
        n != released.get(leaf, 0)
        for leaf, n in live_counts(session, survey_id).items()
        if (group.department is None or leaf[0] == group.department)
        and (group.team is None or leaf[1] == group.team)
    )
