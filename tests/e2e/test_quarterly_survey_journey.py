"""In Chromium, one quarter of HR's work: a pulse built from the template, translated into
French, opened by the schedule (the worker emails the links to a real SMTP server on
loopback), answered on phones in English and in French, reminded automatically to those
who have not answered only, closed, and handed to the team's leader as a PDF.

The schedule's days cannot pass in a test: where a day must pass, the survey's stored
times are moved back by that much, exactly as if the clock had moved on.
"""

import io
import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pypdf import PdfReader
from sqlmodel import col, select

from db.core.engine import make_engine, session_scope
from db.demo.surveys import PULSE_FRENCH
from db.models.surveys import Survey
from db.surveys.languages import translation_rows
from tests.e2e.conftest import ARTIFACTS, Steps, manage
from tests.e2e.test_consent_withdrawal import choose
from tests.e2e.test_sign_in_and_admin import field, open_signed_in
from tests.e2e.test_sign_in_and_admin import wait_until_idle as idle
from tests.e2e.test_survey_journey import PHONE, SLOW
from tests.e2e.test_survey_languages import answer_all
from tests.smtp_sink import smtp_sink

TITLE = "Q1 pulse, Sales North"


def open_expander(page: Any, label: str, inside: Any) -> None:
    """Open an expander; a click landing in a rerun that redraws it is tried again."""
    for _ in range(3):
        page.get_by_text(label, exact=True).click()
        try:
            inside.wait_for(state="visible", timeout=10_000)
            return
        except PlaywrightTimeout:
            idle(page)
            if inside.is_visible():
                return
    raise AssertionError(f"the expander {label!r} never opened")


def survey_id(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            found = session.exec(select(Survey).where(col(Survey.title) == TITLE)).one()
            assert found.id is not None
            return found.id
    finally:
        engine.dispose()


def clock_moves_on(url: str, sid: int, by: timedelta) -> None:
    """As if `by` had passed: every time the survey keeps is that much further back."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            survey = session.get(Survey, sid)
            assert survey is not None
            for name in ("opens_at", "opened_at", "closes_at"):
                if getattr(survey, name) is not None:
                    setattr(survey, name, getattr(survey, name) - by)
            session.add(survey)
            session.commit()
    finally:
        engine.dispose()


def worker(env: dict[str, str], port: int) -> str:
    """One pass of `manage.py worker`, sending mail to the sink."""
    return manage(
        {**env, "RAPPORT_SMTP_HOST": "127.0.0.1", "RAPPORT_SMTP_PORT": str(port)}, "worker"
    )


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def token_in(message: EmailMessage) -> str:
    found = re.search(r"https?://\S+answer_survey\?\S+", text_of(message))
    assert found is not None, text_of(message)
    return parse_qs(urlparse(found.group(0)).query)["token"][0]


def about_the_survey(messages: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in messages if TITLE in str(m["Subject"])]


@pytest.mark.timeout(900)
def test_a_quarter_in_two_languages_with_an_automatic_reminder_and_a_leaders_pdf(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    url = server_env["RAPPORT_DATABASE_URL"]
    hr = open_signed_in(browser, server, "hr", "surveys", "Surveys")

    # Built from the pulse template, for one team.
    open_expander(hr, "New survey", field(hr, "Title"))
    field(hr, "Title").fill(TITLE)
    choose(hr, "Start from", "Pulse template")
    choose(hr, "Audience: department", "Sales")
    choose(hr, "Audience: team", "North")
    field(hr, "Confidentiality threshold").fill("3")
    hr.get_by_role("button", name="Create survey").click()
    hr.get_by_text("as a draft").first.wait_for()
    idle(hr)
    sid = survey_id(url)

    # Translated into French, every piece of its wording.
    hr.goto(f"{server}/survey_translations")
    hr.get_by_role("heading", name="Survey translations").first.wait_for()
    idle(hr)
    choose(hr, "Survey", f"{TITLE} (#{sid}, draft)")
    idle(hr)
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = translation_rows(session=session, survey_id=sid, language="fr")
    engine.dispose()
    boxes = hr.locator("textarea")
    for index, row in enumerate(rows):
        boxes.nth(index).fill(PULSE_FRENCH[row.key])
    hr.get_by_role("button", name="Save Français translation").click()
    hr.get_by_text(f"{len(rows)} of {len(rows)} translated").first.wait_for()
    idle(hr)
    steps.shot(hr, "translated")

    # Scheduled: opens tomorrow at nine by itself, one reminder a day after it opened.
    hr.goto(f"{server}/surveys")
    hr.get_by_role("heading", name="Surveys", exact=True).first.wait_for()
    idle(hr)
    choose(hr, "Survey", f"{TITLE} · #{sid}")
    idle(hr)
    hr.get_by_text("Open at a set time").click()
    idle(hr)
    tomorrow = (hr.evaluate("Date.now()") // 1000 // 86400 + 1) * 86400
    day = hr.evaluate(f"new Date({tomorrow * 1000}).toISOString().slice(0, 10)")
    # The date is typed into its year, month and day fields, as a keyboard user would.
    hr.get_by_role("group", name="Date").first.get_by_role("spinbutton").first.focus()
    hr.keyboard.type(day.replace("-", ""))
    hr.keyboard.press("Escape")
    field(hr, "Reminders, at most").fill("1")
    field(hr, "First reminder after (days)").fill("1")
    hr.get_by_role("button", name="Save schedule").click()
    hr.get_by_text(f"Saved the schedule of “{TITLE}”").first.wait_for()
    idle(hr)
    hr.get_by_text(re.compile("opens by itself")).first.wait_for()
    steps.shot(hr, "scheduled")

    with smtp_sink() as (port, mailbox):
        assert f"survey {sid}" not in worker(server_env, port)  # not due yet
        clock_moves_on(url, sid, timedelta(days=1))
        assert f"survey {sid} opened, invitations 38 sent" in worker(server_env, port)
        invitations = about_the_survey(mailbox.messages)
        assert len(invitations) == 38
        # Two answer in English, two in French (one from the link, one picked on the page).
        answered = {str(m["To"]) for m in invitations[:4]}
        for number, message in enumerate(invitations[:4]):
            phone = browser.new_context(viewport=PHONE).new_page()
            phone.set_default_timeout(SLOW)
            link = f"{server}/answer_survey?token={token_in(message)}"
            if number == 0:
                link += "&lang=fr"
            phone.goto(link)
            if number == 1:
                phone.get_by_role("heading", name=TITLE).first.wait_for()
                idle(phone)
                choose(phone, "Language", "Français")
            french = number < 2
            heading = PULSE_FRENCH["title"] if french else TITLE
            phone.get_by_role("heading", name=heading).first.wait_for()
            if number == 0:
                steps.shot(phone, "answering-in-french")
            answer_all(phone, "Envoyer mes réponses" if french else "Submit answers")
            phone.get_by_role("heading", name="Merci" if french else "Thank you").first.wait_for()
            phone.context.close()

        # A day after opening, the worker reminds the 34 who have not answered, only them.
        clock_moves_on(url, sid, timedelta(days=1))
        before = len(mailbox.messages)
        assert f"survey {sid} reminder 1: 34 sent" in worker(server_env, port)
        reminders = about_the_survey(mailbox.messages[before:])
        assert len(reminders) == 34
        assert all(str(m["Subject"]).startswith("Reminder: ") for m in reminders)
        assert not answered & {str(m["To"]) for m in reminders}
        assert f"survey {sid} reminder" not in worker(server_env, port)  # once only

    hr.reload()
    hr.get_by_role("heading", name="Surveys", exact=True).first.wait_for()
    idle(hr)
    hr.get_by_text(re.compile("reminders sent so far: 1")).first.wait_for()
    hr.get_by_role("button", name=f"Close the survey “{TITLE}”").click()
    hr.get_by_text(re.compile("Status: closed")).first.wait_for()
    hr.context.close()

    # The team's leader takes the PDF: four answers, in two languages, counted together.
    leader = open_signed_in(
        browser, server, "manager", "survey_results", "Survey results", accept_downloads=True
    )
    choose(leader, "Survey", f"{TITLE} (closed)")
    idle(leader)
    choose(leader, "Group", "· · North")
    idle(leader)
    steps.shot(leader, "leader-results")
    with leader.expect_download() as download:
        leader.get_by_role("button", name="Download PDF for this group").click()
    pdf = open(download.value.path(), "rb").read()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "quarterly-leader-report.pdf").write_bytes(pdf)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert TITLE in text and "Group: North" in text and "Prepared for: Maya Manager" in text
    assert re.search(r"North\s+38\s+4\b", text), text
