"""In Chromium: an administrator connects a mailbox, the sync worker reads it from a real
Dovecot, the email is on the person's Contact 360, a failing mailbox says so on its page,
and an unknown sender becomes a contact."""

import re
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from sqlmodel import col, select

from db.core.engine import make_engine, session_scope
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import Contact
from tests.conftest import IN_CI, ROOT
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle
from tests.imap_server import ImapServer, dovecot_binary, running_dovecot


@pytest.fixture(scope="module")
def imap() -> Iterator[ImapServer]:
    if dovecot_binary() is None:
        if IN_CI:
            pytest.fail("dovecot is not installed; .ci/run installs dovecot-imapd")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    with running_dovecot() as server:
        yield server


def letter(sender: str, subject: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "desk@rapport.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(text)
    return message.as_bytes()


def test_a_connected_mailbox_feeds_contact_360_and_shows_its_failures(
    browser: Any, server: str, server_env: dict[str, str], imap: ImapServer, steps: Steps
) -> None:
    username, password = imap.add_user()
    engine = make_engine(server_env["RAPPORT_DATABASE_URL"])
    with session_scope(engine) as session:
        sales = session.exec(select(User).where(User.username == "sales")).one()
        person = session.exec(
            select(Contact)
            .where(
                Contact.owner_id == sales.id,
                col(Contact.email).is_not(None),
                col(Contact.erased_at).is_(None),
            )
            .order_by(col(Contact.id).desc())
        ).first()
        assert person is not None and person.email
        contact_id, contact_email = person.id, person.email

    admin = new_page(browser)
    sign_in(admin, server, "admin", DEMO_PASSWORD)
    admin.goto(f"{server}/mailboxes")
    admin.get_by_role("heading", name="Mailboxes").first.wait_for()
    wait_until_idle(admin)
    form = admin.locator('[data-testid="stForm"]').last
    for label, value in (
        ("Name", "Front desk"),
        ("Address", "desk@rapport.example"),
        ("IMAP server", imap.host),
        ("User name", username),
        ("Password: environment variable", "MAILBOX_PASSWORD_DESK"),
    ):
        form.locator(f'input[aria-label="{label}"]').fill(value)
    form.locator('input[aria-label="Port"]').fill(str(imap.port))
    form.locator('input[aria-label="Security"]').click()
    admin.get_by_role("option", name=re.compile("None")).click()
    steps.shot(admin, "connect-form")
    admin.get_by_role("button", name="Connect mailbox").click()
    admin.get_by_text("Mailbox connected").first.wait_for()

    # A second mailbox whose password is wrong, added by the operator beside it.
    with session_scope(engine) as session:
        session.add(
            imap.mailbox(username, "Old shared box", "old@rapport.example", "MAILBOX_PASSWORD_OLD")
        )
        session.commit()
    engine.dispose()
    imap.deliver(
        username,
        password,
        letter(contact_email, "Can we move our meeting to Friday?", "Friday 10am suits me."),
    )
    imap.deliver(
        username,
        password,
        letter(
            "Inês Duarte <ines@example.pt>", "Pedido de orçamento", "Olá, gostaria de um orçamento."
        ),
    )
    env = {**server_env, "MAILBOX_PASSWORD_DESK": password, "MAILBOX_PASSWORD_OLD": "wrong"}
    done = subprocess.run(
        [sys.executable, "manage.py", "mail-sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Logged for every live contact with that address (the demo has duplicates to merge).
    assert "Front desk: 2 new message(s)" in done.stderr, done.stderr
    assert "1 from unknown senders" in done.stderr
    assert "Old shared box: failed" in done.stderr

    admin.goto(f"{server}/mailboxes")
    admin.get_by_role("heading", name="Mailboxes").first.wait_for()
    wait_until_idle(admin)
    admin.locator('input[aria-label="Mailbox"]').click()
    admin.get_by_role("option", name=re.compile("Old shared box")).click()
    wait_until_idle(admin)
    admin.locator('[data-testid="stAlert"]').filter(
        has_text=re.compile("Failing: .*refused the login")
    ).wait_for()
    steps.shot(admin, "failing-mailbox")

    seller = new_page(browser)
    sign_in(seller, server, "sales", DEMO_PASSWORD)
    seller.goto(f"{server}/contact?id={contact_id}")
    wait_until_idle(seller)
    # A cell of the timeline's table (drawn on a canvas, so present but not "visible").
    seller.get_by_text("Can we move our meeting to Friday?").first.wait_for(state="attached")
    steps.shot(seller, "contact-360-with-email")

    seller.goto(f"{server}/unknown_senders")
    seller.get_by_role("heading", name="Unknown senders").first.wait_for()
    wait_until_idle(seller)
    steps.shot(seller, "unknown-senders")
    seller.get_by_role("button", name="Create contact").click()
    seller.get_by_text("Contact created").first.wait_for()
    steps.shot(seller, "contact-created")
