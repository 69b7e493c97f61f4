"""Single-choice distributions under the thresholds; closed surveys read their tallies."""

import random

from sqlalchemy import delete, func, select
from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.demo.bulk.rows import World
from db.demo.bulk.surveys import seed_surveys_bulk
from db.models.auth import Role
from db.models.surveys import (
    Employee,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTally,
)
from db.surveys.answers import submit_answers
from db.surveys.builder import add_question, close_survey, list_questions
from db.surveys.choices import choice_results, choice_rows
from db.surveys.distribution import open_survey
from db.surveys.held import flush_held_answers
from db.surveys.reports import drivers, results
from tests.integration.test_surveys import (
    answers_for,
    new_survey,
    staff,
    tokens_of,
    user,
)

OPTIONS = ["Office", "Hybrid", "Remote"]


def choice_survey(session: Session, required: bool = True) -> int:
    survey = new_survey(session)
    sid = survey.id or 0
    add_question(
        session=session,
        survey_id=sid,
        section="About you",
        code="where",
        text="Where do you mostly work?",
        kind=QuestionKind.choice,
        factor=None,
        choices=OPTIONS,
        required=required,
        actor=OPERATOR,
    )
    return sid


def answer(session: Session, sid: int, picks: dict[str, str | None], score: int = 4) -> None:
    tokens = tokens_of(session, sid)
    where = next(q for q in list_questions(session=session, survey_id=sid) if q.code == "where")
    for email, pick in picks.items():
        answers = answers_for(session, sid, score)
        answers[where.id or 0] = pick
        submit_answers(session=session, token=tokens[email], answers=answers)
    # Answers are held for a batch: write the rest now, as the close or a later visit would.
    flush_held_answers(session=session, survey_id=sid)
    # Distributions are shown once the survey has closed.
    close_survey(session=session, survey_id=sid, actor=OPERATOR)


def distribution(session: Session, sid: int, key: str) -> dict[str, object] | None:
    hr = get_user_by_username(session=session, username="hana") or user(session, "hana", Role.hr)
    [result] = choice_results(session=session, survey_id=sid, group_key=key, actor=hr)
    if not result.shown:
        return None
    return {str(o["option"]): (o["count"], o["percent"]) for o in result.options}


def test_each_option_is_counted_with_its_share_of_those_who_answered(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = choice_survey(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    picks = ["Office", "Hybrid", "Hybrid", "Hybrid", "Remote", "Hybrid"]
    answer(session, sid, {f"p{i}@example.org": p for i, p in enumerate(picks, start=1)})
    assert distribution(session, sid, "all") == {
        "Office": (1, 16.7),
        "Hybrid": (4, 66.7),
        "Remote": (1, 16.7),
    }


def test_a_distribution_below_the_threshold_is_withheld(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = choice_survey(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer(session, sid, {f"p{i}@example.org": "Office" for i in range(1, 5)})
    assert distribution(session, sid, "all") is None


def test_an_optional_choice_answered_by_too_few_is_withheld_even_in_a_large_group(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = choice_survey(session, required=False)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    picks: dict[str, str | None] = {f"p{i}@example.org": None for i in range(1, 7)}
    picks["p1@example.org"] = "Remote"
    picks["p2@example.org"] = "Office"
    answer(session, sid, picks)
    assert distribution(session, sid, "all") is None


def test_a_team_that_would_reveal_a_small_teams_choices_by_subtraction_is_withheld(
    session: Session,
) -> None:
    # North 6 and East 5 shown by size, South 2 hidden; East covers South, so the
    # department minus North cannot be read as South's answers either. (South has five
    # invitees: a team smaller than the threshold is never stored with a response.)
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 5, ("Sales", "East"): 5})
    sid = choice_survey(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer(
        session,
        sid,
        {
            f"p{i}@example.org": "Office" if i <= 6 else "Remote"
            for i in [*range(1, 9), *range(12, 17)]
        },
    )
    assert distribution(session, sid, "d:Sales/t:North") == {
        "Office": (6, 100.0),
        "Hybrid": (0, 0.0),
        "Remote": (0, 0.0),
    }
    assert distribution(session, sid, "d:Sales/t:South") is None
    assert distribution(session, sid, "d:Sales/t:East") is None
    hr = get_user_by_username(session=session, username="hana")
    assert hr is not None
    rows = choice_rows(choice_results(session=session, survey_id=sid, group_key="all", actor=hr))
    assert [(r["option"], r["count"]) for r in rows] == [
        ("Office", 6),
        ("Hybrid", 0),
        ("Remote", 7),
    ]


def test_a_closed_survey_reports_the_same_from_its_tallies_as_from_its_answers(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6, ("Sales", "East"): 5, ("Ops", "Depot"): 7})
    sid = choice_survey(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    rng = random.Random(3)
    tokens = tokens_of(session, sid)
    questions = list_questions(session=session, survey_id=sid)
    for token in tokens.values():
        answers: dict[int, int | str | None] = {}
        for q in questions:
            if q.kind == "agree5":
                answers[q.id or 0] = rng.randint(1, 5)
            elif q.kind == "scale10":
                answers[q.id or 0] = rng.randint(0, 10)
            elif q.kind == "choice":
                answers[q.id or 0] = rng.choice(OPTIONS)
        submit_answers(session=session, token=token, answers=answers)
    flush_held_answers(session=session, survey_id=sid)
    hr = user(session, "hana", Role.hr)
    keys = ["all", "d:Sales", "d:Sales/t:North", "d:Ops/t:Depot"]

    def report() -> list[object]:
        return [
            (
                results(session=session, survey_id=sid, group_key=k, actor=hr),
                drivers(session=session, survey_id=sid, group_key=k, actor=hr),
                choice_results(session=session, survey_id=sid, group_key=k, actor=hr),
            )
            for k in keys
        ]

    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    survey = session.get(Survey, sid)
    assert survey is not None and survey.tallied
    # Results are shown only once closed: read them once from the answers (as for a
    # survey closed before tallies existed), then from the tallies.
    survey.tallied = False
    session.add(survey)
    session.commit()
    from_answers = report()
    survey.tallied = True
    session.add(survey)
    session.commit()
    tallies = session.execute(
        select(func.count()).select_from(SurveyTally).where(SurveyTally.survey_id == sid)
    ).scalar_one()
    assert tallies > 0
    # Without its answers, a closed survey's report can only come from the tallies.
    session.execute(delete(SurveyAnswer))
    session.commit()
    assert report() == from_answers
    for result, driver_rows, choices in from_answers:  # type: ignore[misc]
        assert result.items and driver_rows and choices[0].shown


def snapshot(session: Session) -> list[object]:
    responses = session.execute(
        select(
            SurveyResponse.id,
            SurveyResponse.department,
            SurveyResponse.team,
            SurveyResponse.submitted_on,
        ).order_by(SurveyResponse.id)
    ).all()
    values = session.execute(
        select(SurveyAnswer.value, SurveyAnswer.text, func.count())
        .group_by(SurveyAnswer.value, SurveyAnswer.text)
        .order_by(SurveyAnswer.value, SurveyAnswer.text)
    ).all()
    return [list(responses), list(values)]


def test_the_bulk_seeder_writes_employees_waves_and_answers_at_a_tiny_scale(
    session: Session,
) -> None:
    world = World(rng=random.Random(1), scale=0.05, owner_ids=[], team_of={}, ids={})
    counts = seed_surveys_bulk(session, world, waves=3)
    employees = session.execute(select(func.count()).select_from(Employee)).scalar_one()
    responses = session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one()
    answers = session.execute(select(func.count()).select_from(SurveyAnswer)).scalar_one()
    assert employees == counts["employees"] == 100
    assert responses == counts["survey responses"]
    assert answers == counts["survey answers"]
    # About 80% of the 100 answer each of the three waves.
    assert 200 <= responses <= 280
    # Every response answers the 17 scaled and choice items; a few add a comment.
    assert 17 * responses <= answers <= 18 * responses
    waves = session.scalars(select(Survey).order_by(Survey.wave)).all()
    assert [w.wave for w in waves] == [1, 2, 3] == list(range(1, counts["surveys"] + 1))
    assert len({w.series_id for w in waves}) == 1
    assert all(w.status == "closed" and w.tallied for w in waves)


def test_the_bulk_seeder_is_deterministic(session: Session) -> None:
    world = World(rng=random.Random(1), scale=0.02, owner_ids=[], team_of={}, ids={})
    seed_surveys_bulk(session, world, waves=2)
    first = snapshot(session)
    for model in (SurveyTally, SurveyAnswer, SurveyResponse, SurveyInvitation):
        session.execute(delete(model))
    session.execute(delete(SurveyQuestion))
    session.execute(delete(Survey))
    session.execute(delete(Employee))
    session.commit()
    seed_surveys_bulk(session, world, waves=2)
    assert snapshot(session) == first
