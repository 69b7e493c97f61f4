"""Load test: many browser sessions on one real server, on loopback, for a fixed time.

python -m bench.loadtest [--users 25] [--seconds 120] [--scale 1] [--json OUT]

Starts `streamlit run` on a free port over the scale-N benchmark world, opens one
Chromium with `--users` pages, signs each in as a demo user of a different role, and has
each walk the pages its role may open until the time is up. Reports pages served,
errors (an exception box, an error about the database, or a page that never finished)
and the median and 95th percentile time until a page had rendered.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner import ROOT, database_for
from components.nav import SCREENS
from db.fixtures import DEMO_PASSWORD, DEMO_USERS

CHROMIUM = "/usr/bin/chromium"
RENDER_TIMEOUT_MS = 60_000
RAMP_SECONDS = 2.0


@dataclass
class Tally:
    """What the virtual users saw."""

    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sign_ins: int = 0


def url_path(page: str) -> str:
    """The address Streamlit serves a page file at."""
    return "" if page == "app.py" else Path(page).stem


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Serve the app on loopback and wait until it answers."""
    port = _free_port()
    env = dict(os.environ, RAPPORT_DATABASE_URL=database_url)
    env.setdefault("RAPPORT_COOKIE_KEY", "loadtest-" + "k" * 40)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return process, base
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


async def rendered(page: Any) -> None:
    """Wait until the script has finished and drawn its title or sign-in form."""
    await page.locator("h1").first.wait_for(timeout=RENDER_TIMEOUT_MS)
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=RENDER_TIMEOUT_MS,
    )


async def visitor(browser: Any, base: str, number: int, deadline: float, tally: Tally) -> None:
    """One person: sign in, then open their pages in turn until the deadline."""
    demo = DEMO_USERS[number % len(DEMO_USERS)]
    pages = [s.path for s in SCREENS if not s.public and set(demo.roles) & s.roles]
    # People arrive over a ramp rather than all in the same second, as they do at work.
    await asyncio.sleep(number * RAMP_SECONDS)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    try:
        await page.goto(base, wait_until="domcontentloaded")
        await page.locator('input[aria-label="Username"]').fill(demo.username)
        await page.locator('input[aria-label="Password"]').fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("heading", name="Good to see you", exact=False).wait_for(
            timeout=RENDER_TIMEOUT_MS
        )
        tally.sign_ins += 1
        step = number
        while time.monotonic() < deadline:
            target = pages[step % len(pages)]
            step += 1
            started = time.perf_counter()
            try:
                await page.goto(f"{base}/{url_path(target)}", wait_until="domcontentloaded")
                await rendered(page)
            except Exception as err:  # noqa: BLE001  (a timeout is an error to count)
                tally.errors.append(f"{demo.username} {target}: {type(err).__name__}")
                continue
            took = (time.perf_counter() - started) * 1000
            problems = await page.locator('[data-testid="stException"]').count()
            text = await page.locator('[data-testid="stMain"]').inner_text()
            if problems or "cannot reach its database" in text or "Sign in" in text[:200]:
                tally.errors.append(f"{demo.username} {target}: page showed an error")
            else:
                tally.times_ms.append(took)
    except Exception as err:  # noqa: BLE001
        tally.errors.append(f"{demo.username} sign-in: {type(err).__name__}: {err}")
    finally:
        await context.close()


async def run(base: str, users: int, seconds: float) -> Tally:
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
        deadline = time.monotonic() + seconds + users * RAMP_SECONDS
        await asyncio.gather(*(visitor(browser, base, n, deadline, tally) for n in range(users)))
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
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url = database_for(args.scale, os.environ.get("RAPPORT_DATABASE_URL") or None)
    process, base = start_server(url)
    try:
        started = time.monotonic()
        tally = asyncio.run(run(base, args.users, args.seconds))
        elapsed = time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=20)
    report = {
        "users": args.users,
        "seconds": round(elapsed, 1),
        "scale": args.scale,
        "sign_ins": tally.sign_ins,
        "pages_served": len(tally.times_ms),
        "errors": len(tally.errors),
        "median_ms": round(statistics.median(tally.times_ms), 1) if tally.times_ms else 0,
        "p95_ms": round(percentile(tally.times_ms, 0.95), 1),
        "error_samples": tally.errors[:10],
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if not tally.errors and tally.sign_ins == args.users else 1


if __name__ == "__main__":
    raise SystemExit(main())
