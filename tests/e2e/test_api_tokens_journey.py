"""In Chromium: an administrator makes an API token on its page; a call pushed with it
over HTTP appears on the person's Contact 360."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Steps
from tests.e2e.test_pipeline_journey import choose
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e


def test_a_token_made_on_the_page_pushes_a_call_onto_contact_360(
    browser: Any, server: str, steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "admin", DEMO_PASSWORD)
    page.get_by_role("link", name="API tokens", exact=True).click()
    page.get_by_role("heading", name="API tokens").first.wait_for()
    field(page, "Name").fill("phone system")
    choose(page, "Acts as", "Sam Sales (sales)")
    page.get_by_role("button", name="Create token").click()
    page.get_by_text("shown only this once").first.wait_for()
    wait_until_idle(page)
    token = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    assert re.fullmatch(r"rpt_[A-Za-z0-9_-]{40,}", token), token
    steps.shot(page, "token-created")

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{server}/api/v1", headers=headers, timeout=30) as api:
        contact = api.post("/contacts", json={"given_name": "Iris", "family_name": "Okafor"})
        assert contact.status_code == 201, contact.text
        contact_id = contact.json()["id"]
        pushed = api.post(
            "/interactions",
            json={
                "contact_id": contact_id,
                "channel": "phone",
                "direction": "inbound",
                "subject": "Rang about the renewal quote",
                "occurred_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            },
        )
        assert pushed.status_code == 201, pushed.text

    page.goto(f"{server}/contact?id={contact_id}")
    # The timeline is a data grid: its cells are drawn on a canvas, with hidden text.
    page.get_by_text("Rang about the renewal quote").first.wait_for(state="attached")
    wait_until_idle(page)
    steps.shot(page, "call-on-contact-360")

    page.get_by_role("link", name="API tokens", exact=True).click()
    page.get_by_role("heading", name="API tokens").first.wait_for()
    wait_until_idle(page)
    assert page.get_by_text("rpt_").count() >= 1  # the start of it, in the list
    assert page.get_by_text(token).count() == 0  # never the token again
    steps.shot(page, "token-listed")
