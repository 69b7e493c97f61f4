"""POST /unsubscribe/{token}?purpose=code: RFC 8058 one-click unsubscribe from marketing email.

The mail client posts `List-Unsubscribe=One-Click`; the withdrawal is recorded at once,
with no sign-in and no confirmation step, and a repeated POST changes nothing. The answer
is the same whether anything was in force or the link no longer works, so the URL tells
nobody whether the address is known. A GET (a person opening the URL) changes nothing and
leads to the preference centre.
"""

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from db.consent.preferences import TOKEN_MAX, one_click_unsubscribe, preferences_url
from db.core.engine import session_scope
from db.core.errors import NotFound

DONE = "You are unsubscribed. It may take a moment for our other systems to catch up.\n"
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _withdraw(token: str, purpose: str | None) -> None:
    with session_scope() as session:
        try:
            one_click_unsubscribe(session=session, token=token, purpose_code=purpose)
        except NotFound:
            return


async def unsubscribe(request: Request) -> Response:
    """Withdraw email consent for the purpose the message was sent for; 200 either way."""
    token = str(request.path_params["token"])[:TOKEN_MAX]
    purpose = request.query_params.get("purpose")
    await run_in_threadpool(_withdraw, token, purpose)
    return PlainTextResponse(DONE, headers=HEADERS)


async def open_in_browser(request: Request) -> Response:
    """A person who opens the URL is sent to their preference centre; nothing changes."""
    token = str(request.path_params["token"])[:TOKEN_MAX]
    return RedirectResponse(preferences_url(token), status_code=303, headers=HEADERS)


routes: list[BaseRoute] = [
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
    Route("/unsubscribe/{token}", open_in_browser, methods=["GET"]),
]
