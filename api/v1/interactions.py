"""Interactions pushed in by phone systems, chat tools and web forms.

The same command as Contact 360's "log an interaction": the contact must be one the
token's user may change, and an outbound marketing message is checked against consent
in the same transaction; its refusal is a 409 with the reason.
"""

from api.http import Call, Reply, parse
from api.v1.contacts import interaction_json
from db.models.people import InteractionCreate, Purpose
from db.people.interactions import log_interaction

# A case is linked only from the case's own screens, by its reviewers; never from here.
FIELDS = set(InteractionCreate.model_fields) - {"case_id"}


def create(call: Call) -> Reply:
    """POST /api/v1/interactions: log one; answers 201 with the interaction."""
    data = dict(call.json_object())
    data.setdefault("purpose", Purpose.service.value)
    interaction_in = parse(
        InteractionCreate,
        data,
        allowed=FIELDS,
        required=("contact_id", "channel", "direction", "occurred_at"),
    )
    interaction = log_interaction(
        session=call.session, interaction_in=interaction_in, actor=call.actor
    )
    call.audit.update(interaction_id=interaction.id, contact_id=interaction.contact_id)
    return Reply(interaction_json(interaction), 201)
