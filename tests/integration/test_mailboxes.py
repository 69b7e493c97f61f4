"""The mailbox sync against a real IMAP server (Dovecot on loopback): real messages in,
the contacts' timelines out, on SQLite and PostgreSQL."""

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR
from db.consent.audit.report import run_audit
from db.consent.erasure import suppression_digests
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.integrations import mail_sync
from db.integrations.mail_senders import (
    create_contact_from_sender,
    ignore_sender,
    list_unknown_senders,
)
from db.integrations.mail_sync import sync_all, sync_mailbox
from db.integrations.mailboxes import (
    acquire_lease,
    check_connection,
    create_mailbox,
    health,
    lease_holder,
    release_lease,
    update_mailbox,
)
from db.models.audit import AuditEvent
from db.models.consent import ConsentAction, Suppression
from db.models.integrations_mail import (
    Mailbox,
    MailboxCreate,
    MailboxUpdate,
    MailLinkStatus,
    MailMessageContact,
    MailSecurity,
)
from db.models.people import Contact, ContactCreate, Direction, Interaction, Purpose
from db.people.contacts import create_contact
from tests.conftest import IN_CI
from tests.imap_server import ImapServer, dovecot_binary, running_dovecot
from tests.integration.consent_helpers import consent, purpose, user

PASSWORD_VARIABLE = "MAILBOX_PASSWORD_TEST"


@pytest.fixture(scope="module")
def imap() -> Iterator[ImapServer]:
    """One Dovecot for the module; each test makes users of its own."""
    if dovecot_binary() is None:
        if IN_CI:
            pytest.fail("dovecot is not installed; .ci/run installs dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def account(imap: ImapServer, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A fresh IMAP user whose password the environment holds, as in production."""
    name, password = imap.add_user()
    monkeypatch.setenv(PASSWORD_VARIABLE, password)
    return name, password


def connect(
    session: Session, imap: ImapServer, username: str, address: str, **extra: object
) -> int:
    values: dict[str, object] = {
        "name": address.split("@")[0],
        "address": address,
        "host": imap.host,
        "port": imap.port,
        "security": MailSecurity.plain,
        "username": username,
        "password_env": PASSWORD_VARIABLE,
    }
    values.update(extra)
    mailbox = create_mailbox(
        session=session, mailbox_in=MailboxCreate.model_validate(values), actor=OPERATOR
    )
    return mailbox.id or 0


def contact(session: Session, given: str, family: str, **extra: object) -> Contact:
    values: dict[str, object] = {"given_name": given, "family_name": family, **extra}
    return create_contact(
        session=session, contact_in=ContactCreate.model_validate(values), actor=OPERATOR
    )


def mail(
    sender: str,
    to: str,
    subject: str,
    text: str | None = "Hello",
    *,
    html: str | None = None,
    when: datetime | None = None,
    cc: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(when or datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message


def interactions_of(session: Session, person: Contact) -> list[Interaction]:
    session.expire_all()
    return list(
        session.exec(
            select(Interaction)
            .where(col(Interaction.contact_id) == person.id)
            .order_by(col(Interaction.occurred_at))
        ).all()
    )


def test_real_messages_land_on_the_senders_timeline_as_plain_text(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    zoe = contact(session, "Zoë", "Lefèvre", email="zoe@example.fr")
    when = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    accents = mail(
        "Zoë Lefèvre <ZOE@example.fr>",
        "hello@rapport.example",
        "Réunion à Genève — café ☕",
        "Bonjour, voilà le compte-rendu de la réunion: déjà prêt, ça marche.\n",
        when=when,
    )
    attached = mail(
        "zoe@example.fr",
        "hello@rapport.example",
        "Contrat signé",
        "Voici le contrat.",
        when=when + timedelta(hours=1),
    )
    attached.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="contrat.pdf"
    )
    attached.add_attachment(b"\x89PNG\r\n", maintype="image", subtype="png", filename="logo.png")
    html_only = mail(
        "zoe@example.fr",
        "hello@rapport.example",
        "HTML only",
        None,
        html=(
            "<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
            "<body><p>Bonjour <b>équipe</b>,</p><p>Merci&nbsp;!</p>"
            "<img src='https://tracker.example/pixel.png'></body></html>"
        ),
        when=when + timedelta(hours=2),
    )
    forwarded = mail(
        "zoe@example.fr",
        "hello@rapport.example",
        "Fwd: Devis",
        "Pour info, voir plus bas.\n\n---------- Forwarded message ---------\n"
        "From: Marc <marc@example.fr>\nSubject: Devis\n\nLe devis est prêt.\n",
        when=when + timedelta(hours=3),
    )
    inner = mail("marc@example.fr", "zoe@example.fr", "Devis", "Le devis est prêt.")
    forwarded.add_attachment(inner)
    big = mail(
        "zoe@example.fr",
        "hello@rapport.example",
        "Photos du chantier",
        "Les photos en pièce jointe.",
        when=when + timedelta(hours=4),
    )
    big.add_attachment(
        os.urandom(5 * 1024 * 1024),
        maintype="application",
        subtype="octet-stream",
        filename="photos.zip",
    )
    for message in (accents, attached, html_only, forwarded, big):
        imap.deliver(name, password, message.as_bytes())

    result = sync_mailbox(session=session, mailbox_id=box)

    assert result.status == "synced", result.error
    assert result.fetched == 5 and result.logged == 5
    logged = interactions_of(session, zoe)
    assert [i.subject for i in logged] == [
        "Réunion à Genève — café ☕",
        "Contrat signé",
        "HTML only",
        "Fwd: Devis",
        "Photos du chantier",
    ]
    assert all(i.channel == "email" and i.direction == Direction.inbound for i in logged)
    assert logged[0].occurred_at == when  # from the Date header, not the sync's clock
    assert "déjà prêt, ça marche" in logged[0].body
    assert logged[1].body == "Voici le contrat."
    assert logged[2].body == "Bonjour équipe,\nMerci !"
    assert "<" not in logged[2].body and "alert" not in logged[2].body
    assert "color" not in logged[2].body and "tracker" not in logged[2].body
    assert "Forwarded message" in logged[3].body and "Le devis est prêt." in logged[3].body
    assert logged[4].body == "Les photos en pièce jointe."
    # Reading did not mark the mail read for the people who use the mailbox.
    with imap.client(name, password) as client:
        client.select_folder("INBOX", readonly=True)
        assert client.search(["UNSEEN"]) == client.search(["ALL"])
    # A second sync finds nothing new.
    again = sync_mailbox(session=session, mailbox_id=box)
    assert again.fetched == 0 and len(interactions_of(session, zoe)) == 5


def test_sent_mail_is_logged_outbound_for_every_recipient_matched_on_either_email(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, password = account
    box = connect(session, imap, name, "sales@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    ben = contact(session, "Ben", "Okafor", email="ben@work.example", email2="ben@home.example")
    imap.deliver(
        name,
        password,
        mail(
            "sales@rapport.example",
            "Ana Silva <ana@example.org>",
            "Your quote",
            "Here is the quote.",
            cc="ben@HOME.example",
        ).as_bytes(),
        folder="Sent",  # found by its \Sent flag (SPECIAL-USE)
    )
    result = sync_mailbox(session=session, mailbox_id=box)
    assert result.status == "synced", result.error
    for person in (ana, ben):
        (only,) = interactions_of(session, person)
        assert only.direction == Direction.outbound and only.subject == "Your quote"
        assert only.purpose == Purpose.service


def test_a_message_cc_d_to_two_connected_mailboxes_is_logged_once(
    session: Session, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_password = imap.add_user()
    second, second_password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_ONE", first_password)
    monkeypatch.setenv("MAILBOX_PASSWORD_TWO", second_password)
    connect(session, imap, first, "hello@rapport.example", password_env="MAILBOX_PASSWORD_ONE")
    connect(session, imap, second, "dana@rapport.example", password_env="MAILBOX_PASSWORD_TWO")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    message = mail(
        "ana@example.org", "hello@rapport.example", "Both of you", cc="dana@rapport.example"
    ).as_bytes()
    imap.deliver(first, first_password, message)
    imap.deliver(second, second_password, message)

    results = sync_all(session=session)

    assert [r.status for r in results] == ["synced", "synced"]
    assert [r.fetched for r in results] == [1, 1]
    assert [r.logged for r in results] == [1, 0]
    assert len(interactions_of(session, ana)) == 1
    # A connected mailbox's own address is never an unknown sender or a contact.
    assert list_unknown_senders(session=session, actor=OPERATOR)[1] == 0


def test_every_to_and_cc_recipient_of_an_inbound_message_is_matched_once_per_contact(
    session: Session, imap: ImapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_password = imap.add_user()
    second, second_password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_ONE", first_password)
    monkeypatch.setenv("MAILBOX_PASSWORD_TWO", second_password)
    connect(session, imap, first, "hello@rapport.example", password_env="MAILBOX_PASSWORD_ONE")
    connect(session, imap, second, "dana@rapport.example", password_env="MAILBOX_PASSWORD_TWO")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    ben = contact(session, "Ben", "Okafor", email="ben@example.org")
    cleo = contact(session, "Cleo", "Marsh", email="cleo@work.example", email2="cleo@home.example")
    message = mail(
        "Ana Silva <ana@example.org>",
        "hello@rapport.example, Ben <BEN@example.org>",
        "All of us",
        cc="dana@rapport.example, Cleo@Home.Example, stranger@example.net",
        message_id="<all-of-us@example.org>",
    ).as_bytes()
    imap.deliver(first, first_password, message)
    imap.deliver(second, second_password, message)

    results = sync_all(session=session)

    assert [r.status for r in results] == ["synced", "synced"]
    assert [r.logged for r in results] == [3, 0]
    for person in (ana, ben, cleo):
        (only,) = interactions_of(session, person)
        assert only.direction == Direction.inbound and only.subject == "All of us"
    # Only a sender is listed as unknown, never a stranger who was only copied.
    assert list_unknown_senders(session=session, actor=OPERATOR)[1] == 0


def test_a_restart_midway_fetches_nothing_twice_and_misses_nothing(
    session: Session, imap: ImapServer, account: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    ben = contact(session, "Ben", "Okafor", email="ben@example.org")
    start = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    for n in range(6):
        imap.deliver(
            name,
            password,
            mail(
                "ana@example.org",
                "hello@rapport.example",
                f"Note {n}",
                when=start + timedelta(hours=n),
            ).as_bytes(),
        )
    # Stopped after two messages.
    stopped = sync_mailbox(session=session, mailbox_id=box, limit=2)
    assert stopped.folders[0].fetched == [1, 2]
    # Killed in the middle of a message sent to two contacts: the first is logged,
    # then the process dies before the second.
    imap.deliver(
        name, password, mail("ben@example.org", "hello@rapport.example", "Last").as_bytes()
    )
    imap.deliver(
        name,
        password,
        mail(
            "hello@rapport.example",
            "ana@example.org",
            "To you both",
            cc="ben@example.org",
            when=start + timedelta(hours=7),
        ).as_bytes(),
        folder="Sent",
    )
    real = mail_sync.log_interaction
    calls = {"n": 0}

    def dies_on_the_seventh(**kwargs: object) -> Interaction:
        # Notes 2 to 5 and "Last" (INBOX), then Ana's copy of "To you both" (Sent).
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt("killed")
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mail_sync, "log_interaction", dies_on_the_seventh)
    with pytest.raises(KeyboardInterrupt):
        sync_mailbox(session=session, mailbox_id=box, worker="dying-worker")
    session.rollback()
    monkeypatch.setattr(mail_sync, "log_interaction", real)
    # The dead worker's lease runs out; then the restart picks up where it stopped.
    session.execute(
        Mailbox.__table__.update()  # type: ignore[attr-defined]
        .where(Mailbox.__table__.c.id == box)  # type: ignore[attr-defined]
        .values(lease_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    restarted = sync_mailbox(session=session, mailbox_id=box)
    assert restarted.status == "synced", restarted.error
    # Only the message that was in hand when it died is read again, and only its
    # second contact is logged now.
    inbox, sent = restarted.folders
    assert inbox.fetched == [] and sent.fetched == [1]
    assert sent.already == 1 and sent.logged == 1
    subjects_ana = [i.subject for i in interactions_of(session, ana)]
    subjects_ben = [i.subject for i in interactions_of(session, ben)]
    assert subjects_ana == [f"Note {n}" for n in range(6)] + ["To you both"]
    assert sorted(subjects_ben) == ["Last", "To you both"]


def test_a_changed_uidvalidity_reads_the_folder_again_without_logging_twice(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    sent = [
        mail("hello@rapport.example", "ana@example.org", f"Reply {n}").as_bytes() for n in range(3)
    ]
    for message in sent[:2]:
        imap.deliver(name, password, message, folder="Sent")
    assert sync_mailbox(session=session, mailbox_id=box).logged == 2
    with imap.client(name, password) as client:
        before = client.select_folder("Sent")[b"UIDVALIDITY"]
        # The server rebuilds the folder: new UIDVALIDITY, the same mail plus one.
        client.select_folder("INBOX")
        client.delete_folder("Sent")
        client.create_folder("Sent")
        for message in sent:
            client.append("Sent", message)
        assert client.folder_status("Sent", [b"UIDVALIDITY"])[b"UIDVALIDITY"] != before
    result = sync_mailbox(session=session, mailbox_id=box)
    sent_result = next(f for f in result.folders if f.role == "sent")
    assert sent_result.restarted and sent_result.fetched == [1, 2, 3]
    assert sent_result.logged == 1 and sent_result.already == 2
    assert sorted(i.subject for i in interactions_of(session, ana)) == [
        "Reply 0",
        "Reply 1",
        "Reply 2",
    ]


def test_unknown_senders_are_listed_for_a_person_never_created_and_erased_people_never_listed(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    seed_users(session=session)
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    for kind, digest in suppression_digests(email="gone@example.org"):
        session.add(Suppression(kind=kind, digest=digest))
    session.commit()
    for sender, subject in (
        ("Nina Novak <nina@example.org>", "Can you call me?"),
        ("nina@example.org", "Still waiting"),
        ("Erased Person <gone@example.org>", "I am back"),
        ("Spam Bot <bot@example.org>", "Out of office"),
        ("Leo <leo@example.org>", "Hello"),
    ):
        headers = {"Auto-Submitted": "auto-replied"} if "Bot" in sender else None
        imap.deliver(
            name,
            password,
            mail(sender, "hello@rapport.example", subject, headers=headers).as_bytes(),
        )

    sync_mailbox(session=session, mailbox_id=box)

    sales = user(session, "sales")
    senders, total = list_unknown_senders(session=session, actor=sales)
    assert total == 2
    nina = next(s for s in senders if s.email == "nina@example.org")
    assert (nina.display_name, nina.messages, nina.last_subject) == (
        "Nina Novak",
        2,
        "Still waiting",
    )
    assert "gone@example.org" not in {s.email for s in senders}
    assert session.exec(select(Contact)).all() == []  # nobody was made a contact
    with pytest.raises(Forbidden):
        list_unknown_senders(session=session, actor=user(session, "hr"))

    made = create_contact_from_sender(
        session=session,
        sender_id=nina.id,
        contact_in=ContactCreate(given_name="Nina", family_name="Novak"),
        actor=sales,
    )
    assert made.email == "nina@example.org" and made.owner_id == sales.id
    leo = next(s for s in senders if s.email == "leo@example.org")
    ignore_sender(session=session, sender_id=leo.id, actor=sales)
    assert list_unknown_senders(session=session, actor=sales)[1] == 0
    with pytest.raises(Conflict):
        ignore_sender(session=session, sender_id=leo.id, actor=sales)
    # Nina's next message is hers now.
    imap.deliver(
        name, password, mail("nina@example.org", "hello@rapport.example", "Thanks").as_bytes()
    )
    sync_mailbox(session=session, mailbox_id=box)
    assert [i.subject for i in interactions_of(session, made)] == ["Thanks"]


def test_an_erased_address_cannot_be_made_a_contact_from_the_list(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    seed_users(session=session)
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    imap.deliver(name, password, mail("late@example.org", "hello@rapport.example", "Hi").as_bytes())
    sync_mailbox(session=session, mailbox_id=box)
    (sender,), _ = list_unknown_senders(session=session, actor=OPERATOR)
    # Erased after being listed: creating is refused by the contact checks, naming the field.
    for kind, digest in suppression_digests(email="late@example.org"):
        session.add(Suppression(kind=kind, digest=digest))
    session.commit()
    with pytest.raises(ValidationError) as refused:
        create_contact_from_sender(
            session=session,
            sender_id=sender.id,
            contact_in=ContactCreate(given_name="Late", family_name="Comer"),
            actor=user(session, "sales"),
        )
    assert refused.value.field == "email" and "late@" not in str(refused.value)
    assert session.exec(select(Contact)).all() == []
    assert list_unknown_senders(session=session, actor=OPERATOR)[1] == 1


def test_marketing_found_in_sent_goes_through_the_consent_check_and_the_audit_shows_it(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    seed_users(session=session)
    name, password = account
    box = connect(session, imap, name, "news@rapport.example")
    made, notice = purpose(session)
    agreed = contact(session, "Ana", "Silva", email="ana@example.org")
    never = contact(session, "Ben", "Okafor", email="ben@example.org")
    objected = contact(session, "Cleo", "Marsh", email="cleo@example.org")
    long_ago = utcnow() - timedelta(days=30)
    consent(session, agreed, made, ConsentAction.grant, long_ago, notice=notice)
    consent(session, objected, made, ConsentAction.object, long_ago)
    sent_at = utcnow() - timedelta(days=2)
    newsletter = mail(
        "news@rapport.example",
        "ana@example.org",
        "November newsletter",
        "Our news.",
        cc="ben@example.org, cleo@example.org",
        when=sent_at,
        headers={"List-Unsubscribe": "<https://rapport.example/unsubscribe>"},
    )
    imap.deliver(name, password, newsletter.as_bytes(), folder="Sent")

    result = sync_mailbox(session=session, mailbox_id=box)

    sent_folder = next(f for f in result.folders if f.role == "sent")
    assert (sent_folder.logged, sent_folder.overridden, sent_folder.refused) == (1, 2, 0)
    (ok,) = interactions_of(session, agreed)
    assert ok.purpose == Purpose.marketing and ok.override_reason is None
    for person in (never, objected):
        (violation,) = interactions_of(session, person)
        assert (
            violation.override_reason
            and "Sent folder of news@rapport.example" in violation.override_reason
        )
    # It was sent already, so even against an objection it is logged, not refused, and
    # flagged with the check's reason.
    flagged = session.exec(
        select(MailMessageContact).where(col(MailMessageContact.contact_id) == objected.id)
    ).one()
    assert flagged.status == MailLinkStatus.overridden and "objected" in (flagged.reason or "")
    # The consent audit reports both messages sent without valid consent.
    report = run_audit(session=session, actor=user(session, "privacy"))
    violations = next(f for f in report.findings if f.key == "violations")
    assert {r["contact_id"] for r in violations.rows} == {never.id, objected.id}
    assert violations.summary["overridden"] == 2
    events = session.exec(select(AuditEvent).where(col(AuditEvent.action) == "mail.refused")).all()
    assert events == []


def test_a_mailbox_that_refuses_the_login_or_cannot_be_reached_says_so_and_the_others_sync(
    session: Session, imap: ImapServer, account: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name, password = account
    monkeypatch.setenv("MAILBOX_PASSWORD_WRONG", "not-the-password")
    wrong = connect(
        session, imap, name, "wrong@rapport.example", password_env="MAILBOX_PASSWORD_WRONG"
    )
    from tests.imap_server import free_port

    down = connect(session, imap, name, "down@rapport.example", port=free_port())
    unset = connect(
        session, imap, name, "unset@rapport.example", password_env="MAILBOX_PASSWORD_UNSET"
    )
    good = connect(session, imap, name, "hello@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    imap.deliver(name, password, mail("ana@example.org", "hello@rapport.example", "Hi").as_bytes())

    results = {r.mailbox_id: r for r in sync_all(session=session)}

    assert results[good].status == "synced" and len(interactions_of(session, ana)) == 1
    assert results[wrong].status == "failed" and "refused the login" in results[wrong].error
    assert results[down].status == "failed" and "Could not reach" in results[down].error
    assert (
        results[unset].status == "failed"
        and "MAILBOX_PASSWORD_UNSET is not set" in results[unset].error
    )
    session.expire_all()
    stored = session.get(Mailbox, wrong)
    assert stored is not None and stored.last_error and stored.last_success_at is None
    assert "not-the-password" not in stored.last_error
    assert not health(stored).ok and "refused the login" in health(stored).sentence
    good_box = session.get(Mailbox, good)
    assert good_box is not None and health(good_box).ok and good_box.last_success_at
    # The settings screen's check says the same, as a refusal.
    with pytest.raises(Exception, match="refused the login"):
        check_connection(session=session, mailbox_id=wrong, actor=OPERATOR)
    assert check_connection(session=session, mailbox_id=good, actor=OPERATOR) == ["INBOX", "Sent"]


def test_the_password_can_come_from_a_secret_file_and_is_never_stored(
    session: Session,
    imap: ImapServer,
    account: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
) -> None:
    name, password = account
    (tmp_path / "hello-imap").write_text(password + "\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_MAIL_SECRETS_DIR", str(tmp_path))
    box = connect(
        session, imap, name, "hello@rapport.example", password_env=None, password_file="hello-imap"
    )
    assert check_connection(session=session, mailbox_id=box, actor=OPERATOR) == ["INBOX", "Sent"]
    with engine.connect() as connection:
        from sqlalchemy import text

        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM mailbox")))
    assert password not in dump
    with pytest.raises(ValidationError, match="without a path"):
        connect(
            session,
            imap,
            name,
            "other@rapport.example",
            password_env=None,
            password_file="../etc/passwd",
        )


def test_mailbox_settings_refuse_what_would_leak_a_password(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    seed_users(session=session)
    name, _password = account
    with pytest.raises(ValidationError, match="MAILBOX_PASSWORD_"):
        connect(session, imap, name, "a@rapport.example", password_env="RAPPORT_DATABASE_URL")
    with pytest.raises(ValidationError, match="only to a server on this machine"):
        connect(session, imap, name, "b@rapport.example", host="imap.example.org")
    with pytest.raises(ValidationError, match="one of them"):
        connect(session, imap, name, "c@rapport.example", password_file="x")
    sales = user(session, "sales")
    own = connect(session, imap, name, "sales@rapport.example", owner_id=sales.id)
    with pytest.raises(Forbidden):
        create_mailbox(
            session=session,
            mailbox_in=MailboxCreate(
                name="x",
                address="x@rapport.example",
                host="localhost",
                username="x",
                security=MailSecurity.plain,
                password_env=PASSWORD_VARIABLE,
            ),
            actor=sales,
        )
    # The owner pauses their own mailbox, but cannot point it at another server.
    paused = update_mailbox(
        session=session, mailbox_id=own, version=1, patch=MailboxUpdate(enabled=False), actor=sales
    )
    assert paused.enabled is False
    with pytest.raises(Forbidden):
        update_mailbox(
            session=session,
            mailbox_id=own,
            version=2,
            patch=MailboxUpdate(host="localhost", port=1),
            actor=sales,
        )
    other = user(session, "sales2")
    with pytest.raises(Exception, match="no mailbox"):
        update_mailbox(
            session=session,
            mailbox_id=own,
            version=2,
            patch=MailboxUpdate(enabled=True),
            actor=other,
        )
    assert sync_mailbox(session=session, mailbox_id=own).status == "paused"


def test_one_worker_at_a_time_holds_a_mailbox(
    session: Session, engine: Engine, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, _password = account
    box = connect(session, imap, name, "hello@rapport.example")
    barrier = threading.Barrier(8)
    won: list[str] = []

    def worker(n: int) -> None:
        with Session(engine) as own:
            barrier.wait()
            if acquire_lease(session=own, mailbox_id=box, worker=f"w{n}", seconds=60):
                won.append(f"w{n}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert lease_holder(session=session, mailbox_id=box) == won[0]
    # Another worker's sync leaves the mailbox alone while the lease holds...
    assert sync_mailbox(session=session, mailbox_id=box, worker="other").status == "busy"
    # ...and takes over once the holder gives it back (or its lease runs out).
    release_lease(session=session, mailbox_id=box, worker=won[0])
    assert acquire_lease(session=session, mailbox_id=box, worker="other", seconds=1)
    later = utcnow() + timedelta(seconds=2)
    assert lease_holder(session=session, mailbox_id=box, at=later) is None


def test_two_workers_syncing_at_once_fetch_and_log_each_message_once(
    session: Session, engine: Engine, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    for n in range(12):
        imap.deliver(
            name, password, mail("ana@example.org", "hello@rapport.example", f"M{n}").as_bytes()
        )
    barrier = threading.Barrier(2)
    results = []

    def worker(n: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            barrier.wait()
            results.append(sync_mailbox(session=own, mailbox_id=box, worker=f"worker-{n}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) in (["busy", "synced"], ["synced", "synced"])
    assert sum(r.fetched for r in results) == 12
    assert len(interactions_of(session, ana)) == 12


def test_the_mail_sync_command_runs_once_or_in_a_loop_that_a_failing_mailbox_never_stops(
    imap: ImapServer, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    from db.core.engine import make_engine
    from db.core.migrate import upgrade
    from tests.conftest import ROOT

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    name, password = imap.add_user()
    with Session(engine, expire_on_commit=False) as session:
        connect(session, imap, name, "hello@rapport.example")
        connect(session, imap, name, "wrong@rapport.example", password_env="MAILBOX_PASSWORD_WRONG")
        ana = contact(session, "Ana", "Silva", email="ana@example.org")
    imap.deliver(name, password, mail("ana@example.org", "hello@rapport.example", "One").as_bytes())
    env = {
        **os.environ,
        "RAPPORT_DATABASE_URL": url,
        PASSWORD_VARIABLE: password,
        "MAILBOX_PASSWORD_WRONG": "wrong",
    }
    command = [sys.executable, str(ROOT / "manage.py"), "mail-sync"]

    once = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert once.returncode == 1, once.stderr  # one mailbox failed: said, and in the exit code
    assert "hello: 1 new message(s), 1 logged" in once.stderr
    assert "wrong: failed" in once.stderr and "refused the login" in once.stderr

    log = tmp_path / "loop.log"

    def wait_for(what: str, times: int) -> None:
        deadline = time.monotonic() + 90
        while log.read_text(encoding="utf-8").count(what) < times:
            assert loop.poll() is None, "the loop stopped:\n" + log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.2)

    with log.open("w", encoding="utf-8") as sink:
        loop = subprocess.Popen(
            [*command, "--every", "0.5"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            wait_for("wrong: failed", 1)  # a first pass
            imap.deliver(
                name, password, mail("ana@example.org", "hello@rapport.example", "Two").as_bytes()
            )
            wait_for("hello: 1 new message(s), 1 logged", 1)
            wait_for("wrong: failed", 3)  # the failing mailbox did not stop the loop
        finally:
            loop.send_signal(signal.SIGTERM)
            loop.wait(timeout=30)
    err = log.read_text(encoding="utf-8")
    assert loop.returncode == 0, err
    assert "Stopped." in err
    with Session(engine) as session:
        assert sorted(i.subject for i in interactions_of(session, ana)) == ["One", "Two"]
    engine.dispose()


@pytest.mark.parametrize("security", [MailSecurity.tls, MailSecurity.starttls])
def test_tls_and_starttls_check_the_servers_certificate(
    session: Session,
    imap: ImapServer,
    account: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    security: MailSecurity,
) -> None:
    name, password = account
    port = imap.tls_port if security == MailSecurity.tls else imap.port
    box = connect(
        session,
        imap,
        name,
        "hello@rapport.example",
        host="localhost",
        port=port,
        security=security,
    )
    # The server's certificate is self-signed: refused until its authority is trusted.
    with pytest.raises(Exception, match="certificate is not trusted"):
        check_connection(session=session, mailbox_id=box, actor=OPERATOR)
    monkeypatch.setenv("RAPPORT_MAIL_CA_FILE", str(imap.ca_file))
    assert check_connection(session=session, mailbox_id=box, actor=OPERATOR) == ["INBOX", "Sent"]
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    imap.deliver(
        name, password, mail("ana@example.org", "hello@rapport.example", "Sealed").as_bytes()
    )
    assert sync_mailbox(session=session, mailbox_id=box).logged == 1
    assert [i.subject for i in interactions_of(session, ana)] == ["Sealed"]


def test_a_message_without_a_date_is_timed_by_its_arrival_on_the_server(
    session: Session, imap: ImapServer, account: tuple[str, str]
) -> None:
    name, password = account
    box = connect(session, imap, name, "hello@rapport.example")
    ana = contact(session, "Ana", "Silva", email="ana@example.org")
    message = mail("ana@example.org", "hello@rapport.example", "Undated")
    del message["Date"]
    arrived = datetime(2026, 11, 20, 7, 45, tzinfo=UTC)
    imap.deliver(name, password, message.as_bytes(), arrived=arrived)
    sync_mailbox(session=session, mailbox_id=box)
    (logged,) = interactions_of(session, ana)
    assert logged.occurred_at == arrived
