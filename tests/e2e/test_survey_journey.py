"""In Chromium: HR builds a survey from the template, people answer on their phones
through personal links, and results stay hidden while the survey is open and until
the threshold is reached."""

import csv
import io
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
    wait_until_idle,
)

PHONE = {"width": 390, "height": 844}
# Generous: this journey runs many reruns on a machine shared with other tests.
SLOW = 45_000


def answer_through(browser: Any, link: str, steps: Steps, name: str) -> None:
    """Open a personal link on a phone-sized screen and answer every section."""
    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(link)
    progress = phone.get_by_text(re.compile(r"Section 1 of (\d+)"))
    progress.wait_for()
    total = int(re.search(r"of (\d+)", progress.inner_text()).group(1))  # type: ignore[union-attr]
    wait_until_idle(phone)
    # Trying to move on without answering is refused, naming the question.
    phone.get_by_role("button", name="Next").click()
    phone.get_by_text(re.compile(r"Question 1: please answer")).first.wait_for()
    steps.shot(phone, f"{name}-validation")
    for section in range(1, total + 1):
        phone.get_by_text(re.compile(rf"Section {section} of {total}")).first.wait_for()
        # Let the rerun finish, so the previous section's widgets are gone.
        wait_until_idle(phone)
        groups = phone.locator('[role="radiogroup"]')
        for index in range(groups.count()):
            groups.nth(index).locator("label").nth(3).click()
            phone.wait_for_timeout(150)
        if section < total:
            phone.get_by_role("button", name="Next").click()
        else:
            steps.shot(phone, f"{name}-last-section")
            phone.get_by_role("button", name="Submit answers").click()
    phone.get_by_text("Your answers are in").first.wait_for()
    steps.shot(phone, f"{name}-thanks")
    # The same link cannot be used twice.
    phone.goto(link)
    phone.get_by_text("already been used").first.wait_for()
    phone.context.close()


def hr_signed_in(browser: Any, server: str) -> Any:
    """A page signed in as the demo's HR, patient as a shared machine needs, on Home."""
    hr = new_page(browser, accept_downloads=True)
    hr.set_default_timeout(SLOW)
    sign_in(hr, server, "hr", DEMO_PASSWORD)
    hr.get_by_role("heading", name=re.compile("Good to see you, Hana")).first.wait_for()
    return hr


def results_say(page: Any, server: str, text: str | re.Pattern[str]) -> None:
    page.goto(f"{server}/survey_results")
    page.get_by_role("heading", name="Survey results").first.wait_for()
    wait_until_idle(page)
    page.get_by_text(text).first.wait_for()


# Three people answer every section of the full template on a shared CI machine.
@pytest.mark.timeout(600)
def test_results_stay_hidden_until_enough_people_answered(
    browser: Any, server: str, steps: Steps
) -> None:
    hr = hr_signed_in(browser, server)
    hr.get_by_role("link", name="Surveys", exact=True).click()
    hr.get_by_role("heading", name="Surveys", exact=True).first.wait_for()
    wait_until_idle(hr)

    hr.get_by_text("New survey").click()
    field(hr, "Title").fill("Browser engagement survey")
    field(hr, "Confidentiality threshold").fill("3")
    hr.get_by_role("button", name="Create survey").click()
    hr.get_by_text("as a draft").first.wait_for()
    wait_until_idle(hr)
    steps.shot(hr, "created")

    hr.get_by_role("button", name="Open and invite the audience").click()
    hr.get_by_text("Invited").first.wait_for()
    wait_until_idle(hr)
    hr.get_by_role("button", name="Prepare links for mail merge (CSV)").click()
    hr.get_by_role("button", name=re.compile(r"Download \d+ links")).first.wait_for()
    wait_until_idle(hr)
    with hr.expect_download() as download:
        hr.get_by_role("button", name=re.compile(r"Download \d+ links")).click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
    steps.shot(hr, "links")
    assert rows and set(rows[0]) == {"name", "email", "link"}
    links = [
        f"{server}/answer_survey?token={parse_qs(urlparse(r['link']).query)['token'][0]}"
        for r in rows[:3]
    ]

    answer_through(browser, links[0], steps, "first")
    answer_through(browser, links[1], steps, "second")
    results_say(hr, server, re.compile("This survey is open"))
    steps.shot(hr, "hidden-at-two")
    assert hr.get_by_text("Engagement index", exact=True).count() == 0

    answer_through(browser, links[2], steps, "third")
    # Enough people answered, but scores wait for the close.
    results_say(hr, server, re.compile("This survey is open"))
    assert hr.get_by_text("Engagement index", exact=True).count() == 0
    hr.goto(f"{server}/surveys")
    hr.get_by_role("heading", name="Surveys", exact=True).first.wait_for()
    wait_until_idle(hr)
    hr.get_by_role("button", name="Close the survey").click()
    hr.get_by_text(re.compile("Status: closed")).first.wait_for()
    wait_until_idle(hr)
    results_say(hr, server, re.compile("^Engagement index$"))
    steps.shot(hr, "shown-at-three")
    assert hr.get_by_text(re.compile("withheld")).count() == 0
