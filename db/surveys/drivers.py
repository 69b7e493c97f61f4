"""Drivers people can act on: the driver matrix, strengths and focus areas, and the
heatmap compared with the company and with the previous wave.

Impact is Pearson's r between an item's answers (1-5) and each respondent's engagement
outcome index (the mean of their answers to the engagement items), across the
respondents of the group on screen. Pearson's r because it is what engagement tools
report as impact, because it reads on one scale from -1 to 1 for every item, and because
it is computed from sums (n, Σx, Σy, Σxy, Σx², Σy²) that add up over teams: the tallies
of a closed survey hold them per team, so a department's or the company's r comes from
the released figures without reading any answer again. A rank correlation would need
every answer of the group at once. Below `IMPACT_MIN_RESPONSES` respondents an r is
mostly noise (its standard error is about 1/√n), so none is estimated.

Score is the item's % favourable. The matrix splits at the median impact of the
group's items and at the company's % favourable over the same items: high impact and
a low score is where to focus. Every figure comes from a group that the small-group
rule (db.surveys.privacy, db.core.small_groups) shows; a hidden group shows no figure,
no driver and no comparison, and a comparison needs both of its sides shown.
"""

import statistics
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from db.auth.actor import Actor
from db.models.surveys import Survey
from db.surveys.builder import get_survey
from db.surveys.privacy import ORG_KEY, Group
from db.surveys.reports import (
    WHILE_OPEN,
    GroupResult,
    Scope,
    driver_impacts,
    group_result,
    heatmap_results,
    report_scope,
    results_released,
    scope_group,
    survey_questions,
)
from db.surveys.tallies import ENGAGEMENT_FACTOR

# Respondents needed before impact is estimated: at 30 the standard error of r is
# about 0.18, small enough to tell a strong driver from a weak one.
IMPACT_MIN_RESPONSES = 30
TOO_FEW = "too few responses to estimate impact (fewer than {m})"
NO_SPREAD = "everyone answered alike, so impact cannot be estimated"
NO_OUTCOME = "this survey has no engagement items to measure impact against"

FOCUS = "Focus here"  # high impact, score below the company's
STRENGTH = "Strength"  # high impact, score at or above the company's
MAINTAIN = "Maintain"  # lower impact, score at or above the company's
MONITOR = "Monitor"  # lower impact, score below the company's
QUADRANTS = (FOCUS, STRENGTH, MONITOR, MAINTAIN)
TOP = 3

NO_PREVIOUS = "this survey was not copied from an earlier wave"
PREVIOUS_OPEN = "the previous wave has not closed"
PREVIOUS_MISSING = "not asked in the previous wave"
PREVIOUS_HIDDEN = "previous wave: {reason}"
COMPANY_HIDDEN = "company: {reason}"


@dataclass(frozen=True)
class Driver:
    """One item on the matrix: its impact on engagement and its score."""

    code: str
    question: str
    factor: str
    n: int
    impact: float | None
    favourable: float | None
    quadrant: str = ""
    note: str = ""


@dataclass(frozen=True)
class DriverMatrix:
    """The drivers of one group, where the split lines lie, and what to keep and fix."""

    group: Group
    drivers: list[Driver] = field(default_factory=list)
    median_impact: float | None = None
    company_favourable: float | None = None
    strengths: list[Driver] = field(default_factory=list)
    focus_areas: list[Driver] = field(default_factory=list)
    # Why there is no matrix (empty when there is one).
    note: str = ""


def pooled_favourable(result: GroupResult, codes: set[str]) -> float | None:
    """% favourable over the answers to `codes` in `result` (each answer counts once)."""
    rows = [i for i in result.items if i["code"] in codes and i["favourable"] is not None]
    answers = sum(int(i["n"]) for i in rows)  # type: ignore[call-overload]
    if not answers:
        return None
    favourable = sum(float(i["favourable"]) * int(i["n"]) for i in rows)  # type: ignore[arg-type,call-overload]
    return round(favourable / answers, 1)


def quadrant(impact: float, favourable: float, median_impact: float, company: float) -> str:
    """Which quadrant an item falls in: ties count as high (on or above the line)."""
    if impact >= median_impact:
        return STRENGTH if favourable >= company else FOCUS
    return MAINTAIN if favourable >= company else MONITOR


def driver_matrix(
    *, session: Session, survey_id: int, group_key: str, actor: Actor
) -> DriverMatrix:
    """The driver matrix of a group this actor may see, or only why there is none."""
    scope = report_scope(session, survey_id, actor)
    group = scope_group(scope, group_key)
    k = scope.survey.min_group
    if not scope.final:
        return DriverMatrix(group, note=WHILE_OPEN.format(k=k))
    if not group.shown:
        return DriverMatrix(group, note=group.reason)
    questions = survey_questions(session, survey_id)
    if not any(q.factor == ENGAGEMENT_FACTOR for q in questions):
        return DriverMatrix(group, note=NO_OUTCOME)
    if group.n < IMPACT_MIN_RESPONSES:
        return DriverMatrix(group, note=TOO_FEW.format(m=IMPACT_MIN_RESPONSES))
    impacts = {str(r["code"]): r for r in driver_impacts(session, scope, group)}
    scores = {str(i["code"]): i for i in group_result(session, scope, group).items}
    company = group_result(session, scope, _whole(scope))
    split = pooled_favourable(company, set(impacts))
    found: list[Driver] = []
    for code, row in impacts.items():
        item = scores.get(code, {})
        n = int(row["n"])
        impact = row["impact"] if n >= IMPACT_MIN_RESPONSES else None
        note = (
            TOO_FEW.format(m=IMPACT_MIN_RESPONSES)
            if n < IMPACT_MIN_RESPONSES
            else NO_SPREAD
            if impact is None
            else ""
        )
        found.append(
            Driver(
                code=code,
                question=str(row["question"]),
                factor=str(item.get("factor") or ""),
                n=n,
                impact=impact,
                favourable=item.get("favourable"),  # type: ignore[arg-type]
                note=note,
            )
        )
    placed = [d for d in found if d.impact is not None and d.favourable is not None]
    if not placed or split is None:
        return DriverMatrix(group, found, note=TOO_FEW.format(m=IMPACT_MIN_RESPONSES))
    median = round(statistics.median(d.impact for d in placed if d.impact is not None), 3)
    drivers = [
        replace(d, quadrant=quadrant(d.impact, d.favourable, median, split))
        if d.impact is not None and d.favourable is not None
        else d
        for d in found
    ]
    drivers.sort(key=lambda d: (-(d.impact if d.impact is not None else -2.0), d.code))
    strengths = sorted(
        (d for d in drivers if d.quadrant == STRENGTH),
        key=lambda d: (-(d.favourable or 0.0), -(d.impact or 0.0)),
    )[:TOP]
    focus = sorted(
        (d for d in drivers if d.quadrant == FOCUS),
        key=lambda d: (d.favourable or 0.0, -(d.impact or 0.0)),
    )[:TOP]
    return DriverMatrix(group, drivers, median, split, strengths, focus)


def _whole(scope: Scope) -> Group:
    """The whole survey's group: the benchmark, shown only where the rule shows it."""
    return next(g for g in scope.groups if g.key == ORG_KEY)


def previous_wave(session: Session, survey: Survey) -> Survey | None:
    """The survey this wave was copied from ("Copy to a new wave"), if it still exists."""
    if survey.copied_from_id is None:
        return None
    return session.get(Survey, survey.copied_from_id)


def _factor_scores(result: GroupResult) -> dict[str, float | None]:
    return {str(f["factor"]): f["favourable"] for f in result.factors}  # type: ignore[misc]


def _difference(now: Any, before: Any) -> float | None:
    return None if now is None or before is None else round(float(now) - float(before), 1)


def compared_heatmap(*, session: Session, survey_id: int, actor: Actor) -> list[dict[str, object]]:
    """The heatmap with, per cell, ± points against the company and the previous wave.

    A difference is shown only when both of its figures are shown under the small-group
    rule, each in its own wave's tree; otherwise it is blank beside the reason. So a
    difference never gives away a figure the rule withholds (a group's earlier score
    that was hidden as a cover would otherwise come back as now − difference).
    """
    scope = report_scope(session, survey_id, actor)
    rows = heatmap_results(session, scope, actor)
    if not rows:
        return []
    whole = _whole(scope)
    company = _factor_scores(group_result(session, scope, whole))
    before = previous_wave(session, get_survey(session=session, survey_id=survey_id))
    earlier_scope = (
        report_scope(session, before.id, actor)
        if before is not None and before.id is not None and results_released(before)
        else None
    )
    cells: list[dict[str, object]] = []
    for result in rows:
        group = result.group
        if not group.shown:
            cells.append(_cell(group, None, None, None, None, group.reason))
            continue
        then: dict[str, float | None] = {}
        why_not_then = NO_PREVIOUS if before is None else PREVIOUS_OPEN
        if earlier_scope is not None:
            past = next((g for g in earlier_scope.visible if g.key == group.key), None)
            if past is None:
                why_not_then = PREVIOUS_MISSING
            elif not past.shown:
                why_not_then = PREVIOUS_HIDDEN.format(reason=past.reason)
            else:
                then = _factor_scores(group_result(session, earlier_scope, past))
                why_not_then = PREVIOUS_MISSING
        for factor, score in _factor_scores(result).items():
            vs_company = _difference(score, company.get(factor)) if whole.shown else None
            vs_then = _difference(score, then.get(factor))
            notes = [
                "" if whole.shown else COMPANY_HIDDEN.format(reason=whole.reason),
                "" if vs_then is not None else why_not_then,
            ]
            cells.append(
                _cell(group, factor, score, vs_company, vs_then, "; ".join(n for n in notes if n))
            )
    return cells


def _cell(
    group: Group,
    factor: str | None,
    favourable: float | None,
    vs_company: float | None,
    vs_previous: float | None,
    note: str,
) -> dict[str, object]:
    return {
        "group": group.label,
        "factor": factor,
        "favourable": favourable,
        "vs company": vs_company,
        "vs previous wave": vs_previous,
        "note": note,
    }
