"""The plumbing every token-protected endpoint shares: JSON in and out, errors as
`{"error": sentence, "field": name}`, the token, the size and rate limits, the audit.

An endpoint is a plain function `(call: Call) -> Reply` that parses what it needs,
calls one db/ command and returns what to send; `endpoint()` wraps it into a Starlette
handler. Domain errors map to status codes here, in one table, so no endpoint decides
them: NotFound 404, Forbidden 404 for a record (403 for a kind of record a role may not
use at all), ValidationError 422, Conflict 409, a refused token 401, too many calls 429,
too large a body 413.
"""

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pydantic
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from db.core.engine import session_scope
from db.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from db.core.settings import get_settings
from db.integrations.api_tokens import RateLimited, TokenRefused, audit_call, authenticate
from db.models.auth import User
from db.models.integrations_api import ApiToken

log = logging.getLogger("rapport.api")

DB_DOWN = "Rapport cannot reach its database right now; nothing was changed. Try again later."
DB_REFUSED = "The database refused this change; nothing was saved."
FAULT = "Something went wrong on the server and nothing was changed; the log says what."


class ApiError(Exception):
    """A refusal the edge itself decides (bad JSON, a bad cursor, an unknown field)."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class Call:
    """One authenticated request, as an endpoint sees it."""

    session: Session
    actor: User
    token: ApiToken
    path: Mapping[str, Any]
    query: Mapping[str, str]
    body: Any
    # What the endpoint adds to the call's audit entry (ids, never content).
    audit: dict[str, Any] = field(default_factory=dict)

    def json_object(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise ApiError(422, "Send a JSON object as the request body.", field="body")
        return self.body


@dataclass(frozen=True)
class Reply:
    """What an endpoint answers: a status and a JSON-able payload."""

    payload: Any
    status: int = 200


def jsonable(value: Any) -> Any:
    """Plain JSON values from what db/ returns (datetimes ISO 8601, decimals as text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def error(status: int, message: str, *, field: str | None = None, **headers: str) -> JSONResponse:
    """The one shape of every refusal."""
    return JSONResponse({"error": message, "field": field}, status_code=status, headers=headers)


# --- cursors ------------------------------------------------------------------------


def encode_cursor(position: Mapping[str, Any]) -> str:
    """An opaque cursor for the page after `position` (the last item's sort keys)."""
    text = json.dumps(jsonable(dict(position)), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def bad_cursor() -> ApiError:
    """The refusal of a cursor this server did not hand out."""
    return ApiError(422, "Cursor: pass back the `next` of the previous page.", field="cursor")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor stands for; a cursor not made here is a 422."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as err:
        raise bad_cursor() from err
    if not isinstance(position, dict):
        raise bad_cursor()
    return position


def cursor_id(call: Call) -> int:
    """The last id of the previous page, from `?cursor=` (0: the first page)."""
    position = decode_cursor(call.query.get("cursor"))
    if position is None:
        return 0
    last = position.get("id")
    if isinstance(last, bool) or not isinstance(last, int) or last < 0:
        raise bad_cursor()
    return last


# --- parameters ----------------------------------------------------------------------


def query_int(
    call: Call, name: str, *, default: int | None = None, low: int = 1, high: int = 2**31 - 1
) -> int | None:
    """A whole-number query parameter within bounds, or the default."""
    raw = call.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as err:
        raise ApiError(422, f"{name}: give a whole number.", field=name) from err
    if not low <= value <= high:
        raise ApiError(422, f"{name}: give a number from {low} to {high}.", field=name)
    return value


def path_id(call: Call, name: str = "id") -> int:
    """A record id from the path (Starlette's `{id:int}` has already checked it)."""
    return int(call.path[name])


def parse(
    model: type[pydantic.BaseModel],
    data: dict[str, Any],
    *,
    allowed: set[str] | None = None,
    required: tuple[str, ...] = (),
) -> Any:
    """Validate `data` into `model`; an unknown or missing field is a 422 naming it."""
    known = allowed if allowed is not None else set(model.model_fields)
    for name in data:
        if name not in known:
            raise ApiError(422, f"{name}: there is no such field here.", field=name)
    for name in required:
        if data.get(name) in (None, ""):
            raise ApiError(422, f"{name}: this field is required.", field=name)
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, f"{where}: {first['msg']}.", field=where) from err


def require_int(data: dict[str, Any], name: str) -> int:
    """A whole number from the body, required."""
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(422, f"{name}: give a whole number.", field=name)
    return value


# --- the wrapper -------------------------------------------------------------------


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def read_body(request: Request) -> bytes:
    """The body, refused with 413 past RAPPORT_API_MAX_BODY_KB before all of it is read."""
    limit = get_settings().api_max_body_kb * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"The request body is larger than {limit // 1024} KB.", field="body")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ApiError(
                    413, f"The request body is larger than {limit // 1024} KB.", field="body"
                )
            chunks.append(chunk)
    except ClientDisconnect as err:
        raise ApiError(400, "The request body did not arrive whole.", field="body") from err
    return b"".join(chunks)


def decode_json(raw: bytes, content_type: str) -> Any:
    """The JSON body (None when empty); anything else is refused with a sentence."""
    if not raw.strip():
        return None
    if content_type and "json" not in content_type.lower():
        raise ApiError(415, "Send the body as JSON (Content-Type: application/json).", field="body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, f"The body is not valid JSON: {err}.", field="body") from err


def _authenticate(token: str | None) -> tuple[ApiToken, User]:
    with session_scope() as session:
        return authenticate(session=session, token=token)


def _audit(
    token: ApiToken, user: User, method: str, route: str, status: int, extra: dict[str, Any]
) -> None:
    try:
        with session_scope() as session:
            audit_call(
                session=session,
                token=token,
                user=user,
                method=method,
                route=route,
                status=status,
                details=extra,
            )
    except DBAPIError as err:
        log_fault("could not audit an API call", err)


Handler = Callable[[Call], Reply]


def endpoint(handler: Handler, *, record: bool = False) -> Callable[[Request], Any]:
    """A Starlette handler for `handler`: token, limits, JSON, error mapping, audit.

    `record` says the call names one record (in its path or body): then a Forbidden from
    db/ answers 404 like a record the token cannot see, so nobody learns it exists.
    """

    async def handle(request: Request) -> Response:
        route = getattr(request.scope.get("route"), "path", request.url.path)
        try:
            token, user = await run_in_threadpool(_authenticate, bearer(request))
        except TokenRefused as err:
            return error(401, str(err), field="authorization", **{"WWW-Authenticate": "Bearer"})
        except RateLimited as err:
            return error(429, str(err), **{"Retry-After": str(err.retry_after)})
        except OperationalError as err:
            log_fault("database unavailable while checking an API token", err)
            return error(503, DB_DOWN, **{"Retry-After": "30"})
        extra: dict[str, Any] = {}
        try:
            raw = await read_body(request)
            body = decode_json(raw, request.headers.get("content-type", ""))
            response = await run_in_threadpool(
                _run, handler, token, user, request, body, extra, record
            )
        except ApiError as err:
            response = error(err.status, err.message, field=err.field)
        await run_in_threadpool(
            _audit, token, user, request.method, route, response.status_code, extra
        )
        return response

    handle.__doc__ = handler.__doc__
    return handle


def _run(
    handler: Handler,
    token: ApiToken,
    user: User,
    request: Request,
    body: Any,
    extra: dict[str, Any],
    record: bool,
) -> Response:
    try:
        with session_scope() as session:
            call = Call(
                session=session,
                actor=user,
                token=token,
                path=request.path_params,
                query=request.query_params,
                body=body,
                audit=extra,
            )
            reply = handler(call)
            return JSONResponse(jsonable(reply.payload), status_code=reply.status)
    except ApiError as err:
        return error(err.status, err.message, field=err.field)
    except ValidationError as err:
        return error(422, str(err), field=err.field)
    except NotFound as err:
        return error(404, str(err))
    except Forbidden as err:
        return error(404 if record else 403, str(err))
    except Conflict as err:
        return error(409, str(err))
    except DomainError as err:
        # The other refusals of db/ (the consent check's among them) are conflicts with
        # the state of things: the sentence says what to do.
        return error(409, str(err))
    except OperationalError as err:
        log_fault("database unavailable during an API call", err)
        return error(503, DB_DOWN, **{"Retry-After": "30"})
    except DBAPIError as err:
        log_fault("database refused an API call's statement", err)
        return error(409, DB_REFUSED)
    except Exception:  # a fault of ours: the caller gets a sentence, the log the traceback
        log.exception("unexpected error in API endpoint %s", handler.__name__)
        return error(500, FAULT)


def log_fault(what: str, err: DBAPIError) -> None:
    """Log a database fault by its kinds only: the driver's message may quote what the
    caller sent (a value in a constraint's detail), and the log never holds content."""
    log.error("%s: %s (%s)", what, type(err).__name__, type(err.orig).__name__)
