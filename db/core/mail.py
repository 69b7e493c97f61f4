"""Sending one email through the configured SMTP server (RAPPORT_SMTP_* settings).

For messages sent one at a time on a person's request (a confirmation code, a
preference link); bulk sending keeps its own connection.
"""

import smtplib
from email.headerregistry import Address
from email.message import EmailMessage
from ipaddress import ip_address

from db.core.errors import DomainError
from db.core.settings import get_settings


class MailUnavailable(DomainError):
    """No mail server is configured, or it could not take the message."""


def smtp_password() -> str | None:
    """RAPPORT_SMTP_PASSWORD, or the file RAPPORT_SMTP_PASSWORD_FILE names (a mounted secret)."""
    settings = get_settings()
    if settings.smtp_password_file:
        try:
            with open(settings.smtp_password_file, encoding="utf-8") as secret:
                return secret.read().strip() or None
        except OSError as err:
            raise RuntimeError(f"RAPPORT_SMTP_PASSWORD_FILE: cannot be read ({err}).") from err
    return settings.smtp_password or None


LOCAL_DOMAINS = {"localhost", "localhost.localdomain", "localdomain", "local"}


def local_sender(address: str) -> bool:
    """True for a sender no one outside this machine can answer (surveys@localhost)."""
    domain = address.rpartition("@")[2].strip().strip("[]").lower().rstrip(".")
    if not domain or domain in LOCAL_DOMAINS or domain.endswith((".localhost", ".local")):
        return True
    try:
        return not ip_address(domain.removeprefix("ipv6:")).is_global
    except ValueError:
        return "." not in domain


def from_header(address: str) -> str:
    """The From header: the organisation's name (RAPPORT_ORG_NAME) and the sender address."""
    local, _at, domain = address.rpartition("@")
    name = get_settings().organisation_name
    return str(Address(display_name=name, username=local, domain=domain))


def new_message(*, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from Rapport's sender address."""
    message = EmailMessage()
    message["From"] = get_settings().smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def send_message(message: EmailMessage) -> None:
    """Hand one message to the mail server, or raise MailUnavailable with a sentence."""
    settings = get_settings()
    if not settings.smtp_host:
        raise MailUnavailable(
            "Email is not set up here, so no message could be sent. Please contact us "
            "another way (the details are on our privacy notice)."
        )
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as server:
            if settings.smtp_starttls:
                server.starttls()
            password = smtp_password()
            if settings.smtp_user and password:
                server.login(settings.smtp_user, password)
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        raise MailUnavailable(
            "The email could not be sent just now; nothing was changed. Please try again "
            "in a few minutes."
        ) from err
