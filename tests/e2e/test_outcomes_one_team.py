"""In Chromium: a manager with one team reads it against the company on People and outcomes."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in


def test_a_one_team_manager_sees_their_team_against_the_company_with_no_scatters(
    browser: Any, server: str, steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "manager", DEMO_PASSWORD)
    page.get_by_role("link", name="People and outcomes").first.click()
    page.get_by_role("heading", name="People and outcomes").first.wait_for()
    page.get_by_role("heading", name="North against the company").first.wait_for()
    page.get_by_text("Customer NPS", exact=True).first.wait_for()
    # A bar with the company's line for every outcome: drawn charts, not empty frames.
    charts = page.locator(".vega-embed")
    charts.nth(5).wait_for()
    assert charts.count() == 6
    assert page.get_by_role("heading", name="Engagement and each outcome").count() == 0
    assert page.get_by_text(re.compile(r"r = [+-]")).count() == 0
    page.get_by_text(re.compile("^Lower is better")).first.wait_for()
    steps.shot(page, "one-team")
