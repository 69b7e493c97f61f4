"""In Chromium: HR opens the results of the last demo wave and reads its drivers."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle
from tests.e2e.test_survey_journey import SLOW


def test_hr_sees_the_driver_matrix_with_strengths_and_focus_areas(
    browser: Any, server: str, steps: Steps
) -> None:
    hr = new_page(browser)
    hr.set_default_timeout(SLOW)
    sign_in(hr, server, "hr", DEMO_PASSWORD)
    hr.goto(f"{server}/survey_results")
    hr.get_by_role("heading", name="Survey results").first.wait_for()
    wait_until_idle(hr)
    choose(hr, "Survey", "Engagement survey, wave 3 (closed)")
    wait_until_idle(hr)
    hr.get_by_text("Drivers", exact=True).click()
    hr.get_by_role("heading", name="Driver matrix").first.wait_for()
    wait_until_idle(hr)
    chart = hr.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    # Vega draws the matrix: its axes name what the two dimensions are.
    chart.locator("canvas, svg").first.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["height"] > 300, box
    hr.get_by_text("Top strengths").first.wait_for()
    hr.get_by_text("Top focus areas").first.wait_for()
    hr.get_by_text(re.compile(r"The lines split at the median impact")).first.wait_for()
    steps.shot(hr, "driver-matrix")
    # The heatmap beside it compares with the company and the previous wave.
    hr.get_by_text("Heatmap", exact=True).click()
    hr.get_by_text(re.compile("against the company overall")).first.wait_for()
    wait_until_idle(hr)
    steps.shot(hr, "heatmap-compared")
