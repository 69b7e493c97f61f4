"""Deals: list (by cursor), create, read, move, win, and lose with a reason; and the
pipelines, stages and lost reasons a caller needs to name them."""

from decimal import Decimal, InvalidOperation
from typing import Any

from api.http import (
    ApiError,
    Call,
    Reply,
    cursor_id,
    encode_cursor,
    parse,
    path_id,
    query_int,
    require_int,
)
from db.models.pipeline import Deal, DealCreate, DealStatus
from db.pipeline.commands import create_deal, get_deal, lose_deal, move_deal, win_deal
from db.pipeline.queries import DealFilter, deals_after
from db.pipeline.setup import list_lost_reasons, list_pipelines, list_stages

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


def deal_json(deal: Deal) -> dict[str, Any]:
    """A deal as the API returns it."""
    return deal.model_dump()


def _status(call: Call) -> DealStatus | None:
    raw = call.query.get("status")
    if not raw:
        return None
    try:
        return DealStatus(raw)
    except ValueError as err:
        choices = ", ".join(s.value for s in DealStatus)
        raise ApiError(422, f"status: choose one of {choices}.", field="status") from err


def list_deals(call: Call) -> Reply:
    """GET /api/v1/deals: deals you can see, by id, optionally filtered."""
    limit = query_int(call, "limit", default=LIMIT_DEFAULT, high=LIMIT_MAX) or LIMIT_DEFAULT
    flt = DealFilter(
        pipeline_id=query_int(call, "pipeline_id"),
        stage_id=query_int(call, "stage_id"),
        status=_status(call),
    )
    rows = deals_after(
        session=call.session, actor=call.actor, flt=flt, after_id=cursor_id(call), limit=limit + 1
    )
    page = rows[:limit]
    more = len(rows) > limit
    return Reply(
        {
            "items": [row.__dict__ for row in page],
            "next": encode_cursor({"id": page[-1].id}) if more and page else None,
        }
    )


def create(call: Call) -> Reply:
    """POST /api/v1/deals: a new open deal in its pipeline's first stage (or the one given)."""
    deal_in = parse(DealCreate, call.json_object(), required=("title", "pipeline_id"))
    deal = create_deal(session=call.session, deal_in=deal_in, actor=call.actor)
    call.audit["deal_id"] = deal.id
    return Reply(deal_json(deal), 201)


def read(call: Call) -> Reply:
    """GET /api/v1/deals/{id}: one deal you can see."""
    return Reply(deal_json(get_deal(session=call.session, deal_id=path_id(call), actor=call.actor)))


def _only(data: dict[str, Any], *names: str) -> None:
    for name in data:
        if name not in names:
            raise ApiError(422, f"{name}: there is no such field here.", field=name)


def move(call: Call) -> Reply:
    """POST /api/v1/deals/{id}/move: to another stage of its pipeline."""
    data = call.json_object()
    _only(data, "stage_id", "version")
    deal = move_deal(
        session=call.session,
        deal_id=path_id(call),
        stage_id=require_int(data, "stage_id"),
        version=require_int(data, "version"),
        actor=call.actor,
    )
    call.audit["deal_id"] = deal.id
    return Reply(deal_json(deal))


def win(call: Call) -> Reply:
    """POST /api/v1/deals/{id}/win: close as won with its final amount."""
    data = call.json_object()
    _only(data, "amount", "version")
    amount = data.get("amount")
    try:
        final = None if amount is None else Decimal(str(amount))
    except InvalidOperation as err:
        raise ApiError(422, "Amount: give a number such as 12500.00.", field="amount") from err
    deal = win_deal(
        session=call.session,
        deal_id=path_id(call),
        version=require_int(data, "version"),
        amount=final,
        actor=call.actor,
    )
    call.audit["deal_id"] = deal.id
    return Reply(deal_json(deal))


def lose(call: Call) -> Reply:
    """POST /api/v1/deals/{id}/lose: close as lost, with a reason from the list."""
    data = call.json_object()
    _only(data, "lost_reason_id", "note", "version")
    note = data.get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(422, "note: give text.", field="note")
    reason = data.get("lost_reason_id")
    deal = lose_deal(
        session=call.session,
        deal_id=path_id(call),
        version=require_int(data, "version"),
        reason_id=None if reason is None else require_int(data, "lost_reason_id"),
        note=note,
        actor=call.actor,
    )
    call.audit["deal_id"] = deal.id
    return Reply(deal_json(deal))


def pipelines(call: Call) -> Reply:
    """GET /api/v1/pipelines: active pipelines with their stages, and the lost reasons."""
    found = list_pipelines(session=call.session, actor=call.actor)
    return Reply(
        {
            "items": [
                pipeline.model_dump()
                | {
                    "stages": [
                        stage.model_dump()
                        for stage in list_stages(
                            session=call.session, pipeline_id=pipeline.id or 0, actor=call.actor
                        )
                    ]
                }
                for pipeline in found
            ],
            "lost_reasons": [
                reason.model_dump()
                for reason in list_lost_reasons(session=call.session, actor=call.actor)
            ],
        }
    )
