"""Contacts: find by email, phone or reference (a page at a time, by cursor), create,
read, update with the pages' validation and optimistic locking, and their timeline."""

from datetime import datetime
from typing import Any

from api.http import (
    ApiError,
    Call,
    Reply,
    bad_cursor,
    cursor_id,
    decode_cursor,
    encode_cursor,
    parse,
    path_id,
    query_int,
    require_int,
)
from db.models.people import Contact, ContactCreate, ContactUpdate, Interaction
from db.people.contacts import contacts_after, create_contact, get_contact, tags_of, update_contact
from db.people.interactions import interactions_before

LIMIT_DEFAULT = 50
LIMIT_MAX = 200


def contact_json(contact: Contact, tags: list[str] | None = None) -> dict[str, Any]:
    """A contact as the API returns it."""
    data = contact.model_dump()
    data["full_name"] = contact.full_name
    if tags is not None:
        data["tags"] = tags
    return data


def interaction_json(interaction: Interaction) -> dict[str, Any]:
    """An interaction as the API returns it."""
    return interaction.model_dump()


def list_contacts(call: Call) -> Reply:
    """GET /api/v1/contacts: contacts you can see, by id, filtered exactly."""
    limit = query_int(call, "limit", default=LIMIT_DEFAULT, high=LIMIT_MAX) or LIMIT_DEFAULT
    after = cursor_id(call)
    rows = contacts_after(
        session=call.session,
        actor=call.actor,
        email=call.query.get("email"),
        phone=call.query.get("phone"),
        ref=call.query.get("ref"),
        after_id=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    more = len(rows) > limit
    return Reply(
        {
            "items": [contact_json(c) for c in page],
            "next": encode_cursor({"id": page[-1].id}) if more and page else None,
        }
    )


def create(call: Call) -> Reply:
    """POST /api/v1/contacts: a new contact, owned by the token's user unless told."""
    contact_in = parse(ContactCreate, call.json_object())
    contact = create_contact(session=call.session, contact_in=contact_in, actor=call.actor)
    call.audit["contact_id"] = contact.id
    return Reply(
        contact_json(contact, tags_of(session=call.session, contact_id=contact.id or 0)), 201
    )


def read(call: Call) -> Reply:
    """GET /api/v1/contacts/{id}: one contact you can see."""
    contact = get_contact(session=call.session, contact_id=path_id(call), actor=call.actor)
    return Reply(contact_json(contact, tags_of(session=call.session, contact_id=contact.id or 0)))


def update(call: Call) -> Reply:
    """PATCH /api/v1/contacts/{id}: change the fields sent; `version` must be current."""
    data = dict(call.json_object())
    if "version" not in data:
        raise ApiError(
            422, "version: send the version you read, so nobody's change is lost.", field="version"
        )
    version = require_int(data, "version")
    del data["version"]
    patch = parse(ContactUpdate, data)
    contact = update_contact(
        session=call.session,
        contact_id=path_id(call),
        patch=patch,
        version=version,
        actor=call.actor,
    )
    call.audit["contact_id"] = contact.id
    return Reply(contact_json(contact, tags_of(session=call.session, contact_id=contact.id or 0)))


def timeline(call: Call) -> Reply:
    """GET /api/v1/contacts/{id}/interactions: newest first, a page at a time."""
    limit = query_int(call, "limit", default=LIMIT_DEFAULT, high=LIMIT_MAX) or LIMIT_DEFAULT
    position = decode_cursor(call.query.get("cursor"))
    before = None
    if position is not None:
        before = _position(position)
    rows = interactions_before(
        session=call.session,
        contact_id=path_id(call),
        actor=call.actor,
        before=before,
        limit=limit + 1,
    )
    page = rows[:limit]
    more = len(rows) > limit
    last = page[-1] if page else None
    return Reply(
        {
            "items": [interaction_json(i) for i in page],
            "next": (
                encode_cursor({"at": last.occurred_at, "id": last.id}) if more and last else None
            ),
        }
    )


def _position(position: dict[str, Any]) -> tuple[datetime, int]:
    try:
        at = datetime.fromisoformat(str(position["at"]))
        last = position["id"]
    except (KeyError, TypeError, ValueError) as err:
        raise bad_cursor() from err
    if at.tzinfo is None or isinstance(last, bool) or not isinstance(last, int):
        raise bad_cursor()
    return at, last
