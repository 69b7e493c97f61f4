"""In Chromium: HR cuts a closed survey's results by location and tenure band together,
and every blank cell says why it is blank."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import wait_until_idle
from tests.e2e.test_survey_journey import hr_signed_in


def pick(page: Any, label: str, typed: str, option: str | re.Pattern[str]) -> None:
    """Open a selectbox, type to narrow it, and click the option."""
    box = page.locator(f'input[aria-label="{label}"]').first
    box.click()
    box.fill(typed)
    page.get_by_role("option", name=option).first.click()
    wait_until_idle(page)


def test_hr_reads_a_two_cut_view_with_hidden_cells_explained(
    browser: Any, server: str, steps: Steps
) -> None:
    hr = hr_signed_in(browser, server)
    hr.goto(f"{server}/survey_results")
    hr.get_by_role("heading", name="Survey results").first.wait_for()
    wait_until_idle(hr)
    # The demo's closed engagement wave (another test may have closed a survey of its own).
    pick(hr, "Survey", "Engagement survey", re.compile(r"^Engagement survey.*\(closed\)$"))
    hr.get_by_text("Cuts", exact=True).click()
    wait_until_idle(hr)
    pick(hr, "Cut by", "Location", "Location")
    pick(hr, "And by", "Tenure", "Tenure band")
    hr.get_by_text(re.compile("A cell is blank where it holds fewer than")).first.wait_for()
    table = hr.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    hr.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    wait_until_idle(hr)
    hr.locator('[data-testid="stVegaLiteChart"]').first.scroll_into_view_if_needed()
    steps.shot(hr, "cuts-location-by-tenure")
    table.scroll_into_view_if_needed()
    steps.shot(hr, "cuts-location-by-tenure-table")
    # The grid is drawn on a canvas; its CSV download holds exactly what is shown.
    button = hr.locator(".st-key-dl_cuts button")
    button.scroll_into_view_if_needed()
    hr.mouse.move(0, 0)  # off the grid, whose overlay can take the pointer
    with hr.expect_download() as download:
        button.click()
    text = open(download.value.path(), encoding="utf-8").read()
    header = text.splitlines()[0]
    assert header.startswith("location,tenure band,responses"), header
    assert re.search(r"fewer than \d+ responses|cannot be worked out", text), text
