"""Row handler for importing interactions (a contact's timeline)."""

from datetime import UTC, datetime
from typing import Any

from db.auth.visibility import can_change
from db.core.errors import DomainError
from db.core.types import utcnow
from db.imports.kinds import Kind, RowContext, RowError, Touched
from db.imports.rows import PEOPLE_ROLES, existing_contact, parse_date
from db.models.people import (
    Channel,
    Direction,
    Interaction,
    InteractionCreate,
    Purpose,
    Sentiment,
)
from db.people.interactions import INTERACTION_CHECKS

INTERACTION_FIELDS = frozenset(
    {
        "contact_external_ref",
        "contact_email",
        "channel",
        "direction",
        "purpose",
        "subject",
        "body",
        "occurred_at",
        "sentiment",
    }
)


def parse_moment(text: str) -> datetime:
    """A timezone-aware time; a time without a zone is read as UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.combine(parse_date(value), datetime.min.time())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _choice(column: str, enum: Any, value: str | None, default: Any = None) -> Any:
    if not value or not value.strip():
        if default is not None:
            return default
        raise RowError(column, "is required")
    try:
        return enum(value.strip().lower())
    except ValueError as err:
        options = ", ".join(e.value for e in enum)
        raise RowError(column, f"{value!r} is not one of {options}") from err


def handle_interaction(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Add one interaction to a contact found by external reference or email."""
    contact = None
    if raw.get("contact_external_ref"):
        ctx_ref = RowContext(ctx.session, ctx.actor, "external_ref", ctx.row)
        contact = existing_contact(ctx_ref, {"external_ref": raw["contact_external_ref"].strip()})
    elif raw.get("contact_email"):
        ctx_mail = RowContext(ctx.session, ctx.actor, "email", ctx.row)
        contact = existing_contact(ctx_mail, {"email": raw["contact_email"].strip().lower()})
    if contact is None or contact.erased_at is not None:
        raise RowError("contact_external_ref", "no contact with that reference or email")
    if not can_change(session=ctx.session, actor=ctx.actor, owner_id=contact.owner_id):
        raise RowError("contact_external_ref", "that contact belongs to someone you can't change")
    if not raw.get("occurred_at"):
        raise RowError("occurred_at", "is required (when it happened)")
    try:
        occurred = parse_moment(raw["occurred_at"])
    except ValueError as err:
        raise RowError("occurred_at", str(err)) from err
    if occurred > utcnow():
        raise RowError("occurred_at", "is in the future")
    interaction_in = InteractionCreate(
        contact_id=contact.id or 0,
        channel=_choice("channel", Channel, raw.get("channel")),
        direction=_choice("direction", Direction, raw.get("direction"), Direction.inbound),
        purpose=_choice("purpose", Purpose, raw.get("purpose"), Purpose.service),
        subject=(raw.get("subject") or "").strip()[:200],
        body=(raw.get("body") or "")[:20000],
        occurred_at=occurred,
        sentiment=_choice("sentiment", Sentiment, raw.get("sentiment"), Sentiment.neutral),
    )
    for check in INTERACTION_CHECKS:
        try:
            check(ctx.session, contact, interaction_in, ctx.actor)
        except DomainError as err:
            raise RowError("purpose", str(err)) from err
    interaction = Interaction.model_validate(interaction_in.model_dump())
    interaction.user_id = ctx.actor.id
    ctx.session.add(interaction)
    if contact.last_activity_at is None or occurred > contact.last_activity_at:
        contact.last_activity_at = occurred
        ctx.session.add(contact)
    ctx.session.flush()
    return [Touched("interaction", interaction.id or 0, "created")]


INTERACTIONS_KIND = Kind(
    "interactions", INTERACTION_FIELDS, PEOPLE_ROLES, handle_interaction, "timeline"
)
