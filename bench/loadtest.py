"""Load test: many browser sessions on one real server, on loopback, for a fixed time.

python -m bench.loadtest [--users 25] [--seconds 120] [--scale 1] [--think 15]
                         [--ramp 6] [--page-timeout 45] [--json OUT]

Starts `streamlit run` on a free port over the scale-N benchmark world, opens one
Chromium with `--users` pages, signs each in as a demo user of a different role, and has
each walk the pages its role may open until the time is up, the way a person does: by
the sidebar links of one browser session, pausing to read between pages. Reports pages
served, errors (an exception box, an error about the database, or a page that did not
finish within the page timeout, each named with its page) and the median and 95th
percentile time until a page had rendered, overall and per page.

Images, fonts and media are not fetched (they are static files, not the app's work), so
the browser's own load does not crowd out the server on a small machine.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner import DATA, ROOT, database_for
from bench.serve import ServerDidNotStart, start_app, stop_app
from components.nav import SCREENS
from db.demo.fixtures import DEMO_PASSWORD, DEMO_USERS

CHROMIUM = "/usr/bin/chromium"
PAGE_TIMEOUT_S = 45.0
RAMP_SECONDS = 6.0
THINK_SECONDS = 15.0
BLOCKED = {"image", "font", "media"}
POLL_MS = 100
REPEAT_AFTER_S = 5.0
SERVER_LOG = DATA / "loadtest-server.log"
IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# The sign-in page's cookie check is a frame of its own that reports back with one more
# run of the page; until that run is over, a click on "Sign in" can be lost to it.
FRAMES_LOADED_JS = """() => [...document.querySelectorAll('iframe')].every(
  (f) => f.contentDocument && f.contentDocument.readyState === 'complete')"""
# The app's own "done" marker: the script has finished (no running indicator), nothing
# on screen is stale from the previous run, and the page has drawn its title.
RENDERED_JS = """(previous) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (main.querySelector('[data-stale="true"]')) return false;
  const title = main.querySelector('h1');
  return !!title && (previous === null || title.innerText !== previous);
}"""


@dataclass
class Tally:
    """What the virtual users saw."""

    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sign_ins: int = 0
    sign_in_ms: list[float] = field(default_factory=list)
    clicks_repeated: int = 0
    by_page: dict[str, list[float]] = field(default_factory=dict)

    def served(self, target: str, took_ms: float) -> None:
        """Count one page rendered in `took_ms`."""
        self.times_ms.append(took_ms)
        self.by_page.setdefault(target, []).append(took_ms)


def url_path(page: str) -> str:
    """The address Streamlit serves a page file at."""
    return "" if page == "app.py" else Path(page).stem


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Serve the app on loopback over `database_url` and wait until it answers."""
    env = dict(os.environ, RAPPORT_DATABASE_URL=database_url)
    env.setdefault("RAPPORT_COOKIE_KEY", "loadtest-" + "k" * 40)
    DATA.mkdir(parents=True, exist_ok=True)
    try:
        # The server's own log, to read when a page failed.
        return start_app(env, SERVER_LOG)
    except ServerDidNotStart as err:
        raise SystemExit(str(err)) from err


async def rendered(page: Any, previous_title: str | None, timeout_s: float) -> None:
    """Wait for the app's own marker that the page has finished rendering."""
    # Check a few times a second: polling on every animation frame would keep 25 pages
    # drawing frames and make the browser, not the app, the thing being measured.
    await page.wait_for_function(
        RENDERED_JS, arg=previous_title, polling=POLL_MS, timeout=timeout_s * 1000
    )


async def settled(page: Any) -> None:
    """Wait until the page has run, its frames have loaded and the run they cause is over."""
    await page.wait_for_function(IDLE_JS, polling=POLL_MS)
    await page.wait_for_function(FRAMES_LOADED_JS, polling=POLL_MS)
    await page.wait_for_timeout(500)
    await page.wait_for_function(IDLE_JS, polling=POLL_MS)


async def title_of(page: Any) -> str | None:
    """The heading on screen now, if any."""
    heading = page.locator('[data-testid="stMain"] h1').first
    return await heading.inner_text() if await heading.count() else None


async def open_page(page: Any, base: str, target: str) -> None:
    """Follow the sidebar link to `target`, as a person would; by address if it has none."""
    path = url_path(target)
    # The sidebar's links carry the page's address relative to the app ("" for Home).
    link = page.locator(
        f'[data-testid="stSidebar"] a[href="{path}"], [data-testid="stSidebar"] a[href$="/{path}"]'
    ).first
    if await link.count():
        await link.click()
    else:
        await page.goto(f"{base}/{path}", wait_until="domcontentloaded")


async def follow_link(
    page: Any, base: str, target: str, previous: str | None, timeout_s: float, tally: Tally
) -> None:
    """Open `target` and wait until it has rendered, within `timeout_s` of the first click.

    A click that the app never acted on (no run started, the old page still on screen
    after a few seconds) is clicked again, as a person would; it is counted, and the
    time still runs from the first click.
    """
    started = time.monotonic()
    await open_page(page, base, target)
    try:
        await rendered(page, previous, REPEAT_AFTER_S)
        return
    except Exception as err:  # noqa: BLE001 - only a timeout leads to a second click
        if "Timeout" not in type(err).__name__:
            raise
    ignored = await page.evaluate(IDLE_JS) and await title_of(page) == previous
    if ignored:
        tally.clicks_repeated += 1
        await open_page(page, base, target)
    await rendered(page, previous, max(1.0, timeout_s - (time.monotonic() - started)))


async def block_static(route: Any) -> None:
    """Skip images, fonts and media; let everything else through."""
    if route.request.resource_type in BLOCKED:
        await route.abort()
    else:
        await route.continue_()


@dataclass(frozen=True)
class Pace:
    """How a virtual person moves: reading time between pages and patience per page."""

    think_s: float = THINK_SECONDS
    page_timeout_s: float = PAGE_TIMEOUT_S
    ramp_s: float = RAMP_SECONDS


async def visitor(
    browser: Any, base: str, number: int, seconds: float, tally: Tally, pace: Pace
) -> None:
    """One person: sign in, then open their pages in turn until the deadline."""
    demo = DEMO_USERS[number % len(DEMO_USERS)]
    pages = [s.path for s in SCREENS if not s.public and set(demo.roles) & s.roles]
    chance = random.Random(number)
    # People arrive over a ramp rather than all in the same second, as they do at work.
    await asyncio.sleep(number * pace.ramp_s)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.route("**/*", block_static)
    page = await context.new_page()
    page.set_default_timeout(pace.page_timeout_s * 1000)
    arrived = time.perf_counter()
    try:
        await page.goto(base, wait_until="domcontentloaded")
        # A person reads the form before typing: by then its first run has finished, so
        # the run that follows it cannot swallow the click on "Sign in".
        await page.locator('input[aria-label="Username"]').wait_for()
        await settled(page)
        await page.locator('input[aria-label="Username"]').fill(demo.username)
        await page.locator('input[aria-label="Password"]').fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Good to see you", exact=False).first.wait_for()
        tally.sign_ins += 1
        tally.sign_in_ms.append((time.perf_counter() - arrived) * 1000)
        # Each person works for the full time once signed in, however long that took.
        deadline = time.monotonic() + seconds
        step = number
        here = "app.py"
        while time.monotonic() < deadline:
            target = pages[step % len(pages)]
            step += 1
            if target == here and len(pages) > 1:
                # A person opens another page, not the one already on screen.
                target = pages[step % len(pages)]
                step += 1
            # Reading time: a person looks at a page before moving on.
            await asyncio.sleep(chance.uniform(0.5, 1.5) * pace.think_s)
            previous = await title_of(page) if len(pages) > 1 else None
            started = time.perf_counter()
            try:
                await follow_link(page, base, target, previous, pace.page_timeout_s, tally)
            except Exception as err:  # noqa: BLE001  (a timeout is an error to count)
                kind = "timed out" if "Timeout" in type(err).__name__ else type(err).__name__
                took_s = time.perf_counter() - started
                shown = await _screen_text(page)
                tally.errors.append(
                    f"{demo.username} {target}: {kind} after {took_s:.0f} s (screen: {shown!r})"
                )
                # Start the next page from a clean load, not from a half-drawn one.
                here = "app.py"
                try:
                    await page.goto(base, wait_until="domcontentloaded")
                except Exception as again:  # noqa: BLE001
                    tally.errors.append(f"{demo.username} reload: {type(again).__name__}")
                continue
            took = (time.perf_counter() - started) * 1000
            problems = await page.locator('[data-testid="stException"]').count()
            text = await page.locator('[data-testid="stMain"]').inner_text()
            if problems or "cannot reach its database" in text or "Sign in" in text[:200]:
                tally.errors.append(f"{demo.username} {target}: page showed an error")
            else:
                tally.served(target, took)
            here = target
    except Exception as err:  # noqa: BLE001
        shown = await _screen_text(page)
        first_line = str(err).splitlines()[0] if str(err) else ""
        tally.errors.append(
            f"{demo.username} sign-in: {type(err).__name__}: {first_line} (screen: {shown!r})"
        )
    finally:
        await context.close()


async def _screen_text(page: Any) -> str:
    """The start of what the page shows, to say what a failed step was looking at."""
    try:
        text = await page.locator('[data-testid="stMain"]').inner_text(timeout=2000)
    except Exception:  # noqa: BLE001 - a page that cannot say is reported as such
        return "(unreadable)"
    return " ".join(str(text).split())[:160]


async def run(base: str, users: int, seconds: float, pace: Pace | None = None) -> Tally:
    """Drive `users` sessions in one Chromium for `seconds`."""
    from playwright.async_api import async_playwright

    tally = Tally()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        await asyncio.gather(
            *(visitor(browser, base, n, seconds, tally, pace or Pace()) for n in range(users))
        )
        await browser.close()
    return tally


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--think", type=float, default=THINK_SECONDS, help="seconds between pages")
    parser.add_argument("--ramp", type=float, default=RAMP_SECONDS, help="seconds between arrivals")
    parser.add_argument(
        "--page-timeout", type=float, default=PAGE_TIMEOUT_S, help="seconds a page may take"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    pace = Pace(think_s=args.think, page_timeout_s=args.page_timeout, ramp_s=args.ramp)
    url = database_for(args.scale, os.environ.get("RAPPORT_DATABASE_URL") or None)
    process, base = start_server(url)
    try:
        started = time.monotonic()
        tally = asyncio.run(run(base, args.users, args.seconds, pace))
        elapsed = time.monotonic() - started
    finally:
        stop_app(process)
    report = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "scale": args.scale,
        "sign_ins": tally.sign_ins,
        "pages_served": len(tally.times_ms),
        "clicks_repeated": tally.clicks_repeated,
        "errors": len(tally.errors),
        "sign_in_median_ms": round(statistics.median(tally.sign_in_ms), 1)
        if tally.sign_in_ms
        else 0,
        "median_ms": round(statistics.median(tally.times_ms), 1) if tally.times_ms else 0,
        "p95_ms": round(percentile(tally.times_ms, 0.95), 1),
        "think_seconds": pace.think_s,
        "ramp_seconds": pace.ramp_s,
        "page_timeout_seconds": pace.page_timeout_s,
        "error_samples": tally.errors[:10],
        "server_log": str(SERVER_LOG.relative_to(ROOT)),
        "by_page": {
            target: {
                "served": len(times),
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
            }
            for target, times in sorted(tally.by_page.items())
        },
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    ok = not tally.errors and tally.sign_ins == args.users and tally.times_ms
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
