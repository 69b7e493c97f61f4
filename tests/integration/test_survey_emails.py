"""Survey emails as people read them: both parts, the logo inline, the sender, the wording.

Every message goes through a real SMTP server on loopback and is read back as received.
"""

import re
from datetime import timedelta
from email.message import EmailMessage, Message
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.consent.preferences import one_click_unsubscribe
from db.core.branding import LogoUnusable
from db.core.errors import ValidationError
from db.core.types import utcnow
from db.models.surveys import SurveyInvitation, SurveyMailWording
from db.surveys.answers import open_link
from db.surveys.distribution import (
    MailNotConfigured,
    SendReport,
    SmtpSettings,
    open_survey,
    preview_mail,
    send_round,
)
from db.surveys.languages import save_translations
from db.surveys.schedule import Schedule, run_schedule, set_schedule
from db.surveys.voice import FEEDBACK_PURPOSE, open_contact_survey
from db.surveys.wording import LOGO_CID, Draft, check_wording, reset_wording, save_wording, wording
from tests.helpers import write_logo
from tests.integration.consent_helpers import purpose
from tests.integration.test_survey_voice import contact_survey, customers, hr, world
from tests.integration.test_surveys import new_survey, staff
from tests.smtp_sink import Mailbox, plain_text, smtp_sink

__all__ = ["world"]

SENDER = "surveys@hopital-nord.example"
LINK = re.compile(r"https?://\S+/answer_survey\?token=([\w-]+)(?:&lang=(\w+))?")


@pytest.fixture
def branded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> bytes:
    """The organisation's name, logo and colour configured; returns the logo's bytes."""
    logo = write_logo(tmp_path / "logo.png")
    monkeypatch.setenv("RAPPORT_ORG_NAME", "Hôpital Nord")
    monkeypatch.setenv("RAPPORT_ORG_LOGO", str(logo))
    monkeypatch.setenv("RAPPORT_BRAND_COLOUR", "#8A1C7C")
    return logo.read_bytes()


def parts(message: Message) -> tuple[str, str, list[EmailMessage]]:
    """The plain text, the HTML and the inline images of a received message."""
    assert isinstance(message, EmailMessage)
    page = message.get_body(("html",))
    assert page is not None
    images = [p for p in message.walk() if p.get_content_maintype() == "image"]
    return plain_text(message), page.get_content(), images  # type: ignore[return-value]


def opened_staff_survey(session: Session, people: int = 5) -> int:
    staff(session, {("Sales", "North"): people})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    return sid


def send_to(
    port: int, session: Session, sid: int, *, sender: str = SENDER, reminder: bool = False
) -> SendReport:
    """One send through the sink on `port`."""
    return send_round(
        session=session,
        survey_id=sid,
        actor=OPERATOR,
        smtp=SmtpSettings("127.0.0.1", port, sender=sender),
        reminder=reminder,
    )


def send(session: Session, sid: int, *, reminder: bool = False) -> Mailbox:
    """One send through a fresh sink; returns what it received."""
    with smtp_sink() as (port, mailbox):
        send_to(port, session, sid, reminder=reminder)
    return mailbox


def test_an_invitation_has_a_text_and_an_html_part_the_logo_inline_and_the_named_sender(
    session: Session, branded: bytes
) -> None:
    sid = opened_staff_survey(session)
    mailbox = send(session, sid)
    assert len(mailbox.messages) == 5
    message = mailbox.messages[0]
    assert message.get_content_type() == "multipart/alternative"
    text_part, related = message.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    assert [p.get_content_type() for p in related.get_payload()] == ["text/html", "image/png"]
    assert message["From"].addresses[0].display_name == "Hôpital Nord"
    assert message["From"].addresses[0].addr_spec == SENDER
    text, page, images = parts(message)
    # The logo travels inside the email, referred to by its Content-ID: nothing is fetched.
    assert len(images) == 1 and images[0].get_content() == branded
    assert images[0]["Content-ID"] == f"<{LOGO_CID}>"
    assert images[0].get_content_disposition() == "inline"
    assert f'src="cid:{LOGO_CID}"' in page and "http" not in page.split("<img", 1)[1][:80]
    assert "#8a1c7c" in page
    # Both parts carry the same personal link, and it opens the survey.
    in_text = LINK.search(text)
    in_page = LINK.search(page)
    assert in_text and in_page and in_text.group(1) == in_page.group(1)
    assert in_text.group(2) == "en"
    assert open_link(session=session, token=in_text.group(1)).survey_id == sid
    assert text.startswith("Hello Person,") and "Pulse" in text
    assert "Your answers are stored without your name" in text
    assert "Hello Person," in page and "Open the survey" in page


def test_a_survey_translated_into_french_writes_each_language_with_its_own_link(
    session: Session, branded: bytes
) -> None:
    sid = opened_staff_survey(session)
    save_translations(
        session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"title": "Pouls"}
    )
    text, page, _images = parts(send(session, sid).messages[0])
    english, french = text.split("—" * 24)
    assert "Hello Person," in english and "“Pulse”" in english
    assert "Bonjour Person," in french and "« Pouls »" in french
    assert "sans votre nom" in french  # what is stored, said in French
    assert [m.group(2) for m in LINK.finditer(text)] == ["en", "fr"]
    assert '<div lang="fr">' in page and "Ouvrir le questionnaire" in page
    message = send(session, sid, reminder=True).messages[0]
    assert message["Subject"] == "Reminder: Pulse / Rappel : Pouls"


def test_hr_wording_reaches_the_scheduled_reminder_escaped_and_per_language(
    session: Session, branded: bytes
) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = new_survey(session).id or 0
    save_translations(
        session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"title": "Pouls"}
    )
    body = "Hi {first_name}, <b>only</b> {close_date} left.\n\n{link}\n\n{organisation} HR"
    draft = Draft("en", "reminder", "Last days for {survey_title}", body)
    save_wording(session=session, actor=OPERATOR, survey_id=sid, draft=draft)
    start = utcnow()
    set_schedule(
        session=session,
        survey_id=sid,
        actor=OPERATOR,
        schedule=Schedule(opens_at=start + timedelta(minutes=1), remind_after_days=2, remind_max=1),
    )
    with smtp_sink() as (port, mailbox):
        smtp = SmtpSettings("127.0.0.1", port, sender=SENDER)
        run_schedule(session, start + timedelta(minutes=1), smtp)
        assert "reminder 1: 5 sent" in run_schedule(
            session, start + timedelta(days=2, hours=1), smtp
        )
    invitation, reminder = mailbox.messages[0], mailbox.messages[5]
    # The invitation kept the default wording; the reminder is HR's, in English only.
    assert parts(invitation)[0].startswith("Hello Person,")
    assert reminder["Subject"] == "Last days for Pulse / Rappel : Pouls"
    text, page, _images = parts(reminder)
    assert text.startswith("Hi Person, <b>only</b> ")
    assert "Hôpital Nord HR" in text
    assert "Il est encore temps de répondre à « Pouls »" in text  # French default
    # HR's text is text in the HTML part too: the tag is shown, never obeyed.
    assert "&lt;b&gt;only&lt;/b&gt;" in page and "<b>only</b>" not in page


@pytest.mark.parametrize(
    ("subject", "body", "says"),
    [
        ("Hello", "Go: {link} {firstname}", "{firstname} is not a placeholder"),
        ("Hello", "Go: {first_name}", "put {link} where the person's link goes"),
        ("Hello {link}", "{link}", "{link} belongs in the text"),
        ("Hello", "Go {link", "a { or } without its pair"),
        ("Hello", "Go {link!r}", "write the placeholder plainly, as {link}"),
        ("Hello", "Go {link.__class__}", "is not a placeholder"),
        ("", "{link}", "subject: write one"),
        ("Hello", "{link}" + "x" * 4000, "at most 4000 characters"),
    ],
)
def test_wording_with_a_bad_placeholder_is_refused_with_the_fix(
    session: Session, subject: str, body: str, says: str
) -> None:
    sid = new_survey(session).id or 0
    with pytest.raises(ValidationError, match=re.escape(says)):
        draft = Draft("en", "invitation", subject, body)
        save_wording(session=session, actor=OPERATOR, survey_id=sid, draft=draft)
    assert session.exec(select(SurveyMailWording)).all() == []


def test_braces_doubled_are_kept_and_resetting_brings_back_the_default(session: Session) -> None:
    sid = new_survey(session).id or 0
    assert check_wording("invitation", "Hi", "{{not a placeholder}} {link}").edited
    assert check_wording("invitation", "Hi", "a\x00b {link}").body == "ab {link}"
    draft = Draft("fr", "invitation", "Salut", "{link}")
    save_wording(session=session, actor=OPERATOR, survey_id=sid, draft=draft)
    assert wording(session=session, survey_id=sid, language="fr", kind="invitation").edited
    assert not wording(session=session, survey_id=sid, language="en", kind="invitation").edited
    back = reset_wording(
        session=session, actor=OPERATOR, survey_id=sid, language="fr", kind="invitation"
    )
    assert back.body.startswith("Bonjour {first_name}")
    assert not wording(session=session, survey_id=sid, language="fr", kind="invitation").edited


def test_the_preview_escapes_hr_text_and_embeds_the_logo_without_sending(
    session: Session, branded: bytes
) -> None:
    sid = new_survey(session).id or 0
    body = '<img src="https://evil.example/p.png"> {first_name}\n\n{link}'
    draft = Draft("en", "invitation", "<script>alert(1)</script> {survey_title}", body)
    preview = preview_mail(session=session, actor=OPERATOR, survey_id=sid, draft=draft)
    assert preview.subject == "<script>alert(1)</script> Pulse"
    assert "<script>" not in preview.html and 'evil.example/p.png">' not in preview.html
    assert "&lt;img src=&quot;https://evil.example/p.png&quot;&gt; Alex" in preview.html
    assert "data:image/png;base64," in preview.html and "cid:" not in preview.html
    assert "default-src 'none'" in preview.html
    assert "SAMPLE-LINK" in preview.text
    assert session.exec(select(SurveyMailWording)).all() == []


def test_a_localhost_sender_is_refused_outside_the_demo_before_anything_is_sent(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = opened_staff_survey(session)
    monkeypatch.setenv("RAPPORT_DEMO", "0")
    with smtp_sink() as (port, mailbox):
        with pytest.raises(MailNotConfigured, match="RAPPORT_SMTP_FROM"):
            send_to(port, session, sid, sender="surveys@localhost")
        assert mailbox.messages == []
        report = send_to(port, session, sid)
    assert report.sent == 5
    assert {i.sent_count for i in session.exec(select(SurveyInvitation)).all()} == {1}


def test_a_logo_that_is_not_an_image_stops_the_send_before_the_first_email(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sid = opened_staff_survey(session)
    fake = tmp_path / "logo.png"
    fake.write_text("not an image", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_ORG_LOGO", str(fake))
    with smtp_sink() as (port, mailbox):
        with pytest.raises(LogoUnusable, match="not a PNG, JPEG or GIF"):
            send_to(port, session, sid)
    assert mailbox.messages == []


def test_a_customer_unsubscribes_in_one_click_from_the_email_and_gets_no_reminder(
    world: Session,
) -> None:
    feedback = purpose(world, FEEDBACK_PURPOSE, marketing=False)
    customers(world, 6, feedback)
    sid = contact_survey(world)
    open_contact_survey(session=world, survey_id=sid, actor=hr(world))
    first = send(world, sid)
    message = next(m for m in first.messages if m["To"] == "c0@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.search(r"<([^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"])
    assert one_click
    url = urlparse(one_click.group(1))
    assert parse_qs(url.query)["purpose"] == [FEEDBACK_PURPOSE]
    text, page, _images = parts(message)
    assert "To stop, or to change what you hear from us: http" in text
    assert "/preferences?token=" in page
    token = url.path.rsplit("/", 1)[1]
    assert one_click_unsubscribe(session=world, token=token, purpose_code=FEEDBACK_PURPOSE)
    again = send(world, sid, reminder=True)
    assert len(again.messages) == 5
    assert "c0@example.org" not in {m["To"] for m in again.messages}
