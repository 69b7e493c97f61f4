"""Pipelines belong to the teams that use them; a stage-table save is audited per stage."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from db.auth.accounts import create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import Forbidden
from db.core.types import utcnow
from db.core.validation import parse_model
from db.demo.fixtures import seed_users
from db.models.audit import AuditEvent
from db.models.auth import Role, User, UserCreate
from db.models.pipeline import Deal, DealCreate, Pipeline, Stage
from db.pipeline.commands import create_deal, move_deal, win_deal
from db.pipeline.forecast import ForecastFilter, conversion_funnel
from db.pipeline.setup import (
    StageEdit,
    StageSpec,
    add_stage,
    configurable_pipelines,
    create_pipeline,
    list_stages,
    save_stages,
    update_stage,
)


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


@pytest.fixture
def south_pipeline(session: Session) -> tuple[Session, Pipeline, list[Stage]]:
    """A pipeline whose only deal belongs to the South seller."""
    seed_users(session=session)
    pipeline = create_pipeline(
        session=session,
        name="South renewals",
        stages=[StageSpec("Lead", 10, 7), StageSpec("Proposal", 60, None)],
        actor=OPERATOR,
    )
    create_deal(
        session=session,
        deal_in=parse_model(
            DealCreate,
            {"title": "Renewal", "pipeline_id": pipeline.id, "amount": Decimal("100")},
            labels={},
        ),
        actor=user(session, "sales2"),
    )
    return (
        session,
        pipeline,
        list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR),
    )


def test_a_manager_of_a_team_that_does_not_use_a_pipeline_cannot_change_its_stages(
    south_pipeline,  # type: ignore[no-untyped-def]
) -> None:
    session, pipeline, stages = south_pipeline
    north_manager = user(session, "manager")
    with pytest.raises(Forbidden, match="South"):
        add_stage(
            session=session,
            pipeline_id=pipeline.id or 0,
            spec=StageSpec("Won?", 90),
            actor=north_manager,
        )
    with pytest.raises(Forbidden):
        update_stage(
            session=session,
            stage_id=stages[0].id or 0,
            spec=StageSpec("Renamed", 10, 7),
            position=1,
            actor=north_manager,
        )
    assert pipeline.id not in {
        p.id for p in configurable_pipelines(session=session, actor=north_manager)
    }
    session.expire_all()
    assert [
        s.name for s in list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR)
    ] == [
        "Lead",
        "Proposal",
    ]


def test_the_manager_of_a_team_that_uses_it_and_an_administrator_can(south_pipeline) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = south_pipeline
    south_manager = create_user(
        session=session,
        user_in=UserCreate(
            username="southlead",
            display_name="Sol South",
            email="sol@example.org",
            team="South",
            password="a long enough passphrase 42",
            roles=[Role.manager],
        ),
        actor=OPERATOR,
    )
    add_stage(
        session=session,
        pipeline_id=pipeline.id or 0,
        spec=StageSpec("Signed", 95),
        actor=south_manager,
    )
    add_stage(
        session=session,
        pipeline_id=pipeline.id or 0,
        spec=StageSpec("Legal", 90),
        actor=user(session, "admin"),
    )
    assert {p.id for p in configurable_pipelines(session=session, actor=south_manager)} >= {
        pipeline.id
    }


def test_one_save_writes_one_audit_event_per_changed_stage_with_before_and_after(
    south_pipeline,
) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = south_pipeline
    lead, proposal = stages
    before = session.exec(select(AuditEvent.id)).all()
    changed = save_stages(
        session=session,
        pipeline_id=pipeline.id or 0,
        edits=[
            StageEdit(lead.id or 0, StageSpec("Lead", 10, 7), 1),
            StageEdit(proposal.id or 0, StageSpec("Proposal", 70, 21), 2),
        ],
        actor=user(session, "admin"),
    )
    assert changed == 1
    events = session.exec(
        select(AuditEvent).where(col(AuditEvent.id).not_in(before)).order_by(col(AuditEvent.id))
    ).all()
    assert [(e.action, e.entity_id) for e in events] == [("stage.update", str(proposal.id))]
    details = json.loads(events[0].details)
    assert details["before"] == {"probability": 60, "rotting_days": None}
    assert details["after"] == {"probability": 70, "rotting_days": 21}


# --- the funnel and stages added later ------------------------------------------------


def test_a_stage_added_later_is_reached_only_by_deals_that_moved_after_it_existed(
    session: Session,
) -> None:
    seed_users(session=session)
    sales = user(session, "sales")
    pipeline = create_pipeline(
        session=session,
        name="Renewals",
        stages=[StageSpec("Lead", 10), StageSpec("Proposal", 50)],
        actor=OPERATOR,
    )
    lead, proposal = list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR)
    earlier = utcnow() - timedelta(days=20)

    def deal(title: str) -> Deal:
        return create_deal(
            session=session,
            deal_in=parse_model(
                DealCreate,
                {"title": title, "pipeline_id": pipeline.id, "amount": Decimal("100")},
                labels={},
            ),
            actor=sales,
            at=earlier,
        )

    won_before = deal("Won before")
    won_before = move_deal(
        session=session,
        deal_id=won_before.id or 0,
        stage_id=proposal.id or 0,
        version=won_before.version,
        actor=sales,
        at=earlier + timedelta(days=1),
    )
    win_deal(
        session=session,
        deal_id=won_before.id or 0,
        version=won_before.version,
        amount=Decimal("100"),
        actor=sales,
        at=earlier + timedelta(days=2),
    )
    moved_before = deal("Moved before")
    move_deal(
        session=session,
        deal_id=moved_before.id or 0,
        stage_id=proposal.id or 0,
        version=moved_before.version,
        actor=sales,
        at=earlier + timedelta(days=1),
    )
    # Today a stage is added between Lead and Proposal (added at the end, then reordered).
    review = add_stage(
        session=session, pipeline_id=pipeline.id or 0, spec=StageSpec("Review", 30), actor=OPERATOR
    )
    save_stages(
        session=session,
        pipeline_id=pipeline.id or 0,
        edits=[
            StageEdit(lead.id or 0, StageSpec("Lead", 10), 1),
            StageEdit(review.id or 0, StageSpec("Review", 30), 2),
            StageEdit(proposal.id or 0, StageSpec("Proposal", 50), 3),
        ],
        actor=OPERATOR,
    )
    moved_after = deal("Moved after")
    move_deal(
        session=session,
        deal_id=moved_after.id or 0,
        stage_id=proposal.id or 0,
        version=moved_after.version,
        actor=sales,
    )
    flt = ForecastFilter(since=(earlier - timedelta(days=1)).date(), until=utcnow().date())
    steps = {
        s.stage: s.reached
        for s in conversion_funnel(
            session=session, actor=sales, flt=flt, pipeline_id=pipeline.id or 0
        )
    }
    # Every deal reached Lead and Proposal; only the one moved today can have passed Review.
    assert steps == {"Lead": 3, "Review": 1, "Proposal": 3, "Won": 1}
