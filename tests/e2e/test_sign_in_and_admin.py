"""In Chromium: an admin creates a user, signs out; the new user signs in."""

import re
import time
from typing import Any

from tests.e2e.conftest import Steps

DEMO_PASSWORD = "rapport-demo-2026"
TIMEOUT = 45_000


def new_page(browser: Any, **context: Any) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}, **context).new_page()
    page.set_default_timeout(TIMEOUT)
    return page


def field(page: Any, label: str) -> Any:
    """An input by its exact label (help buttons carry similar names)."""
    return page.locator(f'input[aria-label="{label}"]')


def sign_in(page: Any, url: str, username: str, password: str) -> None:
    """Sign in and wait until the session is settled.

    A click on a link while the first signed-in run is still drawing (or before the
    session cookie is written) can be lost to the rerun that follows, so every journey
    starts from a finished Home page with its cookie in place.
    """
    page.goto(url)
    field(page, "Username").fill(username)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_session_cookie(page)
    wait_until_idle(page)


IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def open_signed_in(
    browser: Any, server: str, username: str, path: str, heading: str, **context: Any
) -> Any:
    """A fresh laptop-sized page signed in as a demo user, on `path`, settled."""
    page = new_page(browser, **context)
    sign_in(page, server, username, DEMO_PASSWORD)
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    wait_until_idle(page)
    return page


def wait_until_idle(page: Any, *, settle_ms: int = 300) -> None:
    """Wait until Streamlit has finished running the script, and stays finished.

    The app's root says whether a run is going on (`data-test-script-state`); the
    status widget shows only once a run has lasted a moment, so it alone would let a
    click land in a run that is just starting, which then drops it. A run that the
    last one asks for (a component's value arriving, a cookie being set) can start
    right after the end, so idle must hold over `settle_ms` twice in a row.
    """
    calm = 0
    deadline = time.monotonic() + 90
    while calm < 2:
        if time.monotonic() > deadline:
            raise AssertionError("the app never became idle")
        page.locator(IDLE).wait_for(timeout=60_000)
        page.wait_for_timeout(settle_ms)
        calm = calm + 1 if page.locator(IDLE).count() == 1 else 0
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def wait_for_session_cookie(page: Any) -> list[dict[str, Any]]:
    for _ in range(100):
        cookies = page.context.cookies()
        if any(c["name"] == "rapport_session" for c in cookies):
            return cookies  # type: ignore[no-any-return]
        page.wait_for_timeout(100)
    raise AssertionError("the session cookie was never set")


def test_admin_creates_a_user_who_then_signs_in(browser: Any, server: str, steps: Steps) -> None:
    page = new_page(browser)
    sign_in(page, server, "admin", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Ada")).first.wait_for()
    steps.shot(page, "signed-in")

    page.get_by_role("link", name="Users and roles", exact=True).click()
    page.get_by_role("heading", name="Users and roles").first.wait_for()
    steps.shot(page, "admin")

    field(page, "Username").fill("jordan")
    field(page, "Name").first.fill("Jordan Lee")
    field(page, "Email").first.fill("jordan@example.org")
    field(page, "Initial password").fill("a long enough pass")
    field(page, "Repeat password").fill("a long enough pass")
    roles = page.locator('input[aria-label="Roles"]').first
    roles.click()
    roles.fill("Sales")
    roles.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Create user").click()
    page.get_by_text("Created jordan").first.wait_for()
    steps.shot(page, "created")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out").first.wait_for()
    steps.shot(page, "signed-out")

    other = new_page(browser)
    sign_in(other, server, "jordan", "a long enough pass")
    other.get_by_role("heading", name=re.compile("Good to see you, Jordan")).first.wait_for()
    steps.shot(other, "new-user-home")
    assert other.get_by_role("link", name="Users and roles", exact=True).count() == 0


def test_a_copied_cookie_stops_working_once_its_owner_signs_out(
    browser: Any, server: str, steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "manager", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Maya")).first.wait_for()
    cookies = wait_for_session_cookie(page)

    # While the session lives, the cookie alone signs a fresh browser in.
    replay = new_page(browser)
    replay.context.add_cookies(cookies)
    replay.goto(server)
    replay.get_by_role("heading", name=re.compile("Good to see you, Maya")).first.wait_for()
    steps.shot(replay, "replay-before-sign-out")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out").first.wait_for()

    # After signing out, the same cookie in yet another browser gets the form.
    after = new_page(browser)
    after.context.add_cookies(cookies)
    after.goto(server)
    after.get_by_role("button", name="Sign in").first.wait_for()
    steps.shot(after, "replay-after-sign-out")
    assert after.get_by_role("heading", name=re.compile("Good to see you")).count() == 0
