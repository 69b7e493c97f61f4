"""People and outcomes: each team's engagement index beside its customers' outcomes.

Engagement comes only from the survey reports (`db.surveys.reports`), as the viewer: a
team the confidentiality threshold hides, or that the viewer may not see, never
appears. Customer outcomes are team aggregates over the survey wave's period.
Another area adds an outcome by appending a function to `OUTCOME_SOURCES`:
`(session, teams, start, end, together) -> {team: {outcome label: value or None}}`, one
query for all teams (`together`: one figure for all of them, under COMPANY); customer NPS
from named customer surveys is the first.
"""

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.cases.insights import cases_data_version
from db.core.report_cache import cached
from db.experience.customer_feedback import CUSTOMER_NPS, teams_nps_outcome
from db.experience.moments import teams_moment_counts
from db.experience.responsiveness import (
    interactions_data_version,
    teams_median_response_hours,
)
from db.experience.scope import COMPANY, team_key
from db.models.auth import Role, User
from db.models.people import Contact, Direction, Interaction
from db.models.pipeline import Deal, DealStatus, Stage
from db.models.surveys import AudienceKind, Survey, SurveyResponse, SurveyStatus
from db.pipeline.forecast import pipeline_data_version
from db.pipeline.metrics import win_rate
from db.surveys.builder import get_survey
from db.surveys.reports import groups, results

OutcomeSource = Callable[
    [Session, Sequence[str], datetime, datetime, bool], dict[str, dict[str, float | None]]
]
OUTCOME_SOURCES: list[OutcomeSource] = [teams_nps_outcome]

WIN_RATE = "win rate (%)"
PIPELINE = "weighted pipeline per person (GBP)"
RESPONSE = "median hours to answer"
NEGATIVE = "negative moments per 100 interactions"
CONCERNS = "service concerns"
OUTCOMES = (WIN_RATE, PIPELINE, RESPONSE, NEGATIVE, CONCERNS)
FIRST_WAVE_DAYS = 120  # the period a first wave is compared with


@dataclass
class TeamOutcomes:
    """One team in one survey wave: engagement and the customer figures beside it."""

    team: str
    survey_id: int
    wave: int
    title: str
    start: date
    end: date
    respondents: int
    engagement_index: float | None
    outcomes: dict[str, float | None] = field(default_factory=dict)


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def wave_period(session: Session, survey: Survey) -> tuple[date, date]:
    """The days a wave speaks for: after the previous wave closed, up to this one's close."""
    previous = None
    if survey.series_id is not None:
        previous = session.exec(
            select(Survey)
            .where(Survey.series_id == survey.series_id, Survey.wave < survey.wave)
            .order_by(col(Survey.wave).desc())
        ).first()
    start = (
        previous.closes_on + timedelta(days=1)
        if previous
        else survey.closes_on - timedelta(days=FIRST_WAVE_DAYS)
    )
    return start, survey.closes_on


def _by_team(rows: Any) -> dict[str, Any]:
    return {str(team): value for team, value in rows}


def _win_rates(
    session: Session, names: list[str], start: datetime, end: datetime, together: bool
) -> dict[str, float | None]:
    """Won ÷ (won + lost) of each team's deals closed in [start, end), in percent."""
    team = team_key(together)
    closed: dict[str, dict[str, int]] = {}
    for name, status, n in session.execute(
        sa_select(team, col(Deal.status), func.count())
        .select_from(Deal)
        .join(User, col(User.id) == col(Deal.owner_id))
        .where(
            col(User.team).in_(names),
            # Won or lost (the only closed states, and the only two a rate counts), so the
            # period's closed deals are read from (status, closed_at), not every deal of
            # every member.
            col(Deal.status).in_([DealStatus.won.value, DealStatus.lost.value]),
            col(Deal.closed_at) >= start,
            col(Deal.closed_at) < end,
        )
        .group_by(team, col(Deal.status))
    ).all():
        closed.setdefault(str(name), {})[str(status)] = int(n)
    rates: dict[str, float | None] = {}
    for name in _groups(names, together):
        ends = closed.get(name, {})
        rate = win_rate(ends.get(DealStatus.won.value, 0), ends.get(DealStatus.lost.value, 0))
        rates[name] = float(rate * 100) if rate is not None else None
    return rates


def _pipeline_per_person(
    session: Session, names: list[str], start: datetime, end: datetime, together: bool
) -> dict[str, float | None]:
    """Each team's weighted GBP pipeline of deals created in [start, end), per member."""
    probability = func.coalesce(col(Deal.probability_override), col(Stage.probability))
    weight = case(
        (col(Deal.status) == DealStatus.won.value, 100.0),
        (col(Deal.status) == DealStatus.open.value, probability * 1.0),
        else_=0.0,
    )
    team = team_key(together)
    weighted = _by_team(
        session.execute(
            sa_select(team, func.sum(col(Deal.amount) * weight / 100.0))
            .select_from(Deal)
            # `+ 0`: the period's deals are read by creation time and their owner looked up,
            # instead of SQLite walking every member's deals through the owner index.
            .join(User, col(User.id) == col(Deal.owner_id) + 0)
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(
                col(User.team).in_(names),
                col(Deal.currency) == "GBP",
                col(Deal.created_at) >= start,
                col(Deal.created_at) < end,
            )
            .group_by(team)
        ).all()
    )
    people = _by_team(
        session.execute(
            sa_select(team, func.count()).where(col(User.team).in_(names)).group_by(team)
        ).all()
    )
    return {
        name: round(float(Decimal(str(weighted.get(name) or 0))) / people[name], 2)
        if people.get(name)
        else None
        for name in _groups(names, together)
    }


def _interaction_counts(
    session: Session, names: list[str], start: datetime, end: datetime, together: bool
) -> dict[str, int]:
    """Interactions with each team's customers in [start, end).

    Started from the period's interactions by time (ix_interaction_direction_time, both
    directions), counted per person, and only then each person's owner looked up: not
    every member's every customer searched for the period."""
    per_person = (
        sa_select(col(Interaction.contact_id).label("contact_id"), func.count().label("n"))
        .where(
            col(Interaction.direction).in_([d.value for d in Direction]),
            col(Interaction.occurred_at) >= start,
            col(Interaction.occurred_at) < end,
        )
        .group_by(col(Interaction.contact_id))
        .subquery()
    )
    team = team_key(together)
    return {
        name: int(n)
        for name, n in _by_team(
            session.execute(
                sa_select(team, func.sum(per_person.c.n))
                .select_from(per_person)
                .join(Contact, col(Contact.id) == per_person.c.contact_id)
                .join(User, col(User.id) == col(Contact.owner_id))
                .where(col(User.team).in_(names))
                .group_by(team)
            ).all()
        ).items()
    }


def _groups(names: list[str], together: bool) -> list[str]:
    return [COMPANY] if together else names


def teams_outcomes(
    *, session: Session, teams: Sequence[str], since: date, until: date, together: bool = False
) -> dict[str, dict[str, float | None]]:
    """Each team's customer outcomes over [since, until]: aggregates and counts only;
    `together`, the same figures of all these teams' customers as one, under COMPANY
    (service concerns there are the average per team, so that they compare with one).

    Every figure is one query grouped by team, so the cost does not grow with the
    number of teams shown."""
    if not teams:
        return {}
    start, end = _start(since), _start(until) + timedelta(days=1)
    names = list(teams)
    rates = _win_rates(session, names, start, end, together)
    pipeline = _pipeline_per_person(session, names, start, end, together)
    interactions = _interaction_counts(session, names, start, end, together)
    moments = teams_moment_counts(
        session=session, teams=names, start=start, end=end, together=together
    )
    response = teams_median_response_hours(
        session=session, teams=names, start=start, end=end, together=together
    )
    extra = [source(session, names, start, end, together) for source in OUTCOME_SOURCES]
    per = len(names) if together else 1
    figures: dict[str, dict[str, float | None]] = {}
    for team in _groups(names, together):
        negative, counted = sum(moments.get(team, {}).values()), interactions.get(team, 0)
        concerns = moments.get(team, {}).get("service concern", 0)
        figures[team] = {
            WIN_RATE: rates[team],
            PIPELINE: pipeline[team],
            RESPONSE: response[team],
            NEGATIVE: round(100.0 * negative / counted, 1) if counted else None,
            CONCERNS: float(concerns) if per == 1 else round(concerns / per, 1),
        }
        for found in extra:
            figures[team].update(found.get(team, {}))
    return figures


def outcomes_data_version(*, session: Session) -> str:
    """A fingerprint of everything the team outcomes read: deals and their history,
    interactions, contacts and teams, cases and named survey answers. Each figure is an
    index lookup or a small table."""
    response = SurveyResponse.__table__  # type: ignore[attr-defined]
    figures = [
        *pipeline_data_version(session=session),
        interactions_data_version(session=session),
        cases_data_version(session=session),
        session.execute(sa_select(func.count(response.c.contact_id))).scalar_one(),
    ]
    return ":".join(str(f or 0) for f in figures)


def stored_teams_outcomes(
    *, session: Session, teams: Sequence[str], since: date, until: date, together: bool = False
) -> dict[str, dict[str, float | None]]:
    """teams_outcomes, stored until any of the data it reads changes (a wave's period is
    in the past, so its figures are computed once and read back on every visit)."""
    names = sorted(set(teams))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]

    def compute() -> list[tuple[str, list[tuple[str, float | None]]]]:
        found = teams_outcomes(
            session=session, teams=names, since=since, until=until, together=together
        )
        return [(team, list(found[team].items())) for team in found]

    stored = cached(
        session=session,
        key=f"team-outcomes:{since}:{until}:{digest}{':together' if together else ''}",
        version=outcomes_data_version(session=session),
        compute=compute,
    )
    return {team: dict(figures) for team, figures in stored}


def closed_surveys(*, session: Session, actor: Actor) -> list[Survey]:
    """Closed employee surveys, latest first (the waves engagement can be read from)."""
    require_role(actor, Role.hr, Role.manager, doing="see people and outcomes")
    return list(
        session.exec(
            select(Survey)
            .where(
                Survey.status == SurveyStatus.closed.value,
                Survey.audience_kind == AudienceKind.employees.value,
            )
            .order_by(col(Survey.closes_on).desc(), col(Survey.id).desc())
        ).all()
    )


def _user_teams(session: Session) -> set[str]:
    rows = session.exec(select(User.team).where(col(User.team).is_not(None))).all()
    return {t for t in rows if t}


def people_and_outcomes(*, session: Session, survey_id: int, actor: Actor) -> list[TeamOutcomes]:
    """Teams shown in this survey to this viewer, with engagement and customer outcomes."""
    require_role(actor, Role.hr, Role.manager, doing="see people and outcomes")
    survey = get_survey(session=session, survey_id=survey_id)
    since, until = wave_period(session, survey)
    teams = _user_teams(session)
    shown: list[tuple[str, int, float | None]] = []
    for group in groups(session=session, survey_id=survey_id, actor=actor):
        # A team is read only when the threshold lets its group be shown; a team name
        # cut in two departments is taken once, from the first shown group.
        if group.level != 2 or not group.shown or group.team not in teams:
            continue
        if any(team == group.team for team, _, _ in shown):
            continue
        assert group.team is not None
        result = results(session=session, survey_id=survey_id, group_key=group.key, actor=actor)
        shown.append((group.team, group.n, result.engagement_index))
    outcomes = stored_teams_outcomes(
        session=session, teams=[team for team, _, _ in shown], since=since, until=until
    )
    return [
        TeamOutcomes(
            team=team,
            survey_id=survey_id,
            wave=survey.wave,
            title=survey.title,
            start=since,
            end=until,
            respondents=n,
            engagement_index=engagement,
            outcomes=outcomes[team],
        )
        for team, n, engagement in shown
    ]


def company_outcomes(*, session: Session, survey_id: int, actor: Actor) -> dict[str, float | None]:
    """The customer figures of every team in the company taken as one, over the wave's
    period: what one team's figures are read against."""
    require_role(actor, Role.hr, Role.manager, doing="see people and outcomes")
    survey = get_survey(session=session, survey_id=survey_id)
    since, until = wave_period(session, survey)
    teams = sorted(_user_teams(session))
    return stored_teams_outcomes(
        session=session, teams=teams, since=since, until=until, together=True
    ).get(COMPANY, {})


@dataclass(frozen=True)
class AgainstCompany:
    """One outcome of one team beside the company's (None where withheld or unknown)."""

    outcome: str
    team: float | None
    company: float | None


def against_company(row: TeamOutcomes, company: dict[str, float | None]) -> list[AgainstCompany]:
    """Each outcome the team or the company has, in the page's order, side by side."""
    names = list(OUTCOMES) + sorted({k for k in (*row.outcomes, *company) if k not in OUTCOMES})
    return [
        AgainstCompany(name, row.outcomes.get(name), company.get(name))
        for name in names
        if row.outcomes.get(name) is not None or company.get(name) is not None
    ]


def outcome_trend(*, session: Session, survey_id: int, actor: Actor) -> list[TeamOutcomes]:
    """The same figures in every closed wave of this survey's series, oldest first."""
    require_role(actor, Role.hr, Role.manager, doing="see people and outcomes")
    survey = get_survey(session=session, survey_id=survey_id)
    series = survey.series_id or survey.id
    waves = session.exec(
        select(Survey)
        .where(
            (col(Survey.series_id) == series) | (col(Survey.id) == series),
            Survey.status == SurveyStatus.closed.value,
        )
        .order_by(col(Survey.wave))
    ).all()
    rows: list[TeamOutcomes] = []
    for wave in waves:
        assert wave.id is not None
        rows.extend(people_and_outcomes(session=session, survey_id=wave.id, actor=actor))
    return rows


@dataclass(frozen=True)
class Correlation:
    """Pearson's r between engagement and one outcome across teams, with n."""

    outcome: str
    n: int
    r: float | None


def pearson_r(points: list[tuple[float, float]]) -> float | None:
    """Pearson's correlation coefficient of (x, y) points; None below 3 points or no spread."""
    n = len(points)
    if n < 3:
        return None
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxy = sum((x - mx) * (y - my) for x, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    syy = sum((y - my) ** 2 for _, y in points)
    if sxx <= 0 or syy <= 0:
        return None
    return round(sxy / math.sqrt(sxx * syy), 3)


def points(rows: list[TeamOutcomes], outcome: str) -> list[dict[str, Any]]:
    """Scatter points (team, engagement, outcome) where both are known."""
    return [
        {"team": r.team, "engagement": r.engagement_index, "outcome": r.outcomes.get(outcome)}
        for r in rows
        if r.engagement_index is not None and r.outcomes.get(outcome) is not None
    ]


def correlations(rows: list[TeamOutcomes]) -> list[Correlation]:
    """r and n for every outcome measured for at least one team."""
    names = list(OUTCOMES) + sorted({k for r in rows for k in r.outcomes if k not in OUTCOMES})
    result = []
    for name in names:
        found = points(rows, name)
        pairs = [(float(p["engagement"]), float(p["outcome"])) for p in found]
        result.append(Correlation(name, len(pairs), pearson_r(pairs)))
    return result


# Below this many teams with both figures, a correlation says too little to print its
# size: one unusual team can swing r anywhere between -1 and 1. Only its sign is given.
MIN_TEAMS_TO_SAY = 8
# Which way is good on each outcome's axis.
BETTER_WHEN_HIGHER = {WIN_RATE: True, PIPELINE: True, RESPONSE: False, NEGATIVE: False}
BETTER_WHEN_HIGHER |= {CONCERNS: False, CUSTOMER_NPS: True}


def better(outcome: str) -> str:
    """Which direction is good on an outcome's axis, in words ('' when not known)."""
    higher = BETTER_WHEN_HIGHER.get(outcome)
    return "" if higher is None else "higher is better" if higher else "lower is better"


def in_words(found: Correlation) -> str:
    """What a correlation says, sized only when enough teams stand behind it.

    The rule: with fewer than MIN_TEAMS_TO_SAY teams, only the direction is given and
    the sentence says there are too few teams to say more; from there on, r is shown.
    """
    teams = f"n = {found.n} team{'s' if found.n != 1 else ''}"
    needs = f"{teams}; a correlation needs at least {MIN_TEAMS_TO_SAY}"
    moved = found.r is not None and found.r != 0
    direction = "more" if found.r is not None and found.r > 0 else "less"
    trend = f"More engaged teams had {direction} of this"
    if found.n < MIN_TEAMS_TO_SAY:
        if not moved:
            return f"Too few teams to say ({needs})."
        return f"{trend}, but there are too few teams to say how strongly ({needs})."
    if not moved:
        return f"No direction to report ({teams})."
    return f"{trend}: r = {found.r:+.2f} ({teams})."
