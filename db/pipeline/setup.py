"""Configuring pipelines, their stages and the lost-reason list.

A pipeline belongs to the teams that use it (the teams of its deals' owners): its stages
are changed by administrators, or by the managers of those teams. A pipeline nobody uses
yet (just created) is open to any manager.
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator, require_role
from db.auth.audit import record
from db.auth.visibility import require_reader
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.normalise import clean_text
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.pipeline import CURRENCIES, Deal, LostReason, Pipeline, Stage

CONFIGURERS = (Role.admin, Role.manager)
STAGE_NAME_MAX = 80
PIPELINE_NAME_MAX = 100
LOST_REASON_MAX = 100
STAGE_COUNT_MAX = 30
ROTTING_DAYS_MAX = 3650
# The longest stage list the settings page can send: one "name, probability, days"
# line per stage, each at its longest.
STAGES_TEXT_MAX = STAGE_COUNT_MAX * len(f"{'x' * STAGE_NAME_MAX}, 100, {ROTTING_DAYS_MAX}\n")


@dataclass(frozen=True)
class StageSpec:
    """A stage as typed on the settings page."""

    name: str
    probability: int
    rotting_days: int | None = None


@dataclass(frozen=True)
class StageEdit:
    """One row of the settings page's stage table as saved: the stage, its values, retire."""

    stage_id: int
    spec: StageSpec
    position: int
    retire: bool = False


def pipeline_teams(*, session: Session, pipeline_id: int) -> list[str | None]:
    """The teams whose members own deals in the pipeline (None for owners without a team)."""
    rows = session.exec(
        select(User.team)
        .where(col(User.id).in_(select(Deal.owner_id).where(Deal.pipeline_id == pipeline_id)))
        .distinct()
    ).all()
    return sorted(rows, key=lambda t: (t is None, t or ""))


def _may_configure(*, session: Session, actor: Actor, pipeline_id: int) -> bool:
    """True when the actor may change this pipeline's stages."""
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return True
    if Role.manager not in actor.roles:
        return False
    teams = pipeline_teams(session=session, pipeline_id=pipeline_id)
    if not teams:
        return True
    return bool(getattr(actor, "team", None)) and getattr(actor, "team", None) in teams


def _require_configure(*, session: Session, actor: Actor, pipeline: Pipeline) -> None:
    """Raise Forbidden unless the actor may change this pipeline's stages."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    if not _may_configure(session=session, actor=actor, pipeline_id=pipeline.id or 0):
        teams = [t for t in pipeline_teams(session=session, pipeline_id=pipeline.id or 0) if t]
        users = ", ".join(teams) if teams else "other teams"
        raise Forbidden(
            f"You can't change the stages of {pipeline.name}: it is used by {users}, not your "
            "team. An administrator or a manager of a team that uses it can."
        )


def configurable_pipelines(*, session: Session, actor: Actor) -> list[Pipeline]:
    """The active pipelines whose stages the actor may change, by name."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    return [
        p
        for p in list_pipelines(session=session, actor=actor)
        if _may_configure(session=session, actor=actor, pipeline_id=p.id or 0)
    ]


def _stage_state(stage: Stage) -> dict[str, object]:
    return {
        "name": stage.name,
        "probability": stage.probability,
        "rotting_days": stage.rotting_days,
        "position": stage.position,
        "active": stage.is_active,
    }


def _pipeline_of(session: Session, stage_id: int) -> tuple[Stage, Pipeline]:
    stage = session.get(Stage, stage_id)
    pipeline = session.get(Pipeline, stage.pipeline_id) if stage is not None else None
    if stage is None or pipeline is None:
        raise NotFound(f"There is no stage {stage_id}.")
    return stage, pipeline


def _stage_values(spec: StageSpec) -> tuple[str, int, int | None]:
    name = clean_text(spec.name, field="name", label="Stage name", max_length=STAGE_NAME_MAX)
    if not name:
        raise ValidationError("Stage name: give the stage a name.", field="name")
    if not 0 <= spec.probability <= 100:
        raise ValidationError(
            "Probability: use a whole percentage from 0 to 100.", field="probability"
        )
    if spec.rotting_days is not None and not 1 <= spec.rotting_days <= ROTTING_DAYS_MAX:
        raise ValidationError(
            f"Rotting after: use 1 to {ROTTING_DAYS_MAX} days, or leave it empty for never.",
            field="rotting_days",
        )
    return name, spec.probability, spec.rotting_days


def create_pipeline(
    *,
    session: Session,
    name: str,
    currency: str = "GBP",
    stages: list[StageSpec],
    actor: Actor,
) -> Pipeline:
    """Create a pipeline with its ordered stages."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    cleaned = clean_text(name, field="name", label="Pipeline name", max_length=PIPELINE_NAME_MAX)
    if not cleaned:
        raise ValidationError("Pipeline name: give the pipeline a name.", field="name")
    if currency not in CURRENCIES:
        raise ValidationError(f"Currency: use one of {', '.join(CURRENCIES)}.", field="currency")
    if not stages:
        raise ValidationError("Stages: a pipeline needs at least one stage.", field="stages")
    if len(stages) > STAGE_COUNT_MAX:
        raise ValidationError(
            f"Stages: create a pipeline with at most {STAGE_COUNT_MAX} stages at once.",
            field="stages",
        )
    if session.exec(select(Pipeline.id).where(Pipeline.name == cleaned)).first() is not None:
        raise Conflict(f"Pipeline name: there is already a pipeline called {cleaned}.")
    values = [_stage_values(spec) for spec in stages]
    if len({v[0].lower() for v in values}) != len(values):
        raise ValidationError("Stage name: each stage needs a different name.", field="name")
    pipeline = Pipeline(name=cleaned, currency=currency)
    session.add(pipeline)
    session.flush()
    for position, (stage_name, probability, rotting) in enumerate(values, start=1):
        session.add(
            Stage(
                pipeline_id=pipeline.id or 0,
                name=stage_name,
                position=position,
                probability=probability,
                rotting_days=rotting,
            )
        )
    record(
        session=session,
        actor=actor,
        action="pipeline.create",
        entity="pipeline",
        entity_id=pipeline.id,
        details={"name": cleaned, "stages": [v[0] for v in values]},
    )
    session.commit()
    return pipeline


def list_pipelines(*, session: Session, actor: Actor) -> list[Pipeline]:
    """Active pipelines, by name."""
    require_reader(actor, what="pipelines")
    return list(
        session.exec(
            select(Pipeline).where(col(Pipeline.is_active)).order_by(col(Pipeline.name))
        ).all()
    )


def list_stages(*, session: Session, pipeline_id: int, actor: Actor) -> list[Stage]:
    """A pipeline's active stages, in order."""
    require_reader(actor, what="pipelines")
    return list(
        session.exec(
            select(Stage)
            .where(Stage.pipeline_id == pipeline_id, col(Stage.is_active))
            .order_by(col(Stage.position), col(Stage.id))
        ).all()
    )


def add_stage(*, session: Session, pipeline_id: int, spec: StageSpec, actor: Actor) -> Stage:
    """Append a stage at the end of a pipeline."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"There is no pipeline {pipeline_id}.")
    _require_configure(session=session, actor=actor, pipeline=pipeline)
    name, probability, rotting = _stage_values(spec)
    taken = session.exec(
        select(Stage.id).where(Stage.pipeline_id == pipeline_id, Stage.name == name)
    ).first()
    if taken is not None:
        raise Conflict(f"Stage name: this pipeline already has a stage called {name}.")
    last = session.exec(
        select(func.max(Stage.position)).where(Stage.pipeline_id == pipeline_id)
    ).one()
    stage = Stage(
        pipeline_id=pipeline_id,
        name=name,
        position=int(last or 0) + 1,
        probability=probability,
        rotting_days=rotting,
        added_at=utcnow(),
    )
    session.add(stage)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="stage.create",
        entity="stage",
        entity_id=stage.id,
        details={"pipeline_id": pipeline_id, "before": None, "after": _stage_state(stage)},
    )
    session.commit()
    return stage


def update_stage(
    *, session: Session, stage_id: int, spec: StageSpec, position: int, actor: Actor
) -> Stage:
    """Change a stage's name, default probability, rotting threshold and order."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    stage, _ = _pipeline_of(session, stage_id)
    save_stages(
        session=session,
        pipeline_id=stage.pipeline_id,
        edits=[StageEdit(stage_id, spec, position)],
        actor=actor,
    )
    return stage


def retire_stage(*, session: Session, stage_id: int, actor: Actor) -> Stage:
    """Hide an empty stage (its history stays); refused while open deals sit in it."""
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    stage, _ = _pipeline_of(session, stage_id)
    spec = StageSpec(stage.name, stage.probability, stage.rotting_days)
    save_stages(
        session=session,
        pipeline_id=stage.pipeline_id,
        edits=[StageEdit(stage_id, spec, stage.position, retire=True)],
        actor=actor,
    )
    return stage


def save_stages(*, session: Session, pipeline_id: int, edits: list[StageEdit], actor: Actor) -> int:
    """Save the stage table of one pipeline in one transaction; returns how many changed.

    Only stages whose values differ are written, each with one audit event holding its
    values before and after; nothing is saved when any row is refused.
    """
    require_role(actor, *CONFIGURERS, doing="configure pipelines")
    pipeline = session.get(Pipeline, pipeline_id)
    if pipeline is None:
        raise NotFound(f"There is no pipeline {pipeline_id}.")
    _require_configure(session=session, actor=actor, pipeline=pipeline)
    stages = {
        s.id: s for s in session.exec(select(Stage).where(Stage.pipeline_id == pipeline_id)).all()
    }
    changes: list[tuple[Stage, dict[str, object], dict[str, object]]] = []
    for edit in edits:
        stage = stages.get(edit.stage_id)
        if stage is None:
            raise NotFound(f"{pipeline.name} has no stage {edit.stage_id}.")
        name, probability, rotting = _stage_values(edit.spec)
        if edit.position < 1:
            raise ValidationError(f"Order of {name}: use 1 or more.", field="position")
        before = _stage_state(stage)
        after = {
            "name": name,
            "probability": probability,
            "rotting_days": rotting,
            "position": edit.position,
            "active": stage.is_active and not edit.retire,
        }
        if after != before:
            changes.append((stage, before, after))
    names = [str(after["name"]).lower() for _, _, after in changes if after["active"]]
    changed_ids = {s.id for s, _, _ in changes}
    names += [s.name.lower() for s in stages.values() if s.is_active and s.id not in changed_ids]
    if len(set(names)) != len(names):
        raise ValidationError("Stage name: each stage needs a different name.", field="name")
    for stage, before, after in changes:
        if before["active"] and not after["active"]:
            open_deals = session.exec(
                select(func.count())
                .select_from(Deal)
                .where(Deal.stage_id == stage.id, Deal.status == "open")
            ).one()
            if open_deals:
                raise Conflict(
                    f"Stage: {open_deals} open deal(s) are in {stage.name}; move them first."
                )
        stage.name = str(after["name"])
        stage.probability = int(str(after["probability"]))
        stage.rotting_days = (
            None if after["rotting_days"] is None else int(str(after["rotting_days"]))
        )
        stage.position = int(str(after["position"]))
        stage.is_active = bool(after["active"])
        session.add(stage)
        changed = {k: v for k, v in after.items() if before[k] != v}
        record(
            session=session,
            actor=actor,
            action="stage.retire"
            if "active" in changed and not after["active"]
            else "stage.update",
            entity="stage",
            entity_id=stage.id,
            details={
                "pipeline_id": pipeline_id,
                "before": {k: before[k] for k in changed},
                "after": changed,
            },
        )
    session.commit()
    return len(changes)


def list_lost_reasons(
    *, session: Session, actor: Actor, include_inactive: bool = False
) -> list[LostReason]:
    """The lost-reason list, by label."""
    require_reader(actor, what="pipelines")
    query = select(LostReason).order_by(col(LostReason.label))
    if not include_inactive:
        query = query.where(col(LostReason.is_active))
    return list(session.exec(query).all())


def add_lost_reason(*, session: Session, label: str, actor: Actor) -> LostReason:
    """Add a reason to the list a lost deal chooses from."""
    require_role(actor, *CONFIGURERS, doing="configure lost reasons")
    cleaned = clean_text(label, field="label", label="Lost reason", max_length=LOST_REASON_MAX)
    if not cleaned:
        raise ValidationError("Lost reason: type the reason.", field="label")
    existing = session.exec(select(LostReason).where(LostReason.label == cleaned)).first()
    if existing is not None:
        if existing.is_active:
            raise Conflict(f"Lost reason: {cleaned} is already on the list.")
        existing.is_active = True
        reason = existing
    else:
        reason = LostReason(label=cleaned)
    session.add(reason)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="lost_reason.add",
        entity="lost_reason",
        entity_id=reason.id,
        details={"label": cleaned},
    )
    session.commit()
    return reason


def retire_lost_reason(*, session: Session, reason_id: int, actor: Actor) -> LostReason:
    """Take a reason off the list (deals that used it keep it)."""
    require_role(actor, *CONFIGURERS, doing="configure lost reasons")
    reason = session.get(LostReason, reason_id)
    if reason is None:
        raise NotFound(f"There is no lost reason {reason_id}.")
    reason.is_active = False
    session.add(reason)
    record(
        session=session,
        actor=actor,
        action="lost_reason.retire",
        entity="lost_reason",
        entity_id=reason_id,
    )
    session.commit()
    return reason
