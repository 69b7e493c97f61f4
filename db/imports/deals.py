"""Row handler for importing deals: pipelines and stages by name, owners by email or
username, organisations by name or domain, contacts by email or external reference."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from db.auth.visibility import can_change, can_read
from db.core.types import utcnow
from db.imports.kinds import Kind, RowContext, RowError, Touched
from db.imports.rows import (
    PEOPLE_ROLES,
    organisation_of,
    owner_of,
    parse_date,
    surviving_contact,
)
from db.models.people import Contact
from db.models.pipeline import (
    CURRENCIES,
    Deal,
    DealStatus,
    LostReason,
    Pipeline,
    Stage,
    StageChange,
)
from db.pipeline.summary import apply_deal_delta, facts_of

DEAL_FIELDS = frozenset(
    {
        "external_ref",
        "title",
        "pipeline",
        "stage",
        "status",
        "amount",
        "currency",
        "probability",
        "expected_close",
        "owner",
        "organisation",
        "contact_email",
        "contact_external_ref",
        "source",
        "notes",
        "lost_reason",
    }
)
# Stage names that other systems use for a closed deal (folded: letters and digits only).
WON_NAMES = frozenset({"won", "closedwon"})
LOST_NAMES = frozenset({"lost", "closedlost"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
# Records sharing one email or external reference that are tried in turn for a match.
_MATCH_LIMIT = 50
_TEXT_LIMITS = {"title": 200, "source": 60, "notes": 5000, "external_ref": 100}


def folded(name: str) -> str:
    """A stage or pipeline name reduced to letters and digits: 'Closed Won' -> 'closedwon'."""
    return _NOT_ALNUM.sub("", name.lower())


def _text(raw: dict[str, str], name: str) -> str | None:
    value = re.sub(r"\s+", " ", raw.get(name) or "").strip()
    if not value:
        return None
    if len(value) > _TEXT_LIMITS[name]:
        raise RowError(name, f"is longer than {_TEXT_LIMITS[name]} characters")
    return value


def _pipeline(ctx: RowContext, value: str | None) -> Pipeline:
    key = f"pipeline:{folded(value or '')}"
    if key not in ctx.cache:
        active = list(
            ctx.session.exec(
                select(Pipeline).where(col(Pipeline.is_active)).order_by(col(Pipeline.id))
            ).all()
        )
        if not active:
            raise RowError("pipeline", "there is no active pipeline; create one first")
        wanted = folded(value or "")
        if (
            not wanted
            or wanted in {"default", "salespipeline"}
            and not any(folded(p.name) == wanted for p in active)
        ):
            ctx.cache[key] = active[0]
        else:
            ctx.cache[key] = next((p for p in active if folded(p.name) == wanted), None)
    found: Pipeline | None = ctx.cache[key]
    if found is None:
        raise RowError("pipeline", f"there is no active pipeline named {value!r}")
    return found


def _stages(ctx: RowContext, pipeline_id: int) -> list[Stage]:
    key = f"stages:{pipeline_id}"
    if key not in ctx.cache:
        ctx.cache[key] = list(
            ctx.session.exec(
                select(Stage)
                .where(Stage.pipeline_id == pipeline_id, col(Stage.is_active))
                .order_by(col(Stage.position), col(Stage.id))
            ).all()
        )
    stages: list[Stage] = ctx.cache[key]
    if not stages:
        raise RowError("stage", "the pipeline has no active stage")
    return stages


def _stage(ctx: RowContext, pipeline: Pipeline, value: str | None) -> tuple[Stage, DealStatus]:
    """The stage a row names (by name, any case and spacing) and the status it implies."""
    stages = _stages(ctx, pipeline.id or 0)
    if not value or not value.strip():
        return stages[0], DealStatus.open
    wanted = folded(value)
    for stage in stages:
        if folded(stage.name) == wanted:
            return stage, DealStatus.open
    # "Closed Won" in HubSpot or Salesforce closes the deal in the pipeline's last stage.
    if wanted in WON_NAMES:
        return stages[-1], DealStatus.won
    if wanted in LOST_NAMES:
        return stages[-1], DealStatus.lost
    names = ", ".join(s.name for s in stages)
    raise RowError("stage", f"{value!r} is not a stage of {pipeline.name} (it has {names})")


def _amount(value: str | None) -> Decimal:
    text = (value or "").strip().replace(",", "").replace("£", "").replace("$", "")
    text = text.replace("€", "").strip()
    if not text:
        return Decimal("0.00")
    try:
        amount = Decimal(text)
    except InvalidOperation as err:
        raise RowError("amount", f"{value!r} is not a number") from err
    if not amount.is_finite():
        raise RowError("amount", f"{value!r} is not a number")
    if amount < 0:
        raise RowError("amount", f"{value!r} is negative; an amount is zero or more")
    if amount >= Decimal("1e12"):
        raise RowError("amount", "must be less than 1,000,000,000,000")
    return amount.quantize(Decimal("0.01"))


def _probability(ctx: RowContext, value: str | None) -> int | None:
    text = (value or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        ctx.warn("probability", f"{value!r} is not a percentage; the value was left out")
        return None
    if 0 < number <= 1 and "." in text:
        number *= 100  # a fraction such as 0.4
    if not 0 <= number <= 100:
        ctx.warn("probability", f"{value!r} is not between 0 and 100; the value was left out")
        return None
    return round(number)


def _close_date(ctx: RowContext, value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    try:
        close = parse_date(value)
    except ValueError as err:
        ctx.warn("expected_close", f"{err}; the value was left out")
        return None
    if close.year < 2000:
        ctx.warn("expected_close", f"{close} is before 2000; the value was left out")
        return None
    return close


def _contact_id(ctx: RowContext, raw: dict[str, str]) -> int | None:
    if raw.get("contact_external_ref", "").strip():
        column, condition = (
            "contact_external_ref",
            col(Contact.external_ref) == raw["contact_external_ref"].strip(),
        )
    elif raw.get("contact_email", "").strip():
        column, condition = (
            "contact_email",
            col(Contact.email) == raw["contact_email"].strip().lower(),
        )
    else:
        return None
    contact = _readable_contact(ctx, condition)
    if contact is None:
        # One wording for "no such contact", "erased" and "someone else's", so the
        # warning never tells whether an email exists outside what the importer sees.
        ctx.warn(column, "no contact with that reference or email; the deal is left unlinked")
        return None
    return contact.id


def _readable_contact(ctx: RowContext, condition: Any) -> Contact | None:
    """The first live contact matching `condition` (merges resolved) the importer may read."""
    candidates = ctx.session.exec(
        select(Contact)
        .where(condition)
        .order_by(col(Contact.merged_into_id).is_not(None), col(Contact.id))
        .limit(_MATCH_LIMIT)
    ).all()
    for candidate in candidates:
        contact = surviving_contact(ctx.session, candidate)
        if (
            contact is not None
            and contact.erased_at is None
            and can_read(session=ctx.session, actor=ctx.actor, owner_id=contact.owner_id)
        ):
            return contact
    return None


def _lost_reason(ctx: RowContext, value: str | None) -> int | None:
    if not value or not value.strip():
        return None
    reason = ctx.session.exec(
        select(LostReason).where(func.lower(LostReason.label) == value.strip().lower())
    ).first()
    if reason is None:
        ctx.warn("lost_reason", f"no lost reason {value!r}; the value was left out")
        return None
    return reason.id


def existing_deal(ctx: RowContext, external_ref: str | None) -> Deal | None:
    """The deal a row updates: matched by the source system's id, never by title."""
    if ctx.update_by == "none" or not external_ref:
        return None
    # Only a deal the importer may read is matched: one outside what they see is as if
    # it did not exist, so the answer never tells that it does.
    for deal in ctx.session.exec(
        select(Deal)
        .where(Deal.external_ref == external_ref)
        .order_by(col(Deal.id))
        .limit(_MATCH_LIMIT)
    ).all():
        if can_read(session=ctx.session, actor=ctx.actor, owner_id=deal.owner_id):
            return deal
    return None


def deal_values(ctx: RowContext, raw: dict[str, str]) -> dict[str, Any]:
    """Validated deal fields from one row (required ones reject it, optional ones warn)."""
    title = _text(raw, "title")
    if not title:
        raise RowError("title", "a deal needs a title (its name)")
    pipeline = _pipeline(ctx, raw.get("pipeline"))
    status_text = folded(raw.get("status") or "")
    stage, status = _stage(ctx, pipeline, raw.get("stage"))
    if status_text in WON_NAMES | LOST_NAMES | {"open"}:
        status = DealStatus(
            "won" if status_text in WON_NAMES else "lost" if status_text in LOST_NAMES else "open"
        )
    elif status_text:
        raise RowError("status", f"{raw['status']!r} is not one of open, won, lost")
    values: dict[str, Any] = {
        "title": title,
        "pipeline_id": pipeline.id,
        "stage_id": stage.id,
        "status": status,
        "external_ref": _text(raw, "external_ref"),
    }
    if "amount" in raw:
        values["amount"] = _amount(raw["amount"])
    if status == DealStatus.won and values.get("amount", Decimal(0)) == 0:
        raise RowError("amount", "a won deal needs an amount above zero")
    currency = (raw.get("currency") or "").strip().upper()
    if currency and currency not in CURRENCIES:
        ctx.warn("currency", f"{currency!r} is not one of {', '.join(CURRENCIES)}; left out")
        currency = ""
    values["currency"] = currency or None
    if "probability" in raw:
        values["probability_override"] = _probability(ctx, raw["probability"])
    if "expected_close" in raw:
        values["expected_close"] = _close_date(ctx, raw["expected_close"])
    for name in ("source", "notes"):
        if name in raw:
            values[name] = _text(raw, name)
    contact_id = _contact_id(ctx, raw)
    if contact_id is not None:
        values["contact_id"] = contact_id
    if status == DealStatus.lost and "lost_reason" in raw:
        values["lost_reason_id"] = _lost_reason(ctx, raw["lost_reason"])
    return values


def pipeline_currency(ctx: RowContext, pipeline_id: int) -> str:
    """The currency of a pipeline (a new deal without one takes it)."""
    pipeline = ctx.session.get(Pipeline, pipeline_id)
    return pipeline.currency if pipeline else "GBP"


def _closed_at(values: dict[str, Any]) -> datetime:
    close = values.get("expected_close")
    now = utcnow()
    if isinstance(close, date):
        moment = datetime.combine(close, datetime.min.time(), tzinfo=now.tzinfo)
        if moment <= now:
            return moment
    return now


def handle_deal(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Create or update one deal (matched by external reference) from a row."""
    values = deal_values(ctx, raw)
    existing = existing_deal(ctx, values["external_ref"])
    owner_id = owner_of(ctx, raw.get("owner")) if "owner" in raw or existing is None else None
    if existing is None and owner_id is None:
        raise RowError("owner", "a deal needs an owner: give a user's email or username")
    org_id = organisation_of(ctx, raw.get("organisation"), owner_id or ctx.actor.id)
    if org_id is not None:
        values["organisation_id"] = org_id
    touched = [Touched("organisation", i, "created") for i in ctx.cache.pop("created_orgs", [])]
    now = utcnow()
    if existing is not None:
        if not (raw.get("stage") or "").strip():
            # A file without a stage leaves an existing deal where it is.
            values["stage_id"] = existing.stage_id
            if not (raw.get("status") or "").strip():
                values.pop("status")
        return touched + _update(ctx, existing, values, owner_id, now)
    if not can_change(session=ctx.session, actor=ctx.actor, owner_id=owner_id):
        raise RowError("owner", "you can't create deals for that owner")
    values["owner_id"] = owner_id
    values["currency"] = values["currency"] or pipeline_currency(ctx, values["pipeline_id"])
    if values["status"] != DealStatus.open:
        values["closed_at"] = _closed_at(values)
    deal = Deal.model_validate(
        {
            **{k: v for k, v in values.items() if v is not None},
            "stage_entered_at": now,
            "last_activity_at": now,
            "created_at": now,
            "updated_at": now,
            "updated_by_id": ctx.actor.id,
        }
    )
    ctx.session.add(deal)
    ctx.session.flush()
    apply_deal_delta(ctx.session, None, facts_of(deal))
    history = [_change(ctx, deal.id or 0, "created", None, deal.stage_id, now)]
    if deal.status != DealStatus.open:
        history.append(_change(ctx, deal.id or 0, deal.status.value, None, deal.stage_id, now))
    return [*touched, Touched("deal", deal.id or 0, "created"), *history]


def _change(
    ctx: RowContext, deal_id: int, event: str, from_stage: int | None, to_stage: int, at: datetime
) -> Touched:
    change = StageChange(
        deal_id=deal_id,
        event=event,
        from_stage_id=from_stage,
        to_stage_id=to_stage,
        changed_at=at,
        changed_by_id=ctx.actor.id,
    )
    ctx.session.add(change)
    ctx.session.flush()
    return Touched("stage_change", change.id or 0, "created")


def _update(
    ctx: RowContext, deal: Deal, values: dict[str, Any], owner_id: int | None, now: datetime
) -> list[Touched]:
    if not can_change(session=ctx.session, actor=ctx.actor, owner_id=deal.owner_id):
        raise RowError("owner", "the existing deal belongs to someone you can't change")
    if owner_id is not None:
        if not can_change(session=ctx.session, actor=ctx.actor, owner_id=owner_id):
            raise RowError("owner", "you can't give deals to that owner")
        values["owner_id"] = owner_id
    if deal.pipeline_id != values["pipeline_id"]:
        raise RowError("pipeline", "an imported deal cannot move to another pipeline")
    changes = {
        k: v
        for k, v in values.items()
        if v is not None and k != "pipeline_id" and getattr(deal, k) != v
    }
    if not changes:
        return []
    history: list[Touched] = []
    if "stage_id" in changes or "status" in changes:
        event = "moved"
        if changes.get("status") in (DealStatus.won, DealStatus.lost):
            event = changes["status"].value
            changes["closed_at"] = _closed_at(values)
        elif changes.get("status") == DealStatus.open:
            event = "reopened"
            changes["closed_at"] = None
        changes["stage_entered_at"] = now
        history.append(
            _change(
                ctx,
                deal.id or 0,
                event,
                deal.stage_id,
                changes.get("stage_id", deal.stage_id),
                now,
            )
        )
    before = {k: getattr(deal, k) for k in changes}
    facts_before = facts_of(deal)
    deal.sqlmodel_update(changes)
    deal.version += 1
    deal.updated_at = now
    deal.updated_by_id = ctx.actor.id
    deal.last_activity_at = now
    ctx.session.add(deal)
    ctx.session.flush()
    apply_deal_delta(ctx.session, facts_before, facts_of(deal))
    return [Touched("deal", deal.id or 0, "updated", before, deal.version), *history]


DEALS_KIND = Kind("deals", DEAL_FIELDS, PEOPLE_ROLES, handle_deal, "pipeline")
