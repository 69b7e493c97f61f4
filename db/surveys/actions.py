"""Action plans: a focus area from a result, with actions, owner, due date and status."""

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
) -> ActionPlan:
    """Record a focus area and its actions (HR for anyone; a manager for their team)."""
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
    plan = ActionPlan(
        **plan_in.model_dump(),
        survey_id=survey_id,
        series_id=survey.series_id or survey_id,
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


def list_actions(
    *, session: Session, actor: Actor, series_id: int | None = None, open_only: bool = False
) -> list[ActionPlan]:
    """Action plans this actor may see (HR all, managers their team), by due date."""
    require_role(actor, Role.hr, Role.manager, doing="see action plans")
    query = select(ActionPlan)
    if series_id is not None:
        query = query.where(ActionPlan.series_id == series_id)
    if open_only:
        query = query.where(col(ActionPlan.status) != ActionStatus.done.value)
    if not actor.has_any({Role.hr}):
        query = query.where(ActionPlan.team == _team_of(actor))
    return list(session.exec(query.order_by(col(ActionPlan.due_on), col(ActionPlan.id))).all())
