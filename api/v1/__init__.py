"""Version 1 of the HTTP API, under /api/v1/: one module per resource.

`routes` lists every route of this version; the OpenAPI document (openapi.py) describes
exactly these, and a test compares the two. Every route but the health check and the
document itself needs a token (api/http.py's `endpoint`).
"""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route

from api.http import endpoint
from api.v1 import consent, contacts, deals, health, interactions, openapi

P = "/api/v1"

routes: list[BaseRoute] = [
    Route(f"{P}/health", health.health, methods=["GET"]),
    Route(f"{P}/openapi.json", openapi.document, methods=["GET"]),
    Route(f"{P}/contacts", endpoint(contacts.list_contacts), methods=["GET"]),
    Route(f"{P}/contacts", endpoint(contacts.create), methods=["POST"]),
    Route(f"{P}/contacts/{{id:int}}", endpoint(contacts.read, record=True), methods=["GET"]),
    Route(f"{P}/contacts/{{id:int}}", endpoint(contacts.update, record=True), methods=["PATCH"]),
    Route(
        f"{P}/contacts/{{id:int}}/interactions",
        endpoint(contacts.timeline, record=True),
        methods=["GET"],
    ),
    Route(f"{P}/interactions", endpoint(interactions.create, record=True), methods=["POST"]),
    Route(f"{P}/deals", endpoint(deals.list_deals), methods=["GET"]),
    Route(f"{P}/deals", endpoint(deals.create), methods=["POST"]),
    Route(f"{P}/deals/{{id:int}}", endpoint(deals.read, record=True), methods=["GET"]),
    Route(f"{P}/deals/{{id:int}}/move", endpoint(deals.move, record=True), methods=["POST"]),
    Route(f"{P}/deals/{{id:int}}/win", endpoint(deals.win, record=True), methods=["POST"]),
    Route(f"{P}/deals/{{id:int}}/lose", endpoint(deals.lose, record=True), methods=["POST"]),
    Route(f"{P}/pipelines", endpoint(deals.pipelines), methods=["GET"]),
    Route(f"{P}/consent/purposes", endpoint(consent.purposes), methods=["GET"]),
    Route(f"{P}/consent/events", endpoint(consent.record, record=True), methods=["POST"]),
    Route(f"{P}/consent/check", endpoint(consent.check, record=True), methods=["GET"]),
]


async def unknown(request: Request) -> JSONResponse:
    """Anything else under /api/v1/: a JSON 404 (or 405 naming the methods it takes),
    never the app's HTML page."""
    allowed = sorted(
        method
        for route in routes
        if isinstance(route, Route)
        and route.name != "unknown"
        and route.matches(request.scope)[0] != Match.NONE
        for method in route.methods or ()
        if method != "HEAD"
    )
    if allowed:
        return JSONResponse(
            {"error": f"Use {', '.join(allowed)} here.", "field": None},
            status_code=405,
            headers={"Allow": ", ".join(allowed)},
        )
    return JSONResponse(
        {"error": "There is no such endpoint; see /api/v1/openapi.json.", "field": None},
        status_code=404,
    )


# Last, so that every route above is tried first.
routes.append(
    Route(
        f"{P}/{{rest:path}}",
        unknown,
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        name="unknown",
    )
)
