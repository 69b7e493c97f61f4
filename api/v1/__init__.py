"""Version 1 of the HTTP API, under /api/v1/: one module per resource.

`routes` lists every route of this version; the OpenAPI document describes exactly these
(a test compares the two).
"""

from starlette.routing import BaseRoute, Route

from api.v1 import health

routes: list[BaseRoute] = [
    Route("/api/v1/health", health.health, methods=["GET"]),
]
