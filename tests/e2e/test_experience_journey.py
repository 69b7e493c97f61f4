"""In Chromium: a manager goes from Home to the timeline of a customer left waiting."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in


def test_manager_opens_a_waiting_customers_timeline_from_home(
    browser: Any, server: str, steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "manager", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Maya")).first.wait_for()
    page.get_by_role("heading", name="Your team's customers today").first.wait_for()
    page.get_by_role("heading", name="Your team this quarter").first.wait_for()
    steps.shot(page, "home")

    waiting = page.get_by_role("link", name=re.compile(r" · waiting \d+ days · ")).first
    name = (waiting.inner_text() or "").split("\n")[-1].split(" · ")[0].strip()
    assert name, "Home lists a customer waiting for an answer"
    waiting.click()
    page.get_by_role("heading", name=name).first.wait_for()
    page.get_by_role("tab", name="Timeline").click()
    # Table cells live in an accessible grid behind the canvas: present, not "visible".
    page.get_by_text("inbound").first.wait_for(state="attached")
    steps.shot(page, "timeline")

    page.get_by_role("link", name="Customer experience").first.click()
    page.get_by_role("heading", name="Customer experience").first.wait_for()
    page.get_by_text(re.compile(r"Shown: median business hours")).first.wait_for()
    page.get_by_text("Calls not returned", exact=True).click()
    call = page.get_by_role("link", name=re.compile(r" · waiting \d+ days · ")).first
    caller = (call.inner_text() or "").split("\n")[-1].split(" · ")[0].strip()
    call.click()
    page.get_by_role("heading", name=caller).first.wait_for()
    steps.shot(page, "call-not-returned")
