"""Engagement surveys at benchmark scale, written with bulk inserts.

Scale 1 is 2k employees in teams of about 25 and one engagement series of eight
quarterly waves (two years); scale 10 is 20k employees. The five-year case of the
issue (twenty waves, about 3M answers at scale 10) is the `waves` parameter, or
RAPPORT_BULK_SURVEY_WAVES for `manage.py seed --scale` and the benchmark. The data is
deterministic: the generator is seeded here, independent of the other areas' seeders.
"""

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.core.settings import get_settings
from db.core.types import utcnow
from db.demo.bulk.rows import World, bulk_insert, max_id, new_ids
from db.demo.surveys import COMMENTS, FIRST, LAST, LOCATIONS, ORG
from db.models.surveys import (
    AudienceKind,
    Employee,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from db.surveys.builder import ENGAGEMENT_TEMPLATE
from db.surveys.employees import tenure_band
from db.surveys.tallies import tally_survey

TEAM_SIZE = 25
RESPONSE_RATE = 0.8
WORK_CHOICE = ("Office", "Hybrid", "Remote")


def waves_wanted() -> int:
    """Waves to seed: RAPPORT_BULK_SURVEY_WAVES, or eight (two years of quarters)."""
    return get_settings().bulk_survey_waves


def _teams(n_employees: int) -> list[tuple[str, str]]:
    """(department, team) pairs: the demo's teams, then numbered ones as the company grows."""
    wanted = max(len([t for ts in ORG.values() for t in ts]), n_employees // TEAM_SIZE)
    teams = [(d, t) for d, ts in ORG.items() for t in ts]
    number = 2
    while len(teams) < wanted:
        for department, base in ORG.items():
            for team in base:
                if len(teams) < wanted:
                    teams.append((department, f"{team} {number}"))
        number += 1
    return teams


def seed_surveys_bulk(
    session: Session, world: World, *, waves: int | None = None
) -> dict[str, int]:
    """Employees and `waves` quarterly engagement waves with their answers, at scale."""
    rng = random.Random(20261)
    waves = waves or waves_wanted()
    today = utcnow().date()
    n_employees = max(50, int(2000 * world.scale))
    teams = _teams(n_employees)
    now = utcnow()

    people: list[dict[str, Any]] = []
    for number in range(n_employees):
        department, team = teams[number % len(teams)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        people.append(
            {
                "name": f"{first} {last}",
                "email": f"staff{number:06d}@example.org",
                "department": department,
                "team": team,
                "location": rng.choice(LOCATIONS),
                "manager_email": None,
                "start_date": today - timedelta(days=rng.randint(30, 365 * 9)),
                "employment_type": rng.choices(["full-time", "part-time", "contractor"], [8, 2, 1])[
                    0
                ],
                "left_on": None,
                "created_at": now,
                "version": 1,
            }
        )
    before = max_id(session, Employee)
    bulk_insert(session, Employee, iter(people))
    employee_ids = new_ids(session, Employee, before)

    first_open = today - timedelta(days=91 * waves)
    surveys = [
        {
            "title": f"Engagement survey, Q{(number % 4) + 1} {first_open.year + number // 4}",
            "audience_department": None,
            "audience_team": None,
            "audience_location": None,
            "opens_on": first_open + timedelta(days=91 * number),
            "closes_on": first_open + timedelta(days=91 * number + 14),
            "min_group": 5,
            "comment_min": 10,
            "audience_kind": AudienceKind.employees.value,
            "audience_contact_kind": None,
            "audience_tag": None,
            "audience_organisation_id": None,
            "anonymous": True,
            "series_id": None,
            "wave": number + 1,
            "status": SurveyStatus.closed.value,
            "tallied": False,
            "created_at": now,
            "version": 1,
        }
        for number in range(waves)
    ]
    before = max_id(session, Survey)
    bulk_insert(session, Survey, iter(surveys))
    survey_ids = new_ids(session, Survey, before)
    series = survey_ids[0]
    survey_table = Survey.__table__  # type: ignore[attr-defined]
    session.execute(
        survey_table.update().where(survey_table.c.id.in_(survey_ids)).values(series_id=series)
    )
    session.commit()

    template = [
        *[
            (q.section, q.code, q.text, q.kind.value, q.factor, None, q.required)
            for q in ENGAGEMENT_TEMPLATE
        ],
        (
            "About you",
            "work_pattern",
            "Where do you mostly work?",
            QuestionKind.choice.value,
            None,
            "\n".join(WORK_CHOICE),
            True,
        ),
    ]
    bulk_insert(
        session,
        SurveyQuestion,
        (
            {
                "survey_id": survey_id,
                "position": position,
                "section": section,
                "code": code,
                "text": text,
                "kind": kind,
                "factor": factor,
                "choices": choices,
                "required": required,
            }
            for survey_id in survey_ids
            for position, (section, code, text, kind, factor, choices, required) in enumerate(
                template, start=1
            )
        ),
    )
    question_table = SurveyQuestion.__table__  # type: ignore[attr-defined]
    questions: dict[int, list[tuple[int, str]]] = {sid: [] for sid in survey_ids}
    for qid, sid, kind in session.execute(
        select(question_table.c.id, question_table.c.survey_id, question_table.c.kind)
        .where(question_table.c.survey_id.in_(survey_ids))
        .order_by(question_table.c.survey_id, question_table.c.position)
    ).all():
        questions[sid].append((qid, kind))

    team_mood = {team: rng.uniform(3.0, 4.2) for _d, team in teams}
    counts = {"responses": 0, "answers": 0}
    invitations: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []

    def flush() -> None:
        bulk_insert(session, SurveyInvitation, iter(invitations))
        bulk_insert(session, SurveyResponse, iter(responses))
        bulk_insert(session, SurveyAnswer, iter(answers))
        invitations.clear()
        responses.clear()
        answers.clear()

    for number, survey_id in enumerate(survey_ids):
        closes_on = first_open + timedelta(days=91 * number + 14)
        lift = 0.04 * number
        for employee_id, person in zip(employee_ids, people, strict=True):
            responded = rng.random() < RESPONSE_RATE
            invitations.append(
                {
                    "survey_id": survey_id,
                    "employee_id": employee_id,
                    "contact_id": None,
                    "department": person["department"],
                    "team": person["team"],
                    "answered": responded,
                    "sent_count": 1,
                }
            )
            if not responded:
                continue
            response_id = f"{rng.getrandbits(128):032x}"
            on = closes_on - timedelta(days=rng.randint(0, 13))
            responses.append(
                {
                    "id": response_id,
                    "survey_id": survey_id,
                    "department": person["department"],
                    "team": person["team"],
                    "location": person["location"],
                    "tenure_band": tenure_band(person["start_date"], on),
                    "submitted_on": on,
                    "contact_id": None,
                    "submitted_at": None,
                }
            )
            mood = team_mood[person["team"]] + lift + rng.gauss(0, 0.5)
            for question_id, kind in questions[survey_id]:
                value, text = _answer(rng, kind, mood)
                if value is None and text is None:
                    continue
                answers.append(
                    {
                        "response_id": response_id,
                        "question_id": question_id,
                        "value": value,
                        "text": text,
                    }
                )
            counts["responses"] += 1
        counts["answers"] += len(answers)
        flush()
    # The waves are closed, so their reports read tallies, as after close_survey.
    for survey_id in survey_ids:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        tally_survey(session=session, survey=survey)
        session.commit()
    return {
        "employees": len(employee_ids),
        "surveys": len(survey_ids),
        "survey responses": counts["responses"],
        "survey answers": counts["answers"],
    }


def _answer(rng: random.Random, kind: str, mood: float) -> tuple[int | None, str | None]:
    if kind == QuestionKind.agree5.value:
        return max(1, min(5, round(rng.gauss(mood, 0.9)))), None
    if kind == QuestionKind.scale10.value:
        return max(0, min(10, round(rng.gauss(mood * 2.1, 1.8)))), None
    if kind == QuestionKind.choice.value:
        return None, rng.choices(WORK_CHOICE, [3, 5, 2])[0]
    return None, (rng.choice(COMMENTS) if rng.random() < 0.1 else None)
