"""Deals, stage history, forecasts and the contact timeline: rules, metrics and access."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.types import utcnow
from db.core.validation import parse_model
from db.demo.fixtures import seed_users
from db.models.auth import User
from db.models.people import (
    Channel,
    ContactCreate,
    Direction,
    InteractionCreate,
    Purpose,
    TaskCreate,
)
from db.models.pipeline import Deal, DealCreate, DealUpdate, Pipeline, Stage, StageChange
from db.people.contacts import create_contact
from db.people.interactions import InteractionFilter, create_task, log_interaction
from db.people.timeline import TIMELINE_SOURCES, recent_on_other_channels, timeline
from db.pipeline.commands import (
    create_deal,
    get_deal,
    lose_deal,
    move_deal,
    reassign_deals,
    reopen_deal,
    update_deal,
    win_deal,
)
from db.pipeline.forecast import (
    ForecastFilter,
    by_close_month,
    conversion_funnel,
    lost_reasons,
    outcomes,
    time_in_stage,
)
from db.pipeline.queries import DealFilter, board, deal_history, find_deals, rotting_deals
from db.pipeline.setup import StageSpec, add_lost_reason, create_pipeline, list_stages

LABELS = {"probability_override": "Probability", "expected_close": "Expected close"}


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


@pytest.fixture
def world(session: Session) -> tuple[Session, Pipeline, list[Stage]]:
    seed_users(session=session)
    pipeline = create_pipeline(
        session=session,
        name="New business",
        stages=[
            StageSpec("Lead", 10, 7),
            StageSpec("Qualified", 40, None),
            StageSpec("Proposal", 60, None),
        ],
        actor=OPERATOR,
    )
    add_lost_reason(session=session, label="Price too high", actor=OPERATOR)
    stages = list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR)
    return session, pipeline, stages


def new_deal(
    session: Session, pipeline: Pipeline, owner: str, *, at: object = None, **values: object
) -> Deal:
    data: dict[str, object] = {
        "title": "Care records",
        "pipeline_id": pipeline.id,
        "amount": Decimal("1000.00"),
    }
    data.update(values)
    return create_deal(
        session=session,
        deal_in=parse_model(DealCreate, data, labels=LABELS),
        actor=user(session, owner),
        at=at,  # type: ignore[arg-type]
    )


def reason_id(session: Session) -> int:
    from db.models.pipeline import LostReason

    found = session.exec(select(LostReason)).first()
    assert found is not None and found.id is not None
    return found.id


# --- creating and validating ------------------------------------------------------


def move(session: Session, deal: Deal, stage_id: int, actor: User, at: datetime) -> Deal:
    """Move `deal` to `stage_id` at `at`, from the version it carries."""
    return move_deal(
        session=session,
        deal_id=deal.id or 0,
        stage_id=stage_id,
        version=deal.version,
        actor=actor,
        at=at,
    )


def test_a_new_deal_starts_in_the_first_stage_with_its_history(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    deal = new_deal(session, pipeline, "sales")
    assert deal.stage_id == stages[0].id
    assert deal.owner_id == user(session, "sales").id
    history = deal_history(session=session, deal_id=deal.id or 0, actor=user(session, "sales"))
    assert [(h.event, h.to_stage) for h in history] == [("created", "Lead")]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"amount": Decimal("-1")}, "Amount:"),
        ({"currency": "XYZ"}, "Currency:"),
        ({"title": "   "}, "Title:"),
        ({"probability_override": 140}, "Probability:"),
        ({"expected_close": date(1900, 1, 1)}, "Expected close:"),
    ],
)
def test_bad_deal_input_is_refused_naming_the_field(world, values, field) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    with pytest.raises(ValidationError) as refused:
        new_deal(session, pipeline, "sales", **values)
    assert str(refused.value).startswith(field)
    assert session.exec(select(Deal)).first() is None


def test_a_won_deal_needs_an_amount_and_a_lost_deal_a_reason(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    sales = user(session, "sales")
    deal = new_deal(session, pipeline, "sales")
    with pytest.raises(ValidationError, match="^Amount:"):
        win_deal(session=session, deal_id=deal.id or 0, version=1, amount=None, actor=sales)
    with pytest.raises(ValidationError, match="^Amount:"):
        win_deal(session=session, deal_id=deal.id or 0, version=1, amount=Decimal(0), actor=sales)
    with pytest.raises(ValidationError, match="^Lost reason:"):
        lose_deal(
            session=session, deal_id=deal.id or 0, version=1, reason_id=None, note="", actor=sales
        )
    lost = lose_deal(
        session=session,
        deal_id=deal.id or 0,
        version=1,
        reason_id=reason_id(session),
        note="Too dear",
        actor=sales,
    )
    assert lost.status == "lost" and lost.closed_at is not None
    with pytest.raises(ValidationError, match="^Stage:"):
        move_deal(
            session=session, deal_id=deal.id or 0, stage_id=1, version=lost.version, actor=sales
        )
    reopened = reopen_deal(session=session, deal_id=deal.id or 0, version=lost.version, actor=sales)
    assert reopened.status == "open" and reopened.lost_reason_id is None


# --- concurrency ------------------------------------------------------------------


def test_the_second_of_two_editors_is_told_who_changed_it_and_loses_nothing(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    deal = new_deal(session, pipeline, "sales")
    opened = deal.version
    update_deal(
        session=session,
        deal_id=deal.id or 0,
        patch=DealUpdate(amount=Decimal("2500")),
        version=opened,
        actor=user(session, "sales"),
    )
    with pytest.raises(Conflict) as conflict:
        move_deal(
            session=session,
            deal_id=deal.id or 0,
            stage_id=stages[2].id or 0,
            version=opened,
            actor=user(session, "manager"),
        )
    assert "changed by Sam Sales at" in str(conflict.value)
    assert "reload" in str(conflict.value)
    session.expire_all()
    saved = session.get(Deal, deal.id)
    assert saved is not None
    assert saved.amount == Decimal("2500.00") and saved.stage_id == stages[0].id
    assert len(session.exec(select(StageChange)).all()) == 1


# --- permissions ------------------------------------------------------------------


def test_sales_read_their_team_but_change_only_their_own(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    managers_deal = new_deal(session, pipeline, "manager")
    sales = user(session, "sales")
    assert get_deal(session=session, deal_id=managers_deal.id or 0, actor=sales).id
    with pytest.raises(Forbidden):
        move_deal(
            session=session,
            deal_id=managers_deal.id or 0,
            stage_id=stages[1].id or 0,
            version=1,
            actor=sales,
        )
    with pytest.raises(Forbidden):
        new_deal(session, pipeline, "sales", owner_id=user(session, "manager").id)


def test_managers_change_their_teams_deals_but_not_another_teams(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    north = new_deal(session, pipeline, "sales")
    south = new_deal(session, pipeline, "sales2")
    manager = user(session, "manager")
    moved = move_deal(
        session=session, deal_id=north.id or 0, stage_id=stages[1].id or 0, version=1, actor=manager
    )
    assert moved.stage_id == stages[1].id
    with pytest.raises(NotFound):
        get_deal(session=session, deal_id=south.id or 0, actor=manager)
    rows, total = find_deals(session=session, actor=manager)
    assert total == 1 and rows[0].id == north.id


def test_another_teams_sales_cannot_see_the_deal_at_all(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    deal = new_deal(session, pipeline, "sales")
    with pytest.raises(NotFound):
        get_deal(session=session, deal_id=deal.id or 0, actor=user(session, "sales2"))
    assert find_deals(session=session, actor=user(session, "sales2"))[1] == 0


def test_admins_see_and_change_everything(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    new_deal(session, pipeline, "sales")
    south = new_deal(session, pipeline, "sales2")
    admin = user(session, "admin")
    assert find_deals(session=session, actor=admin)[1] == 2
    won = win_deal(
        session=session, deal_id=south.id or 0, version=1, amount=Decimal("900"), actor=admin
    )
    assert won.status == "won"


@pytest.mark.parametrize("role", ["reviewer", "hr"])
def test_roles_outside_sales_cannot_read_or_create_deals(world, role: str) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    deal = new_deal(session, pipeline, "sales")
    actor = user(session, role)
    with pytest.raises(Forbidden):
        get_deal(session=session, deal_id=deal.id or 0, actor=actor)
    with pytest.raises(Forbidden):
        find_deals(session=session, actor=actor)
    with pytest.raises(Forbidden):
        new_deal(session, pipeline, role)


def test_privacy_officers_read_deals_but_cannot_change_them(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    deal = new_deal(session, pipeline, "sales")
    privacy = user(session, "privacy")
    assert get_deal(session=session, deal_id=deal.id or 0, actor=privacy).id == deal.id
    with pytest.raises(Forbidden):
        move_deal(
            session=session,
            deal_id=deal.id or 0,
            stage_id=stages[1].id or 0,
            version=1,
            actor=privacy,
        )


@pytest.mark.parametrize("role", ["sales", "reviewer", "privacy"])
def test_only_admins_and_managers_configure_pipelines(world, role: str) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = world
    with pytest.raises(Forbidden):
        create_pipeline(
            session=session, name="Mine", stages=[StageSpec("A", 5)], actor=user(session, role)
        )
    with pytest.raises(Forbidden):
        add_lost_reason(session=session, label="Other", actor=user(session, role))
    made = create_pipeline(
        session=session, name="Team", stages=[StageSpec("A", 5)], actor=user(session, "manager")
    )
    assert made.id


def test_a_manager_reassigns_several_deals_and_sales_cannot_give_theirs_away(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    first = new_deal(session, pipeline, "sales")
    second = new_deal(session, pipeline, "sales")
    manager = user(session, "manager")
    with pytest.raises(Forbidden):
        reassign_deals(
            session=session,
            deal_ids=[first.id or 0],
            owner_id=manager.id or 0,
            actor=user(session, "sales"),
        )
    count = reassign_deals(
        session=session,
        deal_ids=[first.id or 0, second.id or 0],
        owner_id=manager.id or 0,
        actor=manager,
    )
    assert count == 2
    owners = set(session.exec(select(Deal.owner_id)).all())
    assert owners == {manager.id}


# --- history and metrics ----------------------------------------------------------


def test_time_in_stage_and_conversion_handle_backward_moves_and_skips(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    lead, qualified, proposal = (s.id or 0 for s in stages)
    sales = user(session, "sales")
    t0 = utcnow() - timedelta(days=30)
    # A: Lead 2 days → Qualified 1 day → back to Lead 1 day → Proposal 2 days → won.
    a = new_deal(session, pipeline, "sales", at=t0)
    a = move(session, a, qualified, sales, t0 + timedelta(days=2))
    a = move(session, a, lead, sales, t0 + timedelta(days=3))
    a = move(session, a, proposal, sales, t0 + timedelta(days=4))
    win_deal(
        session=session,
        deal_id=a.id or 0,
        version=a.version,
        amount=Decimal("3000"),
        actor=sales,
        at=t0 + timedelta(days=6),
    )
    # B: skips Qualified (Lead 4 days → Proposal 1 day), then lost.
    b = new_deal(session, pipeline, "sales", at=t0)
    b = move(session, b, proposal, sales, t0 + timedelta(days=4))
    lose_deal(
        session=session,
        deal_id=b.id or 0,
        version=b.version,
        reason_id=reason_id(session),
        note=None,
        actor=sales,
        at=t0 + timedelta(days=5),
    )
    # C: Lead 1 day → Qualified 1 day → back to Lead, still open.
    c = new_deal(session, pipeline, "sales", at=t0)
    c = move(session, c, qualified, sales, t0 + timedelta(days=1))
    move(session, c, lead, sales, t0 + timedelta(days=2))

    flt = ForecastFilter(since=(t0 - timedelta(days=1)).date(), until=utcnow().date())
    times = {
        t.stage: t
        for t in time_in_stage(session=session, actor=sales, flt=flt, pipeline_id=pipeline.id or 0)
    }
    # Lead: A 2+1=3 days, B 4 days, C 1 day → 8 / 3 deals.
    assert times["Lead"].deals == 3
    assert times["Lead"].average_days == Decimal("2.7")
    # Qualified: A 1 day, C 1 day.
    assert (times["Qualified"].deals, times["Qualified"].average_days) == (2, Decimal("1.0"))
    # Proposal: A 2 days, B 1 day.
    assert (times["Proposal"].deals, times["Proposal"].average_days) == (2, Decimal("1.5"))

    steps = conversion_funnel(session=session, actor=sales, flt=flt, pipeline_id=pipeline.id or 0)
    # Won A passed every stage; B's furthest is Proposal (Qualified skipped); C's is Qualified.
    assert [(s.stage, s.reached) for s in steps] == [
        ("Lead", 3),
        ("Qualified", 3),
        ("Proposal", 2),
        ("Won", 1),
    ]
    assert steps[1].conversion == Decimal("0.6667")

    result = outcomes(session=session, actor=sales, flt=flt)
    assert (result.won_count, result.lost_count) == (1, 1)
    assert result.win_rate_count == Decimal("0.5000")
    assert result.win_rate_value == Decimal("0.7500")  # 3000 won against 1000 lost
    assert result.average_cycle_days == Decimal("6.00")
    assert result.open_count == 1
    # 1 open × 3000 × 0.5 ÷ 6 days = 250 a day.
    assert result.velocity == Decimal("250.00")
    assert [
        (r.reason, r.deals, r.value) for r in lost_reasons(session=session, actor=sales, flt=flt)
    ] == [("Price too high", 1, Decimal("1000.00"))]


def test_weighted_pipeline_uses_overrides_and_fills_empty_months(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    today = utcnow().date()
    close = (today.replace(day=1) + timedelta(days=70)).replace(day=10)
    new_deal(
        session,
        pipeline,
        "sales",
        expected_close=close,
        amount=Decimal("1000"),
        probability_override=50,
    )
    new_deal(session, pipeline, "sales", expected_close=close, amount=Decimal("2000"))
    new_deal(
        session, pipeline, "sales", expected_close=close, amount=Decimal("999"), currency="EUR"
    )
    won = new_deal(session, pipeline, "sales", expected_close=close, amount=Decimal("400"))
    win_deal(
        session=session,
        deal_id=won.id or 0,
        version=1,
        amount=Decimal("400"),
        actor=user(session, "sales"),
    )
    flt = ForecastFilter(since=today.replace(day=1), until=close)
    months = {
        m.month: m for m in by_close_month(session=session, actor=user(session, "sales"), flt=flt)
    }
    key = f"{close:%Y-%m}"
    # 1000 × 50 % (override) + 2000 × 10 % (Lead's default) = 700; the EUR deal is apart.
    assert months[key].weighted == Decimal("700.00")
    assert months[key].open_amount == Decimal("3000.00")
    assert months[f"{today:%Y-%m}"].won == Decimal("400.00")
    empty = [m for m in months.values() if m.month not in {key, f"{today:%Y-%m}"}]
    assert empty and all(m.weighted == 0 and m.won == 0 for m in empty)


def test_a_period_with_nothing_closed_reports_unknown_rates(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    new_deal(session, pipeline, "sales")
    long_ago = ForecastFilter(since=date(2020, 1, 1), until=date(2020, 12, 31))
    result = outcomes(session=session, actor=user(session, "sales"), flt=long_ago)
    assert result.win_rate_count is None and result.velocity is None
    assert result.average_cycle_days is None


# --- board and rotting ------------------------------------------------------------


def test_idle_deals_rot_on_the_board_until_someone_acts(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    sales = user(session, "sales")
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva"),
        actor=sales,
    )
    stale = new_deal(
        session, pipeline, "sales", at=utcnow() - timedelta(days=10), contact_id=contact.id
    )
    fresh = new_deal(session, pipeline, "sales")
    rotting = rotting_deals(session=session, actor=sales)
    assert [d.id for d in rotting] == [stale.id]
    columns = board(session=session, actor=sales, pipeline_id=pipeline.id or 0)
    lead = columns[0]
    assert lead.count == 2 and lead.totals == {"GBP": Decimal("2000.00")}
    assert {c.id: c.rotting for c in lead.cards} == {stale.id: True, fresh.id: False}
    log_interaction(
        session=session,
        interaction_in=InteractionCreate(
            contact_id=contact.id or 0,
            channel=Channel.phone,
            direction=Direction.outbound,
            purpose=Purpose.sales,
            subject="Catch-up",
            deal_id=stale.id,
        ),
        actor=sales,
    )
    assert rotting_deals(session=session, actor=sales) == []


def test_the_board_filters_by_owner_and_close_period(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    soon = utcnow().date() + timedelta(days=5)
    new_deal(session, pipeline, "sales", expected_close=soon)
    new_deal(session, pipeline, "manager", expected_close=soon + timedelta(days=100))
    manager = user(session, "manager")
    only_soon = board(
        session=session,
        actor=manager,
        pipeline_id=pipeline.id or 0,
        flt=DealFilter(close_until=soon + timedelta(days=30)),
    )
    assert only_soon[0].count == 1
    mine = board(
        session=session,
        actor=manager,
        pipeline_id=pipeline.id or 0,
        flt=DealFilter(owner_id=manager.id),
    )
    assert mine[0].count == 1 and mine[0].cards[0].owner == "Maya Manager"


# --- the contact timeline ---------------------------------------------------------


def test_the_timeline_merges_interactions_deal_changes_and_tasks_newest_first(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, stages = world
    sales = user(session, "sales")
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva"),
        actor=sales,
    )
    now = utcnow()
    for days, channel in ((5, Channel.email), (3, Channel.phone), (1, Channel.sms)):
        log_interaction(
            session=session,
            interaction_in=InteractionCreate(
                contact_id=contact.id or 0,
                channel=channel,
                direction=Direction.inbound,
                purpose=Purpose.service,
                subject=f"{channel} message",
                occurred_at=now - timedelta(days=days),
            ),
            actor=sales,
        )
    deal = new_deal(session, pipeline, "sales", contact_id=contact.id, at=now - timedelta(days=4))
    move(session, deal, stages[1].id or 0, sales, now - timedelta(days=2))
    create_task(
        session=session,
        task_in=TaskCreate(title="Call back", due_on=now.date(), contact_id=contact.id),
        actor=sales,
    )

    items, total = timeline(session=session, contact_id=contact.id or 0, actor=sales)
    assert total == 6
    assert [(i.source, i.kind) for i in items] == [
        ("task", "open"),
        ("interaction", "inbound"),
        ("deal", "moved"),
        ("interaction", "inbound"),
        ("deal", "created"),
        ("interaction", "inbound"),
    ]
    page_two, _ = timeline(
        session=session, contact_id=contact.id or 0, actor=sales, offset=4, limit=4
    )
    assert [i.source for i in page_two] == ["deal", "interaction"]
    phone_only, phone_total = timeline(
        session=session,
        contact_id=contact.id or 0,
        actor=sales,
        flt=InteractionFilter(channels=(Channel.phone,)),
    )
    assert phone_total == 1 and phone_only[0].channel == "phone"
    recent, recent_total = timeline(
        session=session,
        contact_id=contact.id or 0,
        actor=sales,
        flt=InteractionFilter(since=now - timedelta(days=2, hours=12)),
    )
    assert recent_total == 3

    # Another area adds a source as one more function returning the same columns.
    from sqlalchemy import Integer, String, cast, literal
    from sqlalchemy import select as sa_select

    def consent_source(session: Session, contact, actor):  # type: ignore[no-untyped-def]
        return sa_select(
            literal(now).label("at"),
            literal("consent").label("source"),
            literal("granted").label("kind"),
            cast(literal(None), String).label("channel"),
            literal("Newsletter").label("title"),
            literal("email").label("detail"),
            cast(literal(None), Integer).label("ref_id"),
        )

    TIMELINE_SOURCES.append(consent_source)
    try:
        items, total = timeline(session=session, contact_id=contact.id or 0, actor=sales)
    finally:
        TIMELINE_SOURCES.remove(consent_source)
    assert total == 7


def test_before_contacting_someone_the_last_48_hours_on_other_channels_are_shown(world) -> None:  # type: ignore[no-untyped-def]
    session, _, _ = world
    sales = user(session, "sales")
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva"),
        actor=sales,
    )
    now = utcnow()
    for hours, channel in (
        (2, Channel.email),
        (5, Channel.email),
        (30, Channel.sms),
        (10, Channel.phone),
        (60, Channel.chat),
    ):
        log_interaction(
            session=session,
            interaction_in=InteractionCreate(
                contact_id=contact.id or 0,
                channel=channel,
                direction=Direction.inbound,
                purpose=Purpose.service,
                subject="Hello",
                occurred_at=now - timedelta(hours=hours),
            ),
            actor=sales,
        )
    recent = recent_on_other_channels(
        session=session, contact_id=contact.id or 0, actor=sales, channel=Channel.phone
    )
    assert [(r.channel, r.count) for r in recent] == [("email", 2), ("sms", 1)]
    with pytest.raises(NotFound):
        recent_on_other_channels(
            session=session, contact_id=contact.id or 0, actor=user(session, "sales2")
        )


def test_deal_changes_of_an_unreadable_deal_stay_off_the_timeline(world) -> None:  # type: ignore[no-untyped-def]
    session, pipeline, _ = world
    manager = user(session, "manager")
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Bo", family_name="Lind"),
        actor=manager,
    )
    new_deal(session, pipeline, "manager", contact_id=contact.id)
    admin_items, _ = timeline(
        session=session, contact_id=contact.id or 0, actor=user(session, "admin")
    )
    assert [i.source for i in admin_items] == ["deal"]
    assert session.exec(select(StageChange).where(col(StageChange.event) == "created")).all()
