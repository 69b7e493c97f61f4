"""In Chromium: the answering page in the organisation's colour with its logo, on a phone,
and HR's email preview, escaped, in the same colour."""

import re
from typing import Any

from sqlmodel import select

from db.core.engine import make_engine, session_scope
from db.models.surveys import Survey, SurveyStatus
from tests.app.test_survey_pages import fresh_token
from tests.e2e.conftest import Steps
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import open_signed_in, wait_until_idle
from tests.e2e.test_survey_journey import PHONE, SLOW
from tests.helpers import BRAND_COLOUR

BRAND_RGB = "rgb({}, {}, {})".format(*(int(BRAND_COLOUR[i : i + 2], 16) for i in (1, 3, 5)))


def background(locator: Any) -> str:
    return str(locator.evaluate("e => getComputedStyle(e).backgroundColor"))


def test_the_answering_page_wears_the_organisations_colour_and_logo_on_a_phone(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    token = fresh_token(server_env["RAPPORT_DATABASE_URL"])
    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(f"{server}/answer_survey?token={token}")
    phone.get_by_role("heading", name="Quarterly pulse").first.wait_for()
    wait_until_idle(phone)
    submit = phone.get_by_role("button", name="Submit answers")
    assert background(submit) == BRAND_RGB
    # The logo is served by Rapport itself, and it loaded.
    logo = phone.locator('[data-testid="stImage"] img').first
    assert logo.evaluate("e => e.complete && e.naturalWidth") == 96
    assert re.match(rf"^({re.escape(server)})?/media/", str(logo.get_attribute("src")))
    assert logo.get_attribute("alt") == "Rapport"  # the organisation's name
    steps.shot(phone, "answering-on-a-phone")


def pulse_id(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            found = session.exec(
                select(Survey.id).where(
                    Survey.status == SurveyStatus.open.value, Survey.title == "Quarterly pulse"
                )
            ).first()
            assert found is not None
            return found
    finally:
        engine.dispose()


def test_hr_previews_its_invitation_escaped_and_in_the_organisations_colour(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    sid = pulse_id(server_env["RAPPORT_DATABASE_URL"])
    hr = open_signed_in(browser, server, "hr", "surveys", "Surveys")
    choose(hr, "Survey", f"Quarterly pulse · #{sid}")
    wait_until_idle(hr)
    hr.get_by_text("Invitation and reminder wording").click()
    text = hr.locator('textarea[aria-label="Text"]')
    text.fill("Hello {first_name}, <b>please</b> answer by {close_date}.\n\n{link}")
    hr.get_by_role("button", name="Preview").click()
    frame = hr.frame_locator("iframe[srcdoc]").first
    frame.get_by_text("Open the survey").first.wait_for()
    # HR's tag is shown as typed, never obeyed.
    frame.get_by_text(re.compile(r"Hello Alex, <b>please</b> answer by")).first.wait_for()
    assert frame.locator("b").count() == 0
    assert background(frame.get_by_text("Open the survey")) == BRAND_RGB
    assert frame.locator("img").evaluate("e => e.complete && e.naturalWidth") == 96
    wait_until_idle(hr)
    box = hr.locator("iframe[srcdoc]").first
    box.scroll_into_view_if_needed()
    # The frame is tall enough to show what the email says last, not cut off.
    outer = box.bounding_box()
    last = frame.get_by_text(re.compile("Results are shown only for groups")).bounding_box()
    assert outer and last and last["y"] + last["height"] <= outer["y"] + outer["height"]
    steps.shot(hr, "invitation-preview")
