"""Consent: record a grant, withdrawal or objection with its evidence, and ask "may I
send purpose X on channel Y to this person now?"."""

from typing import Any

from api.http import ApiError, Call, Reply, parse, query_int
from db.consent.may_send import may_send, purpose_by_code
from db.consent.records import latest_notice, list_purposes, record_consent
from db.models.consent import ConsentChannel, ConsentEvent, ConsentEventCreate

EVENT_FIELDS = {*ConsentEventCreate.model_fields, "purpose"} - {"purpose_id"}


def event_json(event: ConsentEvent) -> dict[str, Any]:
    """A ledger event as the API returns it (its chain hashes left out)."""
    return event.model_dump(exclude={"prev_hash", "hash", "evidence_digest"})


def record(call: Call) -> Reply:
    """POST /api/v1/consent/events: append one event to the person's ledger."""
    data = dict(call.json_object())
    code = data.pop("purpose", None)
    if not isinstance(code, str) or not code.strip():
        raise ApiError(422, "purpose: give the purpose's code, e.g. marketing.", field="purpose")
    purpose = purpose_by_code(session=call.session, code=code)
    if purpose is None:
        raise ApiError(422, f"purpose: there is no purpose {code.strip()!r}.", field="purpose")
    for name in data:
        if name not in EVENT_FIELDS:
            raise ApiError(422, f"{name}: there is no such field here.", field=name)
    event_in = parse(
        ConsentEventCreate,
        data | {"purpose_id": purpose.id},
        required=("contact_id", "channel", "action", "source", "occurred_at"),
    )
    event = record_consent(session=call.session, event_in=event_in, actor=call.actor)
    call.audit.update(consent_event_id=event.id, contact_id=event.contact_id)
    return Reply(event_json(event) | {"purpose": purpose.code}, 201)


def check(call: Call) -> Reply:
    """GET /api/v1/consent/check?contact_id=&purpose=&channel=: may this be sent now?"""
    contact_id = query_int(call, "contact_id")
    if contact_id is None:
        raise ApiError(422, "contact_id: say whom you want to contact.", field="contact_id")
    code = call.query.get("purpose", "").strip()
    if not code:
        raise ApiError(422, "purpose: give the purpose's code, e.g. marketing.", field="purpose")
    raw = call.query.get("channel", "")
    try:
        channel = ConsentChannel(raw)
    except ValueError as err:
        choices = ", ".join(c.value for c in ConsentChannel)
        raise ApiError(422, f"channel: choose one of {choices}.", field="channel") from err
    answer = may_send(
        session=call.session,
        contact_id=contact_id,
        purpose_code=code,
        channel=channel,
        actor=call.actor,
    )
    call.audit["contact_id"] = contact_id
    return Reply(
        {
            "contact_id": contact_id,
            "purpose": code.lower(),
            "channel": channel.value,
            "allowed": answer.allowed,
            "state": answer.state.value,
            "reason": answer.reason,
        }
    )


def purposes(call: Call) -> Reply:
    """GET /api/v1/consent/purposes: the purposes, each with its current notice."""
    items = []
    for purpose in list_purposes(session=call.session):
        notice = latest_notice(session=call.session, purpose_id=purpose.id or 0)
        items.append(
            purpose.model_dump()
            | {
                "notice_id": notice.id if notice else None,
                "notice_version": notice.version if notice else None,
            }
        )
    return Reply({"items": items})
