"""Reading an email message: text, never markup; the time it says; a key that is the
same in every mailbox; what marks a mailing or an automatic reply."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from db.core.types import utcnow
from db.integrations.mail_parse import html_to_text, parse_message


def raw(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Ana <ana@example.org>")
    message["To"] = headers.pop("To", "hello@rapport.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hello there.")
    return message


def test_html_becomes_readable_text_without_tags_scripts_styles_or_images() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>b{}</style></head><body>"
        "<script>alert(1)</script><h1>Offer</h1><p>Line one<br>line two</p>"
        "<img src='https://x.example/p.png' alt=''><!-- hidden --><p>&eacute;t&eacute;</p>"
        "</body></html>"
    )
    assert text == "Offer\nLine one\nline two\nété"
    assert html_to_text("<p>Bonjour <b>équipe</b>, <a href='x'>merci</a>.</p>") == (
        "Bonjour équipe, merci."
    )


def test_the_date_header_gives_the_time_in_utc() -> None:
    message = raw(Date="Mon, 02 Nov 2026 10:30:00 +0100", Message_ID="<a@example.org>")
    parsed = parse_message(message.as_bytes())
    assert parsed.occurred_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert parsed.message_id == "a@example.org"


def test_a_missing_or_broken_date_falls_back_to_the_arrival_and_a_future_one_to_now() -> None:
    arrived = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert parse_message(raw().as_bytes(), arrived_at=arrived).occurred_at == arrived
    broken = raw(Date="the day before yesterday")
    assert parse_message(broken.as_bytes(), arrived_at=arrived).occurred_at == arrived
    future = raw(Date="Fri, 01 Jan 2100 00:00:00 +0000")
    assert parse_message(future.as_bytes()).occurred_at <= utcnow() + timedelta(seconds=1)


def test_the_key_is_the_message_id_and_without_one_the_same_bytes_give_the_same_key() -> None:
    with_id = raw(Message_ID="<same@example.org>", Subject="One")
    other = raw(Message_ID="<same@example.org>", Subject="Forwarded copy")
    assert parse_message(with_id.as_bytes()).key == parse_message(other.as_bytes()).key
    bare = raw(Subject="No id", Date="Mon, 02 Nov 2026 10:30:00 +0000")
    assert parse_message(bare.as_bytes()).key == parse_message(bare.as_bytes()).key
    assert parse_message(bare.as_bytes()).key != parse_message(with_id.as_bytes()).key
    assert len(parse_message(bare.as_bytes()).key) == 64


def test_mailings_and_automatic_replies_say_what_they_are() -> None:
    mailing = raw(List_Unsubscribe="<mailto:leave@example.org>")
    assert parse_message(mailing.as_bytes()).marketing
    assert parse_message(raw(Precedence="bulk").as_bytes()).marketing
    assert not parse_message(raw().as_bytes()).marketing
    assert parse_message(raw(Auto_Submitted="auto-replied").as_bytes()).automatic
    assert not parse_message(raw(Auto_Submitted="no").as_bytes()).automatic


def test_encoded_subjects_and_addresses_are_decoded_and_the_excerpt_is_cut() -> None:
    message = EmailMessage()
    message["From"] = "Zoë Lefèvre <zoe@example.fr>"
    message["To"] = "a@example.org, Bob <b@example.org>"
    message["Cc"] = "c@example.org"
    message["Subject"] = "Réunion " + "x" * 300
    message.set_content("é" * 5000)
    parsed = parse_message(message.as_bytes(), excerpt=100)
    assert parsed.senders == (("Zoë Lefèvre", "zoe@example.fr"),)
    assert [a for _n, a in parsed.recipients] == ["a@example.org", "b@example.org", "c@example.org"]
    assert parsed.subject.startswith("Réunion ") and len(parsed.subject) == 200
    assert parsed.text == "é" * 100


def test_a_message_with_only_attachments_has_no_text_and_headers_alone_are_enough() -> None:
    message = EmailMessage()
    message["From"] = "ana@example.org"
    message["Subject"] = "Scan"
    message.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="scan.pdf")
    assert parse_message(message.as_bytes()).text == ""
    headers = message.as_bytes().split(b"\n\n", 1)[0] + b"\n\n"
    assert parse_message(headers).subject == "Scan"
