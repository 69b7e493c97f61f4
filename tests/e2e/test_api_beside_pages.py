"""The browser tests' server is the one `make run` starts: pages and the HTTP API together."""

import json
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import Steps

pytestmark = pytest.mark.e2e


def test_the_sign_in_page_and_the_api_health_check_share_one_server(
    server: str, browser: Any, steps: Steps
) -> None:
    with urllib.request.urlopen(f"{server}/api/v1/health", timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok", "database": "ok"}
    page = browser.new_page()
    page.goto(server)
    page.get_by_label("Username").wait_for(timeout=30_000)
    steps.shot(page, "sign-in-beside-the-api")
