"""Customer feedback for the customer-experience views: detractors and NPS by team.

Both read only non-anonymous contact surveys (an anonymous answer is never tied to a
contact, so it cannot be placed on a journey or credited to a team), and only the
contacts the viewer may read (owner and team rules of `db/auth/visibility.py`).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.auth.visibility import owner_filter
from db.core.small_groups import big_enough, hide_small_groups
from db.experience.scope import COMPANY
from db.models.auth import User
from db.models.people import Contact
from db.models.surveys import AudienceKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from db.surveys.voice import NPS_CODE

DETRACTOR_MOMENT = "survey_detractor"
NO_TEAM = "No team"


def _named_nps_conditions(since: datetime, until: datetime) -> list[Any]:
    # The few NPS questions of named contact surveys, listed first, so the answers are
    # read through their question index instead of scanning every survey answer.
    nps_questions = (
        sa_select(col(SurveyQuestion.id))
        .join(Survey, col(Survey.id) == col(SurveyQuestion.survey_id))
        .where(
            col(SurveyQuestion.code) == NPS_CODE,
            col(Survey.audience_kind) == AudienceKind.contacts.value,
            col(Survey.anonymous).is_(False),
        )
    )
    return [
        col(SurveyAnswer.question_id).in_(nps_questions),
        col(Survey.audience_kind) == AudienceKind.contacts.value,
        col(Survey.anonymous).is_(False),
        col(SurveyResponse.contact_id).is_not(None),
        col(SurveyResponse.submitted_at) >= since,
        col(SurveyResponse.submitted_at) < until,
        col(SurveyQuestion.code) == NPS_CODE,
        col(SurveyAnswer.value).is_not(None),
        col(Contact.erased_at).is_(None),
    ]


def _named_nps_answers(actor: Actor, since: datetime, until: datetime) -> Any:
    conditions = _named_nps_conditions(since, until)
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        conditions.append(scope)
    return conditions


def _joined(query: Any) -> Any:
    return (
        query.select_from(SurveyAnswer)
        .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .join(Survey, col(Survey.id) == col(SurveyResponse.survey_id))
        .join(Contact, col(Contact.id) == col(SurveyResponse.contact_id))
    )


def detractor_moments(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> list[tuple[int, datetime, str]]:
    """(contact id, when, "survey_detractor") for each named NPS answer of 0-6 in [since, until)."""
    query = _joined(sa_select(col(SurveyResponse.contact_id), col(SurveyResponse.submitted_at)))
    rows = session.execute(
        query.where(
            *_named_nps_answers(actor, since, until), col(SurveyAnswer.value) <= 6
        ).order_by(col(SurveyResponse.submitted_at), col(SurveyResponse.contact_id))
    ).all()
    return [(int(contact_id), at, DETRACTOR_MOMENT) for contact_id, at in rows]


def customer_nps_by_team(
    *, session: Session, actor: Actor, since: datetime, until: datetime
) -> dict[str, tuple[float, int]]:
    """Team of the contact's owner → (NPS, n) from named NPS answers, where n reaches the
    confidentiality threshold of every survey the answers came from."""
    query = _joined(
        sa_select(col(User.team), col(Survey.min_group), col(SurveyAnswer.value))
    ).outerjoin(User, col(User.id) == col(Contact.owner_id))
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # n, promo, detr, k
    for team, min_group, value in session.execute(
        query.where(*_named_nps_answers(actor, since, until))
    ).all():
        tally = tallies[team or NO_TEAM]
        tally[0] += 1
        tally[1] += 1 if value >= 9 else 0
        tally[2] += 1 if value <= 6 else 0
        tally[3] = max(tally[3], int(min_group))
    # Teams stand side by side: the one small-group rule hides the small ones and, so
    # that no total minus the shown teams gives a small one away, covers them.
    k = max((tally[3] for tally in tallies.values()), default=0)
    hidden = hide_small_groups({team: tally[0] for team, tally in tallies.items()}, k)
    return {
        team: (round(100.0 * (promoters - detractors) / n, 1), n)
        for team, (n, promoters, detractors, _k) in sorted(tallies.items())
        if team not in hidden
    }


CUSTOMER_NPS = "customer NPS"


def detractor_source(session: Session, since: datetime, until: datetime) -> Any:
    """Moment source: named NPS answers of 0-6; the moment reports apply the viewer's scope."""
    return _joined(
        sa_select(
            col(SurveyResponse.contact_id).label("contact_id"),
            col(SurveyResponse.submitted_at).label("occurred_at"),
            literal("survey detractor").label("kind"),
        )
    ).where(*_named_nps_conditions(since, until), col(SurveyAnswer.value) <= 6)


def teams_nps_outcome(
    session: Session,
    teams: Sequence[str],
    start: datetime,
    end: datetime,
    together: bool = False,
) -> dict[str, dict[str, float | None]]:
    """Outcome source: each team's customer NPS in [start, end) from the NPS item of named
    customer surveys, credited to the team of the contact's owner; None below the threshold.

    `together`: the NPS of all these teams' customers as one (COMPANY). A viewer who sees
    one team beside it could subtract that team from it, so it is given only when, for
    every team whose own figure may be shown, the rest of the company reaches the threshold."""
    query = _joined(
        sa_select(
            col(User.team),
            func.count(),
            func.sum(case((col(SurveyAnswer.value) >= 9, 1), else_=0)),
            func.sum(case((col(SurveyAnswer.value) <= 6, 1), else_=0)),
            func.max(col(Survey.min_group)),
        )
    ).join(User, col(User.id) == col(Contact.owner_id))
    found = {
        str(team): (int(n), int(promoters), int(detractors), int(threshold or 0))
        for team, n, promoters, detractors, threshold in session.execute(
            query.where(
                *_named_nps_conditions(start, end), col(User.team).in_(list(teams))
            ).group_by(col(User.team))
        ).all()
    }
    k = max((threshold for _n, _p, _d, threshold in found.values()), default=0)
    if together:
        n, promoters, detractors = (sum(t[i] for t in found.values()) for i in range(3))
        # A team whose own figure may be shown, with fewer than k others beside it, would
        # give the others' figure away by subtraction.
        rests = [n - t[0] for t in found.values() if big_enough(t[0], k)]
        shown = n > 0 and big_enough(n, k) and all(big_enough(rest, k) for rest in rests if rest)
        return {COMPANY: {CUSTOMER_NPS: _nps(promoters, detractors, n) if shown else None}}
    hidden = hide_small_groups({team: found.get(team, (0, 0, 0, 0))[0] for team in teams}, k)
    figures: dict[str, dict[str, float | None]] = {}
    for team in teams:
        n, promoters, detractors, _threshold = found.get(team, (0, 0, 0, 0))
        figures[team] = {
            CUSTOMER_NPS: _nps(promoters, detractors, n) if n and team not in hidden else None
        }
    return figures


def _nps(promoters: int, detractors: int, n: int) -> float:
    return round(100.0 * (promoters - detractors) / n, 1)
