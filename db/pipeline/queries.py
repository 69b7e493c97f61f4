"""Reading deals: the filtered list, the board, rotting deals and a deal's history."""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.visibility import can_change, can_read, owner_filter, require_writer
from db.core.errors import ValidationError
from db.core.normalise import search_text
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import Contact, Interaction, Organisation, Task
from db.models.pipeline import Deal, DealStatus, LostReason, Pipeline, Stage, StageChange
from db.pipeline.commands import get_deal
from db.pipeline.setup import list_pipelines

PAGE_SIZE_MAX = 500
SORTS: dict[str, Any] = {
    "updated": col(Deal.updated_at).desc(),
    "close": col(Deal.expected_close),
    "amount": col(Deal.amount).desc(),
    "title": col(Deal.title),
    "created": col(Deal.created_at).desc(),
}


@dataclass(frozen=True)
class DealFilter:
    """What deal lists and the board filter by; empty means no filter."""

    pipeline_id: int | None = None
    stage_id: int | None = None
    status: DealStatus | None = None
    owner_id: int | None = None
    team: str | None = None
    query: str = ""
    close_from: date | None = None
    close_until: date | None = None
    # Only open deals idle past their stage's threshold (Home's "see all").
    rotting: bool = False
    organisation_id: int | None = None


@dataclass(frozen=True)
class DealRow:
    """A deal as lists and cards show it."""

    id: int
    title: str
    organisation: str | None
    stage: str
    stage_id: int
    owner: str
    owner_id: int
    amount: Decimal
    currency: str
    probability: int
    expected_close: date | None
    status: str
    created_at: datetime
    last_activity_at: datetime
    rotting: bool
    version: int
    # Whether the reader may change the deal (move, win, lose); lists that do not ask say True.
    changeable: bool = True


def rotting_condition(session: Session, now: datetime | None = None) -> Any:
    """SQL: an open deal idle for longer than its stage's rotting threshold."""
    now = now or utcnow()
    stages = session.execute(
        sa_select(col(Stage.id), col(Stage.rotting_days)).where(
            col(Stage.rotting_days).is_not(None)
        )
    ).all()
    # One clause per stage keeps the comparison index-friendly on both databases;
    # there are only a few dozen stages.
    clauses = [
        and_(
            col(Deal.stage_id) == stage_id,
            col(Deal.last_activity_at) < now - timedelta(days=int(days or 0)),
        )
        for stage_id, days in stages
    ]
    if not clauses:
        return false()
    return and_(col(Deal.status) == DealStatus.open, or_(*clauses))


def _conditions(actor: Actor, flt: DealFilter) -> list[Any]:
    if flt.close_from and flt.close_until and flt.close_from > flt.close_until:
        raise ValidationError("Close period: the start must be before the end.", field="close")
    conditions: list[Any] = []
    scope = owner_filter(actor, Deal.owner_id)
    if scope is not None:
        conditions.append(scope)
    if flt.pipeline_id:
        conditions.append(col(Deal.pipeline_id) == flt.pipeline_id)
    if flt.stage_id:
        conditions.append(col(Deal.stage_id) == flt.stage_id)
    if flt.status:
        conditions.append(col(Deal.status) == flt.status)
    if flt.owner_id:
        conditions.append(col(Deal.owner_id) == flt.owner_id)
    if flt.organisation_id:
        conditions.append(col(Deal.organisation_id) == flt.organisation_id)
    if flt.team:
        conditions.append(col(Deal.owner_id).in_(select(User.id).where(User.team == flt.team)))
    query = search_text(flt.query)
    if query:
        conditions.append(func.lower(Deal.title).like(f"%{query.lower()}%"))
    if flt.close_from:
        conditions.append(col(Deal.expected_close) >= flt.close_from)
    if flt.close_until:
        conditions.append(col(Deal.expected_close) <= flt.close_until)
    return conditions


def _row_query(session: Session, rotting: Any) -> Any:
    return (
        sa_select(
            Deal,
            col(Stage.name),
            col(Stage.probability),
            col(User.display_name),
            col(Organisation.name),
            rotting.label("rotting"),
        )
        .join(Stage, col(Stage.id) == col(Deal.stage_id))
        .join(User, col(User.id) == col(Deal.owner_id))
        .outerjoin(Organisation, col(Organisation.id) == col(Deal.organisation_id))
    )


def _rows(result: Any) -> list[DealRow]:
    rows = []
    for deal, stage, stage_probability, owner, organisation, rotting in result:
        probability = (
            deal.probability_override
            if deal.probability_override is not None
            else stage_probability
        )
        rows.append(
            DealRow(
                id=deal.id,
                title=deal.title,
                organisation=organisation,
                stage=stage,
                stage_id=deal.stage_id,
                owner=owner,
                owner_id=deal.owner_id,
                amount=deal.amount,
                currency=deal.currency,
                probability=int(probability),
                expected_close=deal.expected_close,
                status=str(deal.status),
                created_at=deal.created_at,
                last_activity_at=deal.last_activity_at,
                rotting=bool(rotting),
                version=deal.version,
            )
        )
    return rows


def find_deals(
    *,
    session: Session,
    actor: Actor,
    flt: DealFilter = DealFilter(),
    sort: str = "updated",
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[DealRow], int]:
    """A page of deals the actor may read, sorted in SQL, and the total."""
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    if sort not in SORTS:
        raise ValidationError(f"Sort: use one of {', '.join(SORTS)}.", field="sort")
    conditions = _conditions(actor, flt)
    if flt.rotting:
        conditions.append(rotting_condition(session))
    total = session.exec(select(func.count()).select_from(Deal).where(*conditions)).one()
    order = (SORTS[sort], col(Deal.id).desc())
    # Pick the page's ids from the deal table alone (walking the sort column's index),
    # then join names onto those 50 rows only.
    page_ids = (
        sa_select(col(Deal.id))
        .where(*conditions)
        .order_by(*order)
        .offset(max(offset, 0))
        .limit(limit)
        .subquery()
    )
    query = (
        _row_query(session, rotting_condition(session))
        .join(page_ids, page_ids.c.id == col(Deal.id))
        .order_by(*order)
    )
    return _rows(session.execute(query).all()), int(total)


@dataclass(frozen=True)
class BoardColumn:
    """A stage on the board: how many open deals, their totals and weighted totals by
    currency (each deal at its own probability), the first cards."""

    stage: Stage
    count: int
    totals: dict[str, Decimal]
    cards: list[DealRow]
    weighted: dict[str, Decimal] = field(default_factory=dict)


def board(
    *,
    session: Session,
    actor: Actor,
    pipeline_id: int,
    flt: DealFilter = DealFilter(),
    per_stage: int = 20,
) -> list[BoardColumn]:
    """Open deals of a pipeline by stage: counts and totals in SQL, a few cards each."""
    flt = DealFilter(
        pipeline_id=pipeline_id,
        status=DealStatus.open,
        owner_id=flt.owner_id,
        team=flt.team,
        query=flt.query,
        close_from=flt.close_from,
        close_until=flt.close_until,
    )
    conditions = _conditions(actor, flt)
    stages = session.exec(
        select(Stage)
        .where(Stage.pipeline_id == pipeline_id, col(Stage.is_active))
        .order_by(col(Stage.position), col(Stage.id))
    ).all()
    counts: dict[int, int] = {}
    totals: dict[int, dict[str, Decimal]] = {}
    weighted: dict[int, dict[str, Decimal]] = {}
    cent = Decimal("0.01")
    probability = func.coalesce(col(Deal.probability_override), col(Stage.probability))
    for stage_id, currency, count, total, weighted_total in session.execute(
        sa_select(
            col(Deal.stage_id),
            col(Deal.currency),
            func.count(),
            func.sum(col(Deal.amount)),
            func.sum(col(Deal.amount) * probability),
        )
        .join(Stage, col(Stage.id) == col(Deal.stage_id))
        .where(*conditions)
        .group_by(col(Deal.stage_id), col(Deal.currency))
    ).all():
        counts[stage_id] = counts.get(stage_id, 0) + int(count)
        totals.setdefault(stage_id, {})[currency] = Decimal(str(total or 0)).quantize(cent)
        weighted.setdefault(stage_id, {})[currency] = (
            Decimal(str(weighted_total or 0)) / 100
        ).quantize(cent)
    changeable: dict[int, bool] = {}

    def may_change(owner_id: int) -> bool:
        if owner_id not in changeable:
            changeable[owner_id] = can_change(session=session, actor=actor, owner_id=owner_id)
        return changeable[owner_id]

    rotting = rotting_condition(session)
    columns = []
    for stage in stages:
        order = (col(Deal.expected_close), col(Deal.id))
        card_ids = (
            sa_select(col(Deal.id))
            .where(*conditions, col(Deal.stage_id) == stage.id)
            .order_by(*order)
            .limit(per_stage)
            .subquery()
        )
        cards = [
            replace(card, changeable=may_change(card.owner_id))
            for card in _rows(
                session.execute(
                    _row_query(session, rotting)
                    .join(card_ids, card_ids.c.id == col(Deal.id))
                    .order_by(*order)
                ).all()
            )
        ]
        key = stage.id or 0
        columns.append(
            BoardColumn(
                stage=stage,
                count=counts.get(key, 0),
                totals=totals.get(key, {}),
                cards=cards,
                weighted=weighted.get(key, {}),
            )
        )
    return columns


def _rotting_conditions(session: Session, actor: Actor, mine_only: bool) -> list[Any]:
    conditions = _conditions(actor, DealFilter(status=DealStatus.open))
    if mine_only:
        conditions.append(col(Deal.owner_id) == actor.id)
    conditions.append(rotting_condition(session))
    return conditions


def rotting_deals(
    *, session: Session, actor: Actor, mine_only: bool = True, limit: int = 20
) -> list[DealRow]:
    """Rotting deals: the actor's own, or all the actor may read; stalest first."""
    rotting = rotting_condition(session)
    query = (
        _row_query(session, rotting)
        .where(*_rotting_conditions(session, actor, mine_only))
        .order_by(col(Deal.last_activity_at))
        .limit(limit)
    )
    return _rows(session.execute(query).all())


def count_rotting_deals(*, session: Session, actor: Actor, mine_only: bool = True) -> int:
    """How many deals `rotting_deals` would list without a limit."""
    conditions = _rotting_conditions(session, actor, mine_only)
    return int(session.exec(select(func.count()).select_from(Deal).where(*conditions)).one())


@dataclass(frozen=True)
class HistoryRow:
    """One stage-history entry, with names resolved."""

    changed_at: datetime
    event: str
    from_stage: str | None
    to_stage: str
    days_in_from: float | None
    by: str | None


def deal_history(*, session: Session, deal_id: int, actor: Actor) -> list[HistoryRow]:
    """A deal's stage history, newest first."""
    get_deal(session=session, deal_id=deal_id, actor=actor)
    from_stage = aliased(Stage)
    to_stage = aliased(Stage)
    rows = session.execute(
        sa_select(StageChange, col(from_stage.name), col(to_stage.name), col(User.display_name))
        .join(to_stage, col(to_stage.id) == col(StageChange.to_stage_id))
        .outerjoin(from_stage, col(from_stage.id) == col(StageChange.from_stage_id))
        .outerjoin(User, col(User.id) == col(StageChange.changed_by_id))
        .where(col(StageChange.deal_id) == deal_id)
        .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
    ).all()
    return [
        HistoryRow(
            changed_at=change.changed_at,
            event=change.event,
            from_stage=from_name,
            to_stage=to_name,
            days_in_from=None
            if change.seconds_in_from is None
            else round(change.seconds_in_from / 86400, 1),
            by=by,
        )
        for change, from_name, to_name, by in rows
    ]


def deal_interactions(
    *, session: Session, deal_id: int, actor: Actor, limit: int = 50
) -> list[Interaction]:
    """The latest interactions logged against a deal."""
    get_deal(session=session, deal_id=deal_id, actor=actor)
    return list(
        session.exec(
            select(Interaction)
            .where(Interaction.deal_id == deal_id)
            .order_by(col(Interaction.occurred_at).desc())
            .limit(limit)
        ).all()
    )


def deal_tasks(*, session: Session, deal_id: int, actor: Actor, limit: int = 50) -> list[Task]:
    """A deal's tasks, open ones first, soonest due first."""
    get_deal(session=session, deal_id=deal_id, actor=actor)
    return list(
        session.exec(
            select(Task)
            .where(Task.deal_id == deal_id)
            .order_by(col(Task.done_at).is_not(None), col(Task.due_on))
            .limit(limit)
        ).all()
    )


def lost_reason_label(*, session: Session, reason_id: int | None) -> str | None:
    """The label of a lost reason, or None."""
    reason = session.get(LostReason, reason_id) if reason_id else None
    return reason.label if reason else None


def assignable_owners(*, session: Session, actor: Actor) -> list[User]:
    """Active users the actor could give a deal to (sales: themselves)."""
    require_writer(actor, what="deal owners")
    users = session.exec(
        select(User).where(col(User.is_active)).order_by(col(User.display_name))
    ).all()
    return [
        u
        for u in users
        if u.has_any(frozenset({"sales", "manager"}))  # type: ignore[arg-type]
        and can_change(session=session, actor=actor, owner_id=u.id)
    ]


@dataclass(frozen=True)
class PipelineChoices:
    """What the pipeline pages' filters offer this actor."""

    pipelines: list[Pipeline]
    owners: list[User]

    @property
    def teams(self) -> list[str]:
        """The teams of the owners on offer, sorted."""
        return sorted({u.team for u in self.owners if u.team})


def pipeline_choices(*, session: Session, actor: Actor) -> PipelineChoices:
    """The pipelines the actor sees and the owners they may filter and assign by."""
    return PipelineChoices(
        list_pipelines(session=session, actor=actor),
        assignable_owners(session=session, actor=actor),
    )


def deals_after(
    *,
    session: Session,
    actor: Actor,
    flt: DealFilter = DealFilter(),
    after_id: int = 0,
    limit: int = 50,
) -> list[DealRow]:
    """Deals the actor may read with ids above `after_id`, in id order (a cursor's page)."""
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    conditions = [*_conditions(actor, flt), col(Deal.id) > after_id]
    query = (
        _row_query(session, rotting_condition(session))
        .where(*conditions)
        .order_by(col(Deal.id))
        .limit(limit)
    )
    return _rows(session.execute(query).all())


@dataclass(frozen=True)
class DealParties:
    """Who and what a deal is about, as its page names them, and what the reader may do."""

    owner: str
    organisation_id: int | None
    organisation: str | None
    contact_id: int | None
    contact: str | None
    may_change: bool


def deal_parties(*, session: Session, deal_id: int, actor: Actor) -> DealParties:
    """The deal's owner, organisation and contact by name (those the reader may see)."""
    deal = get_deal(session=session, deal_id=deal_id, actor=actor)
    owner = session.get(User, deal.owner_id)
    organisation = session.get(Organisation, deal.organisation_id) if deal.organisation_id else None
    if organisation is not None and not can_read(
        session=session, actor=actor, owner_id=organisation.owner_id
    ):
        organisation = None
    contact = session.get(Contact, deal.contact_id) if deal.contact_id else None
    if contact is not None and (
        contact.merged_into_id is not None
        or not can_read(session=session, actor=actor, owner_id=contact.owner_id)
    ):
        contact = None
    return DealParties(
        owner=owner.display_name if owner else "(no owner)",
        organisation_id=organisation.id if organisation else None,
        organisation=organisation.name if organisation else None,
        contact_id=contact.id if contact else None,
        contact=(contact.full_name or "(no name)") if contact else None,
        may_change=can_change(session=session, actor=actor, owner_id=deal.owner_id),
    )


def search_deals(*, session: Session, actor: Actor, query: str, limit: int = 8) -> list[DealRow]:
    """Deals the actor may read whose title contains the text or whose reference is it,
    open ones first."""
    if not 1 <= limit <= 50:
        raise ValidationError("Results: ask for 1 to 50 deals.", field="limit")
    text = search_text(query)
    if not text:
        return []
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = _conditions(actor, DealFilter())
    conditions.append(
        or_(
            func.lower(Deal.title).like(pattern, escape="\\"),
            col(Deal.external_ref) == text,
        )
    )
    order = (col(Deal.status) != DealStatus.open, col(Deal.updated_at).desc(), col(Deal.id))
    query_ = (
        _row_query(session, rotting_condition(session))
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    )
    return _rows(session.execute(query_).all())
