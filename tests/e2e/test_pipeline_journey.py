"""In Chromium: a sales user builds a deal from nothing and wins it on the board."""

import re
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
)


def choose(page: Any, label: str, option: str, scope: Any = None) -> None:
    """Pick an option of a Streamlit selectbox by typing it."""
    box = (scope or page).locator(f'input[aria-label="{label}"]').first
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).first.click()


def won_in_period(page: Any) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text="Won in period")
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text())


def card(page: Any, title: str) -> Any:
    """The board card of a deal: its widgets carry the deal id in their key."""
    box = page.locator('[class*="st-key-card_"]', has_text=title).first
    deal_id = re.search(r"st-key-card_(\d+)", box.get_attribute("class") or "")
    assert deal_id, box.get_attribute("class")
    return page.locator(f".st-key-move_{deal_id.group(1)}")


def test_sales_create_a_deal_log_a_call_and_win_it_on_the_board(
    browser: Any, server: str, steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "sales", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()

    page.get_by_role("link", name="Organisations", exact=True).click()
    page.get_by_role("heading", name="Organisations").first.wait_for()
    page.get_by_text("Add an organisation").click()
    field(page, "Organisation name").fill("Quayside Clinic")
    field(page, "Web domain").fill("quayside-clinic.example.org")
    page.get_by_role("button", name="Add organisation").click()
    page.get_by_text("Added Quayside Clinic").first.wait_for()
    steps.shot(page, "organisation")

    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_role("heading", name="Contacts").first.wait_for()
    page.get_by_text("Add a contact").click()
    finder = field(page, "Find their organisation")
    finder.fill("Quayside")
    finder.press("Enter")
    page.wait_for_timeout(1500)
    choose(page, "Organisation", "Quayside Clinic")
    field(page, "Given name").first.fill("Lena")
    field(page, "Family name").first.fill("Okafor")
    field(page, "Email").first.fill("lena.okafor@quayside-clinic.example.org")
    page.get_by_role("button", name="Add contact").click()
    page.get_by_text("Added Lena Okafor").first.wait_for()
    steps.shot(page, "contact")
    page.get_by_role("link", name="Open Lena Okafor").click()
    page.get_by_role("heading", name="Lena Okafor").first.wait_for()

    choose(page, "Channel you are about to use", "phone")
    page.get_by_role("tab", name="Log interaction").click()
    field(page, "Subject").fill("Intro call about care records")
    page.get_by_role("button", name="Log phone").click()
    page.get_by_role("tab", name="Timeline").click()
    # Table cells live in an accessible grid behind the canvas: present, not "visible".
    page.get_by_text("Intro call about care records").first.wait_for(state="attached")
    steps.shot(page, "call-logged")

    page.get_by_role("tab", name="New deal").click()
    field(page, "Deal title").fill("Quayside care records")
    amount = field(page, "Amount")
    amount.fill("24000")
    amount.press("Tab")
    page.get_by_role("button", name="Create deal").click()
    page.get_by_text("Created the deal").first.wait_for()
    steps.shot(page, "deal")

    page.get_by_role("link", name="Forecast", exact=True).click()
    page.get_by_role("heading", name="Forecast").first.wait_for()
    before = won_in_period(page)
    steps.shot(page, "forecast-before")

    page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("heading", name="Board").first.wait_for()
    title = "Quayside care records"
    for target in ("Qualified", "Proposal", "Negotiation", "Won"):
        page.get_by_text(title, exact=True).first.wait_for()
        choose(page, "Move to", target, scope=card(page, title))
        page.wait_for_timeout(1500)
        steps.shot(page, f"board-{target.lower()}")
    page.get_by_text(title, exact=True).wait_for(state="detached")

    page.get_by_role("link", name="Forecast", exact=True).click()
    page.get_by_role("heading", name="Forecast").first.wait_for()
    page.wait_for_timeout(1000)
    after = won_in_period(page)
    steps.shot(page, "forecast-after")

    def amount_of(text: str) -> float:
        return float(re.sub(r"[^\d.]", "", text))

    assert amount_of(after) == amount_of(before) + 24000
