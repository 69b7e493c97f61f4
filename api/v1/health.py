"""GET /api/v1/health: is the server up and does its database answer? Needs no token."""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from db.core.engine import session_scope
from db.integrations.api_health import database_answers


def _database_answers() -> bool:
    with session_scope() as session:
        return database_answers(session=session)


async def health(request: Request) -> JSONResponse:
    """200 with `{"status": "ok"}`, or 503 when the database cannot be reached."""
    if await run_in_threadpool(_database_answers):
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse(
        {"status": "unavailable", "database": "unreachable"},
        status_code=503,
        headers={"Retry-After": "30"},
    )
