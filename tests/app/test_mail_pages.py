"""The Mailboxes and Unknown senders pages, against a real IMAP server on loopback."""

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine
from db.integrations.mail_sync import sync_all
from db.models.integrations_mail import (
    Mailbox,
    MailFolder,
    MailMessageContact,
    MailUnknownSender,
)
from db.models.people import Contact, Interaction
from tests.app.conftest import RunPage
from tests.conftest import IN_CI
from tests.imap_server import ImapServer, dovecot_binary, running_dovecot


@pytest.fixture(scope="module")
def imap() -> Iterator[ImapServer]:
    if dovecot_binary() is None:
        if IN_CI:
            pytest.fail("dovecot is not installed; .ci/run installs dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    with running_dovecot() as server:
        yield server


@pytest.fixture
def app_db(app_database: str) -> Iterator[Session]:
    """A session on the pages' database; the mailboxes a test made are removed after it."""
    engine = make_engine(app_database)
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.rollback()
        contacts = select(MailUnknownSender.contact_id).where(
            col(MailUnknownSender.contact_id).is_not(None)
        )
        made = [c for c in session.exec(contacts).all() if c is not None]
        logged = select(MailMessageContact.interaction_id)
        synced = [i for i in session.exec(logged).all() if i is not None]
        for table in (MailMessageContact, MailUnknownSender, MailFolder, Mailbox):
            session.execute(delete(table))
        session.execute(delete(Interaction).where(col(Interaction.id).in_(synced)))
        session.execute(delete(Interaction).where(col(Interaction.contact_id).in_(made)))
        session.execute(delete(Contact).where(col(Contact.id).in_(made)))
        session.commit()
    engine.dispose()


def fill_connection(at: object, imap: ImapServer, username: str, variable: str) -> None:
    at.text_input(key="new_name").input("Hello")  # type: ignore[attr-defined]
    at.text_input(key="new_address").input("hello@rapport.example")  # type: ignore[attr-defined]
    at.selectbox(key="new_security").select_index(2)  # type: ignore[attr-defined]
    at.text_input(key="new_host").input(imap.host)  # type: ignore[attr-defined]
    at.number_input(key="new_port").set_value(imap.port)  # type: ignore[attr-defined]
    at.text_input(key="new_username").input(username)  # type: ignore[attr-defined]
    at.text_input(key="new_password_env").input(variable)  # type: ignore[attr-defined]


def test_an_admin_connects_a_mailbox_and_a_wrong_password_shows_on_its_page(
    run_page: RunPage, imap: ImapServer, app_db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    username, _password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_HELLO", "not the password")
    at = run_page("pages/mailboxes.py", "admin")
    fill_connection(at, imap, username, "MAILBOX_PASSWORD_HELLO")
    at.button(key="FormSubmitter:connect_mailbox-Connect mailbox").click()
    at.run()
    assert not at.exception
    assert any("Mailbox connected" in s.value for s in at.success), [e.value for e in at.error]

    # The sync worker fails on it; the page says so, with the last success and error.
    (result,) = sync_all(session=app_db)
    assert result.status == "failed"
    at = run_page("pages/mailboxes.py", "admin")
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "refused the login" in errors and username in errors
    table = at.dataframe[0].value
    assert table["Last success"].tolist() == ["never"]
    assert "refused the login" in table["Last error"].iloc[0]
    assert "not the password" not in str(table.to_dict())
    # Checking the connection answers at once, with the same sentence.
    at.button(key="mail_check").click()
    at.run()
    assert any("refused the login" in e.value for e in at.error)


def test_the_owner_sees_only_their_mailbox_and_may_pause_it_but_not_move_it(
    run_page: RunPage, imap: ImapServer, app_db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    username, password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_SALES", password)
    sales = get_user_by_username(session=app_db, username="sales")
    assert sales is not None
    app_db.add(
        imap.mailbox(
            username,
            "Sam's mail",
            "sam@rapport.example",
            "MAILBOX_PASSWORD_SALES",
            owner_id=sales.id,
        )
    )
    app_db.add(imap.mailbox(username, "Hello", "hello@rapport.example", "MAILBOX_PASSWORD_SALES"))
    app_db.commit()
    at = run_page("pages/mailboxes.py", "sales")
    assert not at.exception
    assert at.dataframe[0].value["Mailbox"].tolist() == ["Sam's mail"]
    # Nothing of where it connects is editable here (the sidebar's search box aside).
    assert all(box.key == "rapport_search" for box in at.text_input)
    at.button(key="mail_check").click()
    at.run()
    assert any("Signed in" in s.value for s in at.success), [e.value for e in at.error]
    at.checkbox(key="mail_enabled").uncheck()
    at.button(
        key="FormSubmitter:mailbox_settings_" + str(_id(app_db, "Sam's mail")) + "-Save settings"
    ).click()
    at.run()
    assert any("Saved" in s.value for s in at.success), [e.value for e in at.error]
    app_db.expire_all()
    assert app_db.exec(select(Mailbox).where(Mailbox.name == "Sam's mail")).one().enabled is False
    # Another salesperson sees no mailbox at all.
    other = run_page("pages/mailboxes.py", "sales2")
    assert not other.exception and not other.dataframe
    assert any("no mailbox" in i.value for i in other.info)


def _id(session: Session, name: str) -> int:
    session.expire_all()
    return session.exec(select(Mailbox).where(Mailbox.name == name)).one().id or 0


def test_an_unknown_sender_becomes_a_contact_from_the_list_and_another_is_ignored(
    run_page: RunPage, imap: ImapServer, app_db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    username, password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_HELLO", password)
    app_db.add(imap.mailbox(username, "Hello", "hello@rapport.example", "MAILBOX_PASSWORD_HELLO"))
    app_db.commit()
    for sender, subject in (
        ("Ines Duarte <ines.duarte@example.pt>", "Pedido de informação"),
        ("Max *Bold* <max@example.org>", "[click](https://evil.example)"),
    ):
        message = EmailMessage()
        message["From"] = sender
        message["To"] = "hello@rapport.example"
        message["Subject"] = subject
        message.set_content("Olá!")
        imap.deliver(username, password, message.as_bytes())
    (result,) = sync_all(session=app_db)
    assert result.status == "synced", result.error

    at = run_page("pages/unknown_senders.py", "sales")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Email"]) == {"ines.duarte@example.pt", "max@example.org"}
    at.selectbox(key="sender_chosen").select(_sender_id(app_db, "ines.duarte@example.pt"))
    at.run()
    assert at.text_input(key="sender_given").value == "Ines"
    assert at.text_input(key="sender_family").value == "Duarte"
    at.button(
        key=f"FormSubmitter:sender_{_sender_id(app_db, 'ines.duarte@example.pt')}-Create contact"
    ).click()
    at.run()
    assert any("Contact created" in s.value for s in at.success), [e.value for e in at.error]
    made = app_db.exec(select(Contact).where(Contact.email == "ines.duarte@example.pt")).one()
    assert made.full_name == "Ines Duarte"

    max_id = _sender_id(app_db, "max@example.org")
    at.selectbox(key="sender_chosen").select(max_id)
    at.run()
    at.button(key=f"FormSubmitter:sender_{max_id}-Ignore this sender").click()
    at.run()
    assert any("Ignored" in s.value for s in at.success)
    assert any("Nobody unknown" in i.value for i in at.info)


def _sender_id(session: Session, email: str) -> int:
    session.expire_all()
    row = session.exec(select(MailUnknownSender).where(MailUnknownSender.email == email)).one()
    return row.id or 0


def test_a_message_delivered_to_a_mailbox_is_on_contact_360_after_one_sync_and_in_its_warning(
    imap: ImapServer, app_db: Session, app_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta
    from email.utils import format_datetime, make_msgid

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from db.core.types import utcnow
    from tests.app.conftest import sign_in_token
    from tests.conftest import ROOT

    username, password = imap.add_user()
    monkeypatch.setenv("MAILBOX_PASSWORD_HELLO", password)
    sales = get_user_by_username(session=app_db, username="sales")
    assert sales is not None
    person = app_db.exec(
        select(Contact)
        .where(Contact.owner_id == sales.id, col(Contact.email).is_not(None))
        .order_by(col(Contact.id))
    ).first()
    assert person is not None and person.email
    app_db.add(imap.mailbox(username, "Hello", "hello@rapport.example", "MAILBOX_PASSWORD_HELLO"))
    app_db.commit()
    message = EmailMessage()
    message["From"] = person.email.upper()
    message["To"] = "hello@rapport.example"
    message["Subject"] = "Question about my <b>order</b>"
    message["Date"] = format_datetime(utcnow() - timedelta(hours=2))
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Could you call me back this afternoon?")
    imap.deliver(username, password, message.as_bytes())
    (result,) = sync_all(session=app_db)
    assert result.logged == 1, result.summary()

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/contact.py")
    at.query_params["id"] = str(person.id)
    at.session_state["rapport_session_token"] = sign_in_token(app_database, "sales")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    timeline = " ".join(str(d.value.to_dict()) for d in at.dataframe)
    assert "Question about my <b>order</b>" in timeline  # a cell of text, never markup
    # About to phone them: the 48-hour warning names this morning's email.
    at.selectbox(key="c360_channel").select("phone")
    at.run()
    assert any("48 hours" in w.value for w in at.warning), [w.value for w in at.warning]
    lines = [link.label for link in at.get("page_link")]
    assert any(" · email · " in line for line in lines), lines
