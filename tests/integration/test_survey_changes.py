"""Surveys that can change: plans kept for their group, questions reworded until the first
answer, stray drafts deleted."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.errors import Conflict
from db.models.surveys import ActionPlanCreate, QuestionKind, Survey
from db.surveys.actions import create_action, list_actions
from db.surveys.answers import submit_answers
from db.surveys.builder import delete_draft, edit_question, list_questions
from db.surveys.distribution import issue_links, open_survey
from db.surveys.library import add_from_library, add_to_library, library
from tests.integration.test_surveys import TODAY, answers_for, new_survey, staff


def plan(focus: str) -> ActionPlanCreate:
    return ActionPlanCreate(
        focus=focus, actions="Talk it through.", owner="Hana", due_on=TODAY + timedelta(days=9)
    )


def test_a_plan_made_for_a_department_is_kept_for_that_department_only(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = new_survey(session).id or 0
    create_action(
        session=session,
        survey_id=sid,
        plan_in=plan("Clearer goals"),
        department="Sales",
        team=None,
        actor=OPERATOR,
    )
    create_action(
        session=session,
        survey_id=sid,
        plan_in=plan("Team lunches"),
        department="Sales",
        team="North",
        actor=OPERATOR,
    )
    create_action(
        session=session, survey_id=sid, plan_in=plan("Pay review"), team=None, actor=OPERATOR
    )

    def focuses(group: tuple[str | None, str | None]) -> list[str]:
        return [p.focus for p in list_actions(session=session, actor=OPERATOR, group=group)]

    assert focuses(("Sales", None)) == ["Clearer goals"]
    assert focuses(("Sales", "North")) == ["Team lunches"]
    # The company-wide list holds no team's or department's plan.
    assert focuses((None, None)) == ["Pay review"]
    assert len(list_actions(session=session, actor=OPERATOR)) == 3


def test_saving_the_same_open_plan_twice_for_one_group_is_refused(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = new_survey(session).id or 0
    arguments = {"survey_id": sid, "department": "Sales", "team": "North", "actor": OPERATOR}
    create_action(session=session, plan_in=plan("Team lunches"), **arguments)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="already planned for North"):
        create_action(session=session, plan_in=plan(" Team lunches "), **arguments)  # type: ignore[arg-type]
    # Another group may plan the same thing.
    create_action(
        session=session,
        survey_id=sid,
        plan_in=plan("Team lunches"),
        department="Sales",
        team=None,
        actor=OPERATOR,
    )
    assert len(list_actions(session=session, actor=OPERATOR)) == 2


def test_a_question_can_be_reworded_after_opening_until_the_first_answer(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    first = list_questions(session=session, survey_id=sid)[0]
    edited = edit_question(
        session=session,
        question_id=first.id or 0,
        text="I am proud to work here.",
        section="",
        actor=OPERATOR,
    )
    assert edited.text == "I am proud to work here." and edited.section == first.section
    link = issue_links(session=session, survey_id=sid, actor=OPERATOR)[0]
    token = parse_qs(urlparse(link.url).query)["token"][0]
    submit_answers(session=session, token=token, answers=answers_for(session, sid, 4))
    with pytest.raises(Conflict, match="already answered"):
        edit_question(
            session=session,
            question_id=first.id or 0,
            text="Something else",
            section="",
            actor=OPERATOR,
        )


def test_only_a_draft_can_be_deleted(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    draft = new_survey(session).id or 0
    assert delete_draft(session=session, survey_id=draft, actor=OPERATOR) == "Pulse"
    assert session.get(Survey, draft) is None
    opened = new_survey(session).id or 0
    open_survey(session=session, survey_id=opened, actor=OPERATOR)
    with pytest.raises(Conflict, match="only drafts"):
        delete_draft(session=session, survey_id=opened, actor=OPERATOR)


def test_a_question_hr_keeps_in_the_library_is_added_to_a_later_survey_under_its_code(
    session: Session,
) -> None:
    add_to_library(
        session=session,
        section="Hybrid work",
        code="hybrid_tools",
        text="I have the tools to work well from home.",
        kind=QuestionKind.agree5,
        factor="wellbeing",
        choices=None,
        required=True,
        actor=OPERATOR,
    )
    with pytest.raises(Conflict, match="already in the library"):
        add_to_library(
            session=session,
            section="",
            code="eng_proud",
            text="Proud?",
            kind=QuestionKind.agree5,
            factor="engagement",
            choices=None,
            required=True,
            actor=OPERATOR,
        )
    assert "hybrid_tools" in {q.code for q in library(session=session, actor=OPERATOR)}
    sid = new_survey(session, template="blank").id or 0
    added = add_from_library(session=session, survey_id=sid, code="hybrid_tools", actor=OPERATOR)
    assert (added.code, added.factor, added.section) == ("hybrid_tools", "wellbeing", "Hybrid work")
