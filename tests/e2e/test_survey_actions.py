"""In Chromium: actions on the Surveys page stay on the survey on screen, and a named
customer survey tells respondents on a phone exactly what it keeps."""

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from db.auth.actor import OPERATOR
from db.core.engine import make_engine, session_scope
from db.models.surveys import SurveyCreate
from db.surveys.builder import create_survey
from db.surveys.distribution import issue_links, open_survey
from db.surveys.voice import ContactSurveyCreate, create_contact_survey, open_contact_survey
from tests.e2e.conftest import Steps
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import open_signed_in, wait_until_idle
from tests.e2e.test_survey_journey import PHONE, SLOW


def prepare(env: dict[str, str]) -> tuple[int, int, str]:
    """An open staff survey with a newer draft above it, and a link to a named survey."""
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            opened = create_survey(
                session=session,
                survey_in=SurveyCreate(
                    title="December customer check",
                    template="pulse",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=14),
                ),
                actor=OPERATOR,
            )
            assert opened.id is not None
            open_survey(session=session, survey_id=opened.id, actor=OPERATOR)
            draft = create_survey(
                session=session,
                survey_in=SurveyCreate(
                    title="A newer draft",
                    template="pulse",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=14),
                ),
                actor=OPERATOR,
            )
            named = create_contact_survey(
                session=session,
                survey_in=ContactSurveyCreate(
                    title="How did we do this month?",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=7),
                    anonymous=False,
                ),
                actor=OPERATOR,
            )
            assert named.id is not None and draft.id is not None
            open_contact_survey(session=session, survey_id=named.id, actor=OPERATOR)
            link = issue_links(
                session=session, survey_id=named.id, actor=OPERATOR, everyone_unanswered=True
            )[0].url
            return opened.id, draft.id, parse_qs(urlparse(link).query)["token"][0]
    finally:
        engine.dispose()


def test_closing_keeps_the_survey_on_screen_and_a_named_survey_says_what_it_keeps(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    opened, draft, token = prepare(server_env)
    hr = open_signed_in(browser, server, "hr", "surveys", "Surveys")
    label = f"December customer check · #{opened}"
    choose(hr, "Survey", label)
    hr.get_by_text(re.compile("^Status: open")).first.wait_for()
    wait_until_idle(hr)
    hr.get_by_role("button", name="Close the survey “December customer check”").click()
    hr.get_by_text("Closed “December customer check”.").first.wait_for()
    wait_until_idle(hr)
    picker = hr.locator('[data-testid="stSelectbox"]').filter(
        has=hr.locator('input[aria-label="Survey"]')
    )
    picker.scroll_into_view_if_needed()
    steps.shot(hr, "closed-stays-on-screen")
    # The picker did not fall back to the newer draft, and the screen says closed.
    shown = f"{picker.locator('input').first.input_value()} {picker.text_content()}"
    assert label in shown and f"A newer draft · #{draft}" not in shown, shown
    hr.get_by_text(re.compile("^Status: closed")).first.wait_for()

    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(f"{server}/answer_survey?token={token}")
    phone.get_by_text(re.compile("This survey is not anonymous")).first.wait_for()
    wait_until_idle(phone)
    assert phone.get_by_text(re.compile("stored without your name")).count() == 0
    steps.shot(phone, "named-survey-on-a-phone")
    groups = phone.locator('[role="radiogroup"]')
    for index in range(groups.count()):
        groups.nth(index).locator("label").nth(1).click()
        phone.wait_for_timeout(150)
    phone.get_by_role("button", name=re.compile("Submit answers|Next")).click()
    phone.get_by_text("Your answers are in").first.wait_for()
    phone.get_by_text(re.compile("stored with your name")).first.wait_for()
    steps.shot(phone, "named-survey-thanks")
    phone.context.close()
