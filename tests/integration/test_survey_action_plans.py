"""Action plans belong to the group they were made for, and a second click adds nothing."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.errors import Conflict
from db.models.surveys import ActionPlanCreate
from db.surveys.actions import create_action, list_actions
from tests.integration.test_surveys import TODAY, new_survey, staff


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
