"""The OpenAPI document the server hands out is valid OpenAPI 3.1 and matches its routes:
every route of /api/v1/ is documented with its methods, and every documented operation
is served."""

import re

import httpx
from openapi_spec_validator import validate
from starlette.routing import Route

import api.v1
from tests.api.conftest import Served


def served_operations() -> set[tuple[str, str]]:
    """(method, path in OpenAPI's spelling) for every route of version 1."""
    found = set()
    for route in api.v1.routes:
        assert isinstance(route, Route)
        if route.name == "unknown":  # the JSON 404 for everything else
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        found |= {(m.lower(), path) for m in route.methods or () if m != "HEAD"}
    return found


def test_the_document_is_valid_openapi_and_describes_exactly_the_routes(served: Served) -> None:
    response = httpx.get(f"{served.url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    document = response.json()
    validate(document)  # raises with the first problem found
    assert document["openapi"].startswith("3.")
    documented = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert served_operations() - documented == set(), "routes nobody documented"
    assert documented - served_operations() == set(), "documented but not served"


def test_every_documented_operation_answers_on_the_server(served: Served) -> None:
    """Not a 404 of an unknown path nor a 405: each documented route is really there."""
    document = httpx.get(f"{served.url}/api/v1/openapi.json", timeout=10).json()
    for path, operations in document["paths"].items():
        for method in operations:
            url = served.url + path.replace("{id}", "1")
            answer = httpx.request(method.upper(), url, timeout=10)
            public = operations[method].get("security") == []
            expected = {200} if public else {401}
            assert answer.status_code in expected, (method, path, answer.status_code)
