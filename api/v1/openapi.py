"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of version 1 (no token needed).

Written out path by path, apart from the routes, so that a test comparing the two finds
a route nobody documented or a documented path that is not served. Record schemas come
from the same SQLModel classes db/ validates with.
"""

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.models.consent import ConsentEvent, ConsentEventCreate
from db.models.people import Contact, ContactCreate, ContactUpdate, Interaction, InteractionCreate
from db.models.pipeline import Deal, DealCreate

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next": {
                "type": ["string", "null"],
                "description": "Pass as ?cursor= for the next page; null on the last page.",
            },
        },
    }


ERRORS = {
    "401": "The token is missing, unknown, revoked or expired.",
    "403": "The token's user has no role that may use this kind of record.",
    "404": "No such record that the token's user can see (or may change).",
    "409": "A conflict: someone changed the record since you read it (send the current "
    "version), or a rule refused it (the consent check, a duplicate).",
    "413": "The request body is larger than RAPPORT_API_MAX_BODY_KB.",
    "422": "A field is missing or invalid; `field` names it.",
    "429": "Too many calls this minute for this token; wait Retry-After seconds.",
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _op(
    summary: str,
    ok: tuple[str, dict[str, Any]],
    *,
    errors: tuple[str, ...] = ("401", "403", "422", "429"),
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    public: bool = False,
) -> dict[str, Any]:
    code, response = ok
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {code: response} if public else {code: response, **_errors(*errors)},
    }
    if public:
        operation["security"] = []
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if params:
        operation["parameters"] = params
    return operation


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind},
    }


def _required(param: dict[str, Any]) -> dict[str, Any]:
    return param | {"required": True}


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
PAGING = [
    _query("limit", "Items per page (1 to 200, default 50).", "integer"),
    _query("cursor", "The `next` of the previous page."),
]
RECORD_ERRORS = ("401", "404", "409", "413", "422", "429")
LIST_ERRORS = ("401", "403", "422", "429")
CREATE_ERRORS = ("401", "403", "404", "409", "413", "422", "429")


def _versioned(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": fields,
        "additionalProperties": False,
    }


INTEGER = {"type": "integer"}
# The deal commands: (path's last part, summary, response text, body fields, required).
DEAL_COMMANDS: list[tuple[str, str, str, dict[str, Any], list[str]]] = [
    ("move", "Move an open deal to another stage of its pipeline.", "Moved.",
     {"stage_id": INTEGER}, ["stage_id"]),
    ("win", "Close as won with the final amount.", "Won.",
     {"amount": {"type": ["string", "number"]}}, ["amount"]),
    ("lose", "Close as lost, with a reason from the list and a note.", "Lost.",
     {"lost_reason_id": INTEGER, "note": {"type": ["string", "null"]}}, ["lost_reason_id"]),
]  # fmt: skip


def _list(summary: str, item: str, items: str, *filters: dict[str, Any]) -> dict[str, Any]:
    """A paged list of records you can see, with its exact-match filters."""
    return _op(
        summary,
        ("200", _json(_page(item), f"A page of {items}.")),
        errors=LIST_ERRORS,
        params=[*filters, *PAGING],
    )


def _create(
    summary: str,
    record: dict[str, Any],
    body: str,
    done: str = "Created.",
    errors: tuple[str, ...] = CREATE_ERRORS,
) -> dict[str, Any]:
    """Create a record from the body schema named `body`."""
    return _op(summary, ("201", _json(record, done)), errors=errors, body=_ref(body))


def _one(name: str, record: dict[str, Any]) -> dict[str, Any]:
    """One record by id."""
    return _op(
        f"One {name}.",
        ("200", _json(record, f"The {name}.")),
        errors=("401", "404", "429"),
        params=[ID],
    )


@cache
def build() -> dict[str, Any]:
    """The whole document (built once per process)."""
    _, defs = models_json_schema(
        [
            (Contact, "serialization"),
            (ContactCreate, "validation"),
            (ContactUpdate, "validation"),
            (Interaction, "serialization"),
            (InteractionCreate, "validation"),
            (Deal, "serialization"),
            (DealCreate, "validation"),
            (ConsentEvent, "serialization"),
            (ConsentEventCreate, "validation"),
        ],
        ref_template=REF,
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["InteractionCreate"]["properties"].pop("case_id", None)
    for accepted in ("ContactCreate", "ContactUpdate", "InteractionCreate", "DealCreate"):
        schemas[accepted]["additionalProperties"] = False  # an unknown field is a 422
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "field"],
        "properties": {
            "error": {"type": "string", "description": "A sentence saying what to do."},
            "field": {"type": ["string", "null"], "description": "The field at fault."},
        },
    }
    schemas["ContactPatch"] = {
        "allOf": [_ref("ContactUpdate")],
        "type": "object",
        "required": ["version"],
        "properties": {"version": {"type": "integer", "description": "The version you read."}},
    }
    schemas["DealRow"] = {
        "type": "object",
        "description": "A deal as lists show it, with "
        "its stage, owner and organisation by name and its version.",
    }
    schemas["ConsentAnswer"] = {
        "type": "object",
        "required": ["allowed", "state", "reason"],
        "properties": {
            "contact_id": {"type": "integer"},
            "purpose": {"type": "string"},
            "channel": {"type": "string"},
            "allowed": {"type": "boolean"},
            "state": {"type": "string"},
            "reason": {"type": "string"},
        },
    }
    schemas["ConsentEventIn"] = {
        "type": "object",
        "required": ["contact_id", "purpose", "channel", "action", "source", "occurred_at"],
        "properties": {
            "contact_id": {"type": "integer"},
            "purpose": {"type": "string", "description": "The purpose's code."},
            "channel": {"type": "string", "enum": ["email", "phone", "sms", "post", "any"]},
            "action": {"type": "string", "enum": ["grant", "withdraw", "object"]},
            "source": {"type": "string"},
            "notice_id": {
                "type": ["integer", "null"],
                "description": "The wording agreed to (required for a grant).",
            },
            "evidence": {"type": ["string", "null"]},
            "occurred_at": {"type": "string", "format": "date-time"},
        },
        "additionalProperties": False,
    }
    health = {
        "type": "object",
        "properties": {"status": {"type": "string"}, "database": {"type": "string"}},
    }
    contact, deal = _ref("Contact"), _ref("Deal")
    paths: dict[str, Any] = {
        "/api/v1/health": {
            "get": _op(
                "Is the server up and its database reachable?",
                ("200", _json(health, "Up.")),
                public=True,
            )
            | {
                "responses": {
                    "200": _json(health, "Up."),
                    "503": _json(health, "The database cannot be reached."),
                }
            }
        },
        "/api/v1/openapi.json": {
            "get": _op(
                "This document.", ("200", _json({"type": "object"}, "OpenAPI 3.1.")), public=True
            )
        },
        "/api/v1/contacts": {
            "get": _list(
                "Contacts you can see, by id; filters match exactly.",
                "Contact",
                "contacts",
                _query("email", "Either of the contact's addresses."),
                _query("phone", "The phone or mobile, in any common format."),
                _query("ref", "The external reference."),
            ),
            "post": _create("Create a contact.", contact, "ContactCreate"),
        },
        "/api/v1/contacts/{id}": {
            "get": _one("contact", contact),
            "patch": _op(
                "Change the fields sent; `version` must be the one you read.",
                ("200", _json(contact, "Changed.")),
                errors=RECORD_ERRORS,
                body=_ref("ContactPatch"),
                params=[ID],
            ),
        },
        "/api/v1/contacts/{id}/interactions": {
            "get": _op(
                "The contact's interactions, newest first.",
                ("200", _json(_page("Interaction"), "A page of interactions.")),
                errors=("401", "404", "422", "429"),
                params=[ID, *PAGING],
            ),
        },
        "/api/v1/interactions": {
            "post": _create(
                "Log a call, message or visit. Outbound marketing is checked against "
                "consent: a refusal is a 409 with the reason.",
                _ref("Interaction"),
                "InteractionCreate",
                "Logged.",
                RECORD_ERRORS,
            ),
        },
        "/api/v1/deals": {
            "get": _list(
                "Deals you can see, by id.",
                "DealRow",
                "deals",
                _query("status", "open, won or lost."),
                _query("pipeline_id", "Only this pipeline.", "integer"),
                _query("stage_id", "Only this stage.", "integer"),
            ),
            "post": _create("Create an open deal.", deal, "DealCreate"),
        },
        "/api/v1/deals/{id}": {"get": _one("deal", deal)},
        **{
            f"/api/v1/deals/{{id}}/{command}": {
                "post": _op(
                    summary,
                    ("200", _json(deal, done)),
                    errors=RECORD_ERRORS,
                    params=[ID],
                    body=_versioned(fields | {"version": INTEGER}, [*required, "version"]),
                )
            }
            for command, summary, done, fields, required in DEAL_COMMANDS
        },
        "/api/v1/pipelines": {
            "get": _op(
                "Active pipelines with their stages, and the lost reasons.",
                ("200", _json({"type": "object"}, "Pipelines.")),
                errors=("401", "403", "429"),
            ),
        },
        "/api/v1/consent/purposes": {
            "get": _op(
                "The purposes, each with its current notice.",
                ("200", _json({"type": "object"}, "Purposes.")),
                errors=("401", "429"),
            ),
        },
        "/api/v1/consent/events": {
            "post": _create(
                "Record a grant, withdrawal or objection, with its evidence.",
                _ref("ConsentEvent"),
                "ConsentEventIn",
                "Recorded.",
            ),
        },
        "/api/v1/consent/check": {
            "get": _op(
                "May purpose X reach this person on channel Y now?",
                ("200", _json(_ref("ConsentAnswer"), "The answer and why.")),
                errors=("401", "403", "404", "422", "429"),
                params=[
                    _required(_query("contact_id", "The person.", "integer")),
                    _required(_query("purpose", "The purpose's code.")),
                    _required(_query("channel", "email, phone, sms, post or any.")),
                ],
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rapport API",
            "version": "1",
            "description": "Contacts, interactions, deals and consent. Every call acts as "
            "the user its token was made for, with that user's roles and team, and is "
            "written to the audit log under the token's name.",
        },
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "manage.py api-token create NAME --user USERNAME",
                }
            },
            "responses": {f"E{code}": _json(_ref("Error"), text) for code, text in ERRORS.items()},
        },
    }


async def document(request: Request) -> JSONResponse:
    """The OpenAPI document."""
    return JSONResponse(build())
