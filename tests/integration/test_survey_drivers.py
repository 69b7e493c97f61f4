"""Drivers people can act on: the matrix's arithmetic, its quadrants, and the heatmap's
comparisons, with the small-group rule played as the attacker across waves."""

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.errors import Forbidden
from db.core.migrate import upgrade
from db.core.small_groups import COVER
from db.models.auth import Role
from db.models.surveys import QuestionKind
from db.surveys.answers import submit_answers
from db.surveys.builder import add_question, close_survey, copy_to_new_wave, list_questions
from db.surveys.distribution import open_survey
from db.surveys.drivers import (
    FOCUS,
    IMPACT_MIN_RESPONSES,
    MAINTAIN,
    MONITOR,
    NO_OUTCOME,
    NO_PREVIOUS,
    STRENGTH,
    TOO_FEW,
    compared_heatmap,
    driver_matrix,
)
from db.surveys.held import flush_held_answers
from db.surveys.reports import groups, results
from tests.conftest import backends, drop_postgres_schema, fresh_engine
from tests.integration.test_surveys import TODAY, answer_all, new_survey, staff, tokens_of, user

# Per respondent i of 40: the engagement answer, then each driver item's answer.
PEOPLE = 40


def engagement_of(i: int) -> int:
    return 1 + i % 5


def item_answers(i: int) -> dict[str, int]:
    e = engagement_of(i)
    return {
        "mgr_support": e,  # moves exactly with engagement, mostly favourable
        "work_manageable": max(1, min(5, e + (1 if i % 3 == 0 else -1))),  # close to it
        "growth_path": 1 + (i * 7) % 5,  # unrelated to it
        "recog_seen": 5 if i % 4 else 4,  # always favourable, barely related
    }


def driver_survey(session: Session) -> int:
    """A pulse with two more items, answered by 20 people in each of two teams."""
    staff(session, {("Sales", "North"): PEOPLE // 2, ("Sales", "South"): PEOPLE // 2})
    sid = new_survey(session).id or 0
    for code, factor in (("growth_path", "growth"), ("recog_seen", "recognition")):
        add_question(
            session=session,
            survey_id=sid,
            section="Pulse",
            code=code,
            text=f"Item {code}",
            kind=QuestionKind.agree5,
            factor=factor,
            choices=None,
            required=True,
            actor=OPERATOR,
        )
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    questions = list_questions(session=session, survey_id=sid)
    for i in range(PEOPLE):
        per_item = item_answers(i)
        answers: dict[int, int | str | None] = {}
        for q in questions:
            if q.kind == QuestionKind.agree5.value:
                answers[q.id or 0] = per_item.get(q.code, engagement_of(i))
            elif q.kind == QuestionKind.scale10.value:
                answers[q.id or 0] = 2 * engagement_of(i)
        submit_answers(session=session, token=tokens[f"p{i + 1}@example.org"], answers=answers)
    flush_held_answers(session=session, survey_id=sid)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    return sid


def test_impact_is_pearsons_r_with_the_engagement_index_and_the_quadrants_follow_it(
    session: Session,
) -> None:
    sid = driver_survey(session)
    hr = user(session, "hana", Role.hr)
    matrix = driver_matrix(session=session, survey_id=sid, group_key="all", actor=hr)
    assert matrix.note == ""
    engagement = [float(engagement_of(i)) for i in range(PEOPLE)]
    expected = {
        code: statistics.correlation([item_answers(i)[code] for i in range(PEOPLE)], engagement)
        for code in item_answers(0)
    }
    impacts = {d.code: d.impact for d in matrix.drivers}
    assert impacts == {code: pytest.approx(r, abs=0.001) for code, r in expected.items()}
    assert impacts["mgr_support"] == pytest.approx(1.0)
    favourable = {
        code: 100 * sum(item_answers(i)[code] >= 4 for i in range(PEOPLE)) / PEOPLE
        for code in item_answers(0)
    }
    assert {d.code: d.favourable for d in matrix.drivers} == {
        c: pytest.approx(f, abs=0.05) for c, f in favourable.items()
    }
    # The lines: the median impact, and the company's % favourable over the same items.
    assert matrix.median_impact == pytest.approx(statistics.median(expected.values()), abs=0.001)
    assert matrix.company_favourable == pytest.approx(
        statistics.fmean(favourable.values()), abs=0.05
    )
    quadrants = {d.code: d.quadrant for d in matrix.drivers}
    # The two items that move with engagement score below the company's % favourable.
    assert quadrants == {
        "mgr_support": FOCUS,
        "work_manageable": FOCUS,
        "growth_path": MONITOR,
        "recog_seen": MAINTAIN,
    }
    # Focus areas: the lowest score first.
    assert favourable["work_manageable"] < favourable["mgr_support"]
    assert [d.code for d in matrix.focus_areas] == ["work_manageable", "mgr_support"]
    assert matrix.strengths == []
    assert {STRENGTH, FOCUS, MONITOR, MAINTAIN} >= set(quadrants.values())


def test_a_team_below_the_impact_minimum_says_so_and_shows_no_driver(session: Session) -> None:
    sid = driver_survey(session)
    hr = user(session, "hana", Role.hr)
    team = driver_matrix(session=session, survey_id=sid, group_key="d:Sales/t:North", actor=hr)
    assert PEOPLE // 2 < IMPACT_MIN_RESPONSES
    assert team.note == TOO_FEW.format(m=IMPACT_MIN_RESPONSES)
    assert "too few responses to estimate impact" in team.note
    assert team.drivers == [] and team.strengths == [] and team.focus_areas == []


def test_a_manager_sees_drivers_of_their_team_only(session: Session) -> None:
    sid = driver_survey(session)
    maya = user(session, "maya", Role.manager, "North")
    mine = driver_matrix(session=session, survey_id=sid, group_key="d:Sales/t:North", actor=maya)
    assert mine.group.team == "North"
    for other in ("all", "d:Sales", "d:Sales/t:South"):
        with pytest.raises(Forbidden):
            driver_matrix(session=session, survey_id=sid, group_key=other, actor=maya)
    with pytest.raises(Forbidden):
        driver_matrix(
            session=session, survey_id=sid, group_key="all", actor=user(session, "ada", Role.admin)
        )
    # The manager's heatmap holds their team only.
    cells = compared_heatmap(session=session, survey_id=sid, actor=maya)
    assert {c["group"] for c in cells} == {"North"}


def test_a_group_below_the_threshold_shows_no_driver_and_no_comparison(session: Session) -> None:
    # Depot: two answer of five invited, so it is hidden; Field covers it.
    staff(session, {("Ops", "Depot"): 5, ("Ops", "Field"): 6, ("Sales", "North"): 8})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer_all(session, sid, {f"p{i}@example.org": 4 for i in [1, 2, *range(6, 20)]})
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    shown = {g.key: g for g in groups(session=session, survey_id=sid, actor=hr)}
    assert not shown["d:Ops/t:Depot"].shown and not shown["d:Ops/t:Field"].shown
    for key in ("d:Ops/t:Depot", "d:Ops/t:Field"):
        matrix = driver_matrix(session=session, survey_id=sid, group_key=key, actor=hr)
        assert matrix.drivers == [] and matrix.company_favourable is None
        assert matrix.note == shown[key].reason
    cells = compared_heatmap(session=session, survey_id=sid, actor=hr)
    assert all(c["vs previous wave"] is None for c in cells)
    assert {c["note"] for c in cells if c["group"] == "Sales"} == {NO_PREVIOUS}


def test_a_survey_without_engagement_items_says_there_is_nothing_to_measure_impact_against(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = new_survey(session, template="blank").id or 0
    add_question(
        session=session,
        survey_id=sid,
        section="Work",
        code="growth_path",
        text="I can grow here.",
        kind=QuestionKind.agree5,
        factor="growth",
        choices=None,
        required=True,
        actor=OPERATOR,
    )
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer_all(session, sid, {f"p{i}@example.org": 4 for i in range(1, 6)})
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    matrix = driver_matrix(session=session, survey_id=sid, group_key="all", actor=hr)
    assert matrix.note == NO_OUTCOME and matrix.drivers == []


def favourable_of(session: Session, sid: int, actor: object, key: str) -> float:
    found = results(session=session, survey_id=sid, group_key=key, actor=actor)  # type: ignore[arg-type]
    return float(next(f["favourable"] for f in found.factors if f["factor"] == "engagement"))


def test_comparisons_never_give_back_a_group_the_previous_wave_withheld(
    session: Session,
) -> None:
    """Wave 1: Ops (2 answers) is hidden and Sales hidden to cover it. Wave 2: every
    department is shown. Were Sales' change since wave 1 shown, its wave-1 score would be
    now − change, and wave 1's company score minus Tech and Sales would give Ops' two
    people away. So that change stays blank, and every wave-1 score anyone can work out
    leaves a remainder of at least the threshold unknown."""
    layout = {("Ops", "Depot"): 6, ("Sales", "North"): 6, ("Tech", "Apps"): 8}
    staff(session, layout)
    people = {"Ops": range(1, 7), "Sales": range(7, 13), "Tech": range(13, 21)}
    first = new_survey(session).id or 0
    open_survey(session=session, survey_id=first, actor=OPERATOR)
    wave1 = {"Ops": [5, 5], "Sales": [2] * 6, "Tech": [4, 4, 4, 4, 2, 2, 2, 2]}
    answer_all(
        session,
        first,
        {
            f"p{person}@example.org": score
            for department, scores in wave1.items()
            for person, score in zip(people[department], scores, strict=False)
        },
    )
    close_survey(session=session, survey_id=first, actor=OPERATOR)
    second = copy_to_new_wave(
        session=session,
        survey_id=first,
        title="Pulse 2",
        opens_on=TODAY,
        closes_on=TODAY + timedelta(days=7),
        actor=OPERATOR,
    )
    assert second.copied_from_id == first
    sid = second.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer_all(
        session,
        sid,
        {f"p{p}@example.org": 4 if p % 2 else 2 for ps in people.values() for p in ps},
    )
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    k = second.min_group

    before = {g.label: g for g in groups(session=session, survey_id=first, actor=hr)}
    assert not before["Ops"].shown and before["Sales"].reason == COVER and before["Tech"].shown
    cells = {
        c["group"]: c
        for c in compared_heatmap(session=session, survey_id=sid, actor=hr)
        if c["factor"] == "engagement"
    }
    # Shown on both sides: the differences are exact.
    tech_now = favourable_of(session, sid, hr, "d:Tech")
    company_now = favourable_of(session, sid, hr, "all")
    tech_then = favourable_of(session, first, hr, "d:Tech")
    assert cells["Tech"]["vs previous wave"] == pytest.approx(tech_now - tech_then, abs=0.05)
    assert cells["Tech"]["vs company"] == pytest.approx(tech_now - company_now, abs=0.05)
    # Withheld on one side: blank, with the reason.
    for department in ("Ops", "Sales"):
        assert cells[department]["vs previous wave"] is None
        assert cells[department]["vs company"] is not None
        assert "previous wave:" in str(cells[department]["note"])
    # The attack: every department whose wave-1 score is known, shown then or now − change.
    known = {g for g, group in before.items() if group.level == 1 and group.shown}
    known |= {g for g, c in cells.items() if c["vs previous wave"] is not None}
    unknown = sum(len(wave1[d]) for d in wave1 if d not in known)
    assert unknown == 0 or unknown >= k, f"{unknown} people's wave-1 score can be worked out"


@pytest.mark.parametrize("backend", backends())
def test_waves_copied_before_the_upgrade_learn_their_source_from_the_audit_log(
    backend: str, tmp_path: Path
) -> None:
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        upgrade(engine, "0034_contact_email2_index")
        survey = (
            "INSERT INTO survey (id, title, opens_on, closes_on, min_group, comment_min, wave,"
            " status, created_at, version) VALUES (:id, 'Pulse', :day, :day, 5, 10, :wave,"
            " 'closed', :now, 1)"
        )
        event = (
            "INSERT INTO audit_event (id, seq, occurred_at, actor_name, action, entity,"
            " entity_id, details, prev_hash, hash) VALUES (:id, :id, :now, 'hana', :action,"
            " 'survey', :entity, :details, '0', '0')"
        )
        now = datetime.now(UTC)
        with engine.begin() as connection:
            for number in (1, 2, 3):
                connection.execute(
                    text(survey), {"id": number, "day": TODAY, "wave": number, "now": now}
                )
            # Wave 3 was copied from wave 1, not from the wave before it.
            for number, (action, entity, source) in enumerate(
                [("survey.copy", "2", 1), ("survey.copy", "3", 1), ("survey.close", "2", 2)], 1
            ):
                connection.execute(
                    text(event),
                    {
                        "id": number,
                        "now": now,
                        "action": action,
                        "entity": entity,
                        "details": json.dumps({"from": source}),
                    },
                )
        upgrade(engine)
        with engine.connect() as connection:
            found = dict(connection.execute(text("SELECT id, copied_from_id FROM survey")).all())
        assert found == {1: None, 2: 1, 3: 1}
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()
