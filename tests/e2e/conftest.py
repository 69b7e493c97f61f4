"""A real server on a free port and Debian's Chromium driven by Playwright."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import start_server, stop_server
from tests.conftest import IN_CI, ROOT
from tests.helpers import BRAND_COLOUR, write_logo

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing; install Debian's chromium package."
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the test server runs with (its database among it)."""
    data = tmp_path_factory.mktemp("e2e")
    env = dict(os.environ)
    env["RAPPORT_DATABASE_URL"] = f"sqlite:///{data / 'rapport.db'}"
    env["RAPPORT_E2E_DATA"] = str(data)
    # The organisation's look, so the browser sees it where it is used (not the default).
    env["RAPPORT_BRAND_COLOUR"] = BRAND_COLOUR
    env["RAPPORT_ORG_LOGO"] = str(write_logo(data / "logo.png"))
    return env


def manage(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run a manage.py command against the test server's database."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture(scope="session")
def server(server_env: dict[str, str]) -> Iterator[str]:
    """`make run` in miniature: migrate, seed the demo, serve on a free port."""
    _require_browser()
    env = server_env
    data = Path(env["RAPPORT_E2E_DATA"])
    for command in (["migrate"], ["seed", "--if-empty"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    process, url = start_server(env, data / "server.log")
    yield url
    stop_server(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the run; it never downloads anything."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # A document the test fulfils itself (to add the proxy's headers) would
                # otherwise count as public and be refused its websocket to loopback.
                "--disable-features=LocalNetworkAccessChecks",
            ],
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


class Steps:
    """Screenshots of each step; kept under test-artifacts/ when the test fails."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def shot(self, page: object, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _fresh_contexts(browser: Any) -> Iterator[None]:
    """Each test's pages are closed after it (and after its failure screenshots)."""
    yield
    for context in list(browser.contexts):
        context.close()


@pytest.fixture
def steps(request: pytest.FixtureRequest, tmp_path: Path, browser: Any) -> Iterator[Steps]:
    recorder = Steps(tmp_path)
    yield recorder
    if request.node.stash.get(FAILED, False):
        # What each open page showed when the test gave up.
        for number, page in enumerate(p for c in browser.contexts for p in c.pages):
            try:
                recorder.shot(page, f"at-failure-page-{number + 1}")
            except Exception:  # noqa: BLE001 - a closed page has nothing to show
                continue
        target = ARTIFACTS / request.node.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(tmp_path, target)
