"""In Chromium on a phone: the answering page in French (picked, or from the link), and
each survey saying exactly what it stores, before answering and after, in both languages."""

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlmodel import select

from db.auth.actor import OPERATOR
from db.core.engine import make_engine, session_scope
from db.models.surveys import Survey, SurveyStatus
from db.surveys.distribution import issue_links
from db.surveys.voice import ContactSurveyCreate, create_contact_survey, open_contact_survey
from tests.e2e.conftest import ARTIFACTS, Steps
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import wait_until_idle
from tests.e2e.test_survey_journey import PHONE, SLOW


def links(env: dict[str, str]) -> tuple[str, str, str]:
    """Two links to the demo's (anonymous, translated) pulse and one to a named survey."""
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            pulse = session.exec(
                select(Survey).where(
                    Survey.status == SurveyStatus.open.value, Survey.title == "Quarterly pulse"
                )
            ).first()
            assert pulse is not None and pulse.id is not None
            staff = issue_links(
                session=session, survey_id=pulse.id, actor=OPERATOR, everyone_unanswered=True
            )
            named = create_contact_survey(
                session=session,
                survey_in=ContactSurveyCreate(
                    title="Your visit, in your words",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=7),
                    anonymous=False,
                ),
                actor=OPERATOR,
            )
            assert named.id is not None
            open_contact_survey(session=session, survey_id=named.id, actor=OPERATOR)
            customer = issue_links(
                session=session, survey_id=named.id, actor=OPERATOR, everyone_unanswered=True
            )
            tokens = [parse_qs(urlparse(link.url).query)["token"][0] for link in staff[:2]]
            customer_token = parse_qs(urlparse(customer[0].url).query)["token"][0]
            return tokens[0], tokens[1], customer_token
    finally:
        engine.dispose()


def answer_all(phone: Any, submit: str) -> None:
    """Answer every question of a one-section survey and send it."""
    wait_until_idle(phone)
    groups = phone.locator('[role="radiogroup"]')
    for index in range(groups.count()):
        groups.nth(index).locator("label").nth(3).click()
        phone.wait_for_timeout(150)
    phone.get_by_role("button", name=submit).click()


def test_the_pulse_is_answered_in_french_on_a_phone_and_says_what_it_stores(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    english, french, _named = links(server_env)
    ARTIFACTS.mkdir(exist_ok=True)

    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(f"{server}/answer_survey?token={english}")
    phone.get_by_role("heading", name="Quarterly pulse").first.wait_for()
    phone.get_by_text(re.compile("stored without your name or your link")).first.wait_for()
    assert phone.get_by_text(re.compile("not anonymous")).count() == 0
    wait_until_idle(phone)
    phone.screenshot(path=str(ARTIFACTS / "answer-survey-phone-en.png"), full_page=True)
    # Picking French on the page turns the whole questionnaire into French.
    choose(phone, "Language", "Français")
    phone.get_by_role("heading", name="Baromètre trimestriel").first.wait_for()
    phone.get_by_text(re.compile("enregistrées sans votre nom ni votre lien")).first.wait_for()
    phone.get_by_text("Tout à fait d'accord").first.wait_for()
    phone.context.close()

    # A link carrying ?lang=fr opens in French; answering and the thanks stay French.
    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(f"{server}/answer_survey?token={french}&lang=fr")
    phone.get_by_role("heading", name="Baromètre trimestriel").first.wait_for()
    proud = "Je suis fier ou fière de travailler pour cette organisation."
    phone.get_by_text(proud).first.wait_for()
    wait_until_idle(phone)
    phone.screenshot(path=str(ARTIFACTS / "answer-survey-phone-fr.png"), full_page=True)
    phone.get_by_role("button", name="Envoyer mes réponses").click()
    phone.get_by_text(re.compile("Question 1")).first.wait_for()
    answer_all(phone, "Envoyer mes réponses")
    phone.get_by_role("heading", name="Merci").first.wait_for()
    phone.get_by_text("Vos réponses sont enregistrées.").first.wait_for()
    phone.get_by_text(re.compile("sans votre nom ni votre lien")).first.wait_for()
    phone.screenshot(path=str(ARTIFACTS / "answer-survey-phone-fr-thanks.png"), full_page=True)
    steps.shot(phone, "french-thanks")
    phone.context.close()


def test_a_named_customer_survey_says_it_is_not_anonymous_before_and_after_in_french(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    _english, _french, named = links(server_env)
    phone = browser.new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(SLOW)
    phone.goto(f"{server}/answer_survey?token={named}&lang=fr")
    phone.get_by_text(re.compile("Ce questionnaire n'est pas anonyme")).first.wait_for()
    assert phone.get_by_text(re.compile("sans votre nom")).count() == 0
    # Not translated by HR: the questions fall back to English, and the page says so.
    phone.get_by_text(re.compile("pas encore traduite")).first.wait_for()
    steps.shot(phone, "named-survey-in-french")
    answer_all(phone, "Envoyer mes réponses")
    phone.get_by_role("heading", name="Merci").first.wait_for()
    phone.get_by_text(re.compile("Ce questionnaire n'est pas anonyme")).first.wait_for()
    assert phone.get_by_text(re.compile("sans votre nom")).count() == 0
    steps.shot(phone, "named-survey-thanks-in-french")
    phone.context.close()
