"""What people type shows as literal text and makes the browser call nobody."""

import re
from typing import Any
from urllib.parse import urlparse

from tests.e2e.conftest import Steps, manage
from tests.e2e.test_sign_in_and_admin import new_page, sign_in, wait_for_session_cookie

# Each payload would, if rendered as markdown or HTML, fetch from or link to another host.
PAYLOADS = [
    "![pixel](http://tracker.invalid/p.png)",
    "<img src=http://tracker.invalid/i.png onerror=alert(1)>",
    "[click me](javascript:alert(1))",
    "<script>fetch('http://tracker.invalid/s')</script>",
    "**bold** <b>html</b> `code`",
]


def outbound(requests: list[str]) -> list[str]:
    """Requests that leave this machine."""
    return [
        u
        for u in requests
        if urlparse(u).hostname not in {"127.0.0.1", "localhost", None}
        and not u.startswith(("data:", "blob:", "about:"))
    ]


def test_hostile_display_names_are_shown_as_text_and_fetch_nothing(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    for number, payload in enumerate(PAYLOADS):
        username = f"hostile{number}"
        manage(
            server_env,
            "create-user",
            username,
            "--role",
            "hr",
            "--name",
            payload,
            stdin="a long enough pass\n",
        )
        page = new_page(browser)
        requests: list[str] = []
        page.on("request", lambda request, seen=requests: seen.append(request.url))
        sign_in(page, server, username, "a long enough pass")
        page.get_by_role("heading", name=re.compile("Good to see you")).first.wait_for()
        steps.shot(page, f"{username}-home")
        wait_for_session_cookie(page)  # so the next page load stays signed in
        page.goto(f"{server}/account")
        page.get_by_text(f"Name: {payload}").first.wait_for()
        steps.shot(page, username)
        body = page.get_by_test_id("stMain").inner_text()
        assert f"Name: {payload}" in body  # shown literally
        assert page.locator("img[src*='tracker.invalid']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
        assert outbound(requests) == [], (payload, outbound(requests))
        page.context.close()
