"""Action plans: a focus area from a result, with actions, owner, due date and status."""

from typing import Any

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.models.auth import Role
from db.models.surveys import ActionPlan, ActionPlanCreate, ActionStatus
from db.surveys.builder import get_survey

FOCUS_MAX = 200
ACTIONS_MAX = 2000
OWNER_MAX = 120


def _team_of(actor: Actor) -> str | None:
    return getattr(actor, "team", None)


def create_action(
    *,
    session: Session,
    survey_id: int,
    plan_in: ActionPlanCreate,
    team: str | None,
    actor: Actor,
    department: str | None = None,
) -> ActionPlan:
    """Record a focus area and its actions for one group (HR for any; a manager for their team).

    The group is everyone (no department, no team), a department, or a team within its
    department, as on the results screen. The same open plan for the same group is
    refused, so a second click does not save a duplicate.
    """
    require_role(actor, Role.hr, Role.manager, doing="plan actions")
    if not actor.has_any({Role.hr}) and (team is None or team != _team_of(actor)):
        raise Forbidden("Managers can plan actions for their own team only.")
    survey = get_survey(session=session, survey_id=survey_id)
    if not plan_in.focus.strip():
        raise ValidationError("Focus area: say what you will work on.", field="focus")
    if not plan_in.actions.strip():
        raise ValidationError("Actions: list at least one action.", field="actions")
    if not plan_in.owner.strip():
        raise ValidationError("Owner: name who is responsible.", field="owner")
    for value, label, name, limit in (
        (plan_in.focus, "Focus area", "focus", FOCUS_MAX),
        (plan_in.actions, "Actions", "actions", ACTIONS_MAX),
        (plan_in.owner, "Owner", "owner", OWNER_MAX),
    ):
        if len(value) > limit:
            raise ValidationError(f"{label}: use at most {limit:,} characters.", field=name)
    same = session.exec(
        select(ActionPlan.id).where(
            ActionPlan.survey_id == survey_id,
            *_group_is(department, team),
            ActionPlan.focus == plan_in.focus.strip(),
            col(ActionPlan.status) != ActionStatus.done.value,
        )
    ).first()
    if same is not None:
        raise Conflict(
            f"“{plan_in.focus.strip()}” is already planned for {group_name(department, team)}; "
            "update that plan instead."
        )
    plan = ActionPlan(
        **plan_in.model_dump(exclude={"focus"}),
        focus=plan_in.focus.strip(),
        survey_id=survey_id,
        series_id=survey.series_id or survey_id,
        department=department,
        team=team,
        created_by=actor.id,
    )
    session.add(plan)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="survey.action.create",
        entity="survey_action",
        entity_id=plan.id,
        details={"survey": survey_id},
    )
    session.commit()
    return plan


def set_action_status(
    *, session: Session, action_id: int, status: ActionStatus, version: int, actor: Actor
) -> ActionPlan:
    """Move an action plan along (HR, or the manager of its team)."""
    require_role(actor, Role.hr, Role.manager, doing="update action plans")
    plan = session.get(ActionPlan, action_id)
    if plan is None:
        raise NotFound("That action plan does not exist.")
    if not actor.has_any({Role.hr}) and plan.team != _team_of(actor):
        raise Forbidden("Managers can update their own team's action plans only.")
    if plan.version != version:
        raise Conflict("This action plan was changed by someone else meanwhile — reload.")
    plan.status = status.value
    plan.version += 1
    session.add(plan)
    record(
        session=session,
        actor=actor,
        action="survey.action.status",
        entity="survey_action",
        entity_id=action_id,
        details={"status": status.value},
    )
    session.commit()
    return plan


EVERYONE = "everyone"


def group_name(department: str | None, team: str | None) -> str:
    """The group a plan is for, in words."""
    if team:
        return f"{team} ({department})" if department else team
    return department or EVERYONE


def _group_is(department: str | None, team: str | None) -> list[Any]:
    return [
        col(ActionPlan.department).is_(None)
        if department is None
        else col(ActionPlan.department) == department,
        col(ActionPlan.team).is_(None) if team is None else col(ActionPlan.team) == team,
    ]


def list_actions(
    *,
    session: Session,
    actor: Actor,
    series_id: int | None = None,
    open_only: bool = False,
    group: tuple[str | None, str | None] | None = None,
) -> list[ActionPlan]:
    """Action plans this actor may see (HR all, managers their team), by due date.

    `group` (department, team) keeps only the plans made for exactly that group, so a
    team's plans are not listed beside the company-wide ones.
    """
    require_role(actor, Role.hr, Role.manager, doing="see action plans")
    query = select(ActionPlan)
    if series_id is not None:
        query = query.where(ActionPlan.series_id == series_id)
    if group is not None:
        query = query.where(*_group_is(*group))
    if open_only:
        query = query.where(col(ActionPlan.status) != ActionStatus.done.value)
    if not actor.has_any({Role.hr}):
        query = query.where(ActionPlan.team == _team_of(actor))
    return list(session.exec(query.order_by(col(ActionPlan.due_on), col(ActionPlan.id))).all())
