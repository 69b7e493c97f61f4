"""Talking to an IMAP server (IMAPClient): connect, sign in, find INBOX and Sent.

Every failure becomes `MailboxUnavailable` with a sentence an administrator can act on;
the password is never part of it.
"""

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from db.core.errors import DomainError
from db.models.integrations_mail import FolderRole, Mailbox, MailSecurity

# Names Sent goes by on servers that do not flag it with SPECIAL-USE (RFC 6154).
SENT_NAMES = (
    "Sent",
    "Sent Items",
    "Sent Messages",
    "Sent Mail",
    "INBOX.Sent",
    "INBOX/Sent",
    "[Gmail]/Sent Mail",
    "Gesendet",
    "Envoyés",
    "Elementos enviados",
)


class MailboxUnavailable(DomainError):
    """The mail server cannot be reached, or refuses the connection or the login."""


def _ssl_reason(err: ssl.SSLError) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted: {err.verify_message}"
    return str(err.reason or err)


def _where(mailbox: Mailbox) -> str:
    return f"{mailbox.host}:{mailbox.port}"


@contextmanager
def signed_in(
    mailbox: Mailbox, password: str, *, timeout: float, ca_file: str = ""
) -> Iterator[IMAPClient]:
    """An IMAP connection to the mailbox, signed in; closed afterwards.

    TLS and STARTTLS check the server's certificate and name against the system's
    authorities, or those of `ca_file` (a private CA)."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except OSError as err:
        raise MailboxUnavailable(
            f"The mail servers' certificate file {ca_file} cannot be read ({err.strerror or err})."
        ) from err
    try:
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port,
            ssl=mailbox.security == MailSecurity.tls,
            ssl_context=context if mailbox.security == MailSecurity.tls else None,
            timeout=timeout,
        )
    except ssl.SSLError as err:
        raise MailboxUnavailable(
            f"Could not open a secure connection to {_where(mailbox)} ({_ssl_reason(err)}); "
            "check the port, the security setting and the server's certificate."
        ) from err
    except TimeoutError as err:
        raise MailboxUnavailable(
            f"{_where(mailbox)} did not answer within {timeout:g} seconds."
        ) from err
    except OSError as err:
        raise MailboxUnavailable(
            f"Could not reach {_where(mailbox)} ({err.strerror or err}); check the host and "
            "the port, and that the server is up."
        ) from err
    # Times with their zone (INTERNALDATE), not converted to this machine's local time.
    client.normalise_times = False
    try:
        try:
            if mailbox.security == MailSecurity.starttls:
                client.starttls(context)
            client.login(mailbox.username, password)
        except LoginError as err:
            raise MailboxUnavailable(
                f"{_where(mailbox)} refused the login of {mailbox.username!r}; check the user "
                "name and the password the mailbox's settings point to."
            ) from err
        except ssl.SSLError as err:
            raise MailboxUnavailable(
                f"The secure connection to {_where(mailbox)} failed ({_ssl_reason(err)}); "
                "check the server's certificate."
            ) from err
        except (IMAPClientError, OSError) as err:
            raise MailboxUnavailable(
                f"{_where(mailbox)} broke off the sign-in ({type(err).__name__}: {err})."
            ) from err
        yield client
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001  (a connection already gone needs no goodbye)
            try:
                client.shutdown()
            except Exception:  # noqa: BLE001
                pass


def find_folders(client: IMAPClient) -> dict[FolderRole, str]:
    """INBOX, and the Sent folder: flagged \\Sent (SPECIAL-USE), else by a common name."""
    folders: dict[FolderRole, str] = {FolderRole.inbox: "INBOX"}
    listed = client.list_folders()
    names = [name for _flags, _sep, name in listed]
    for flags, _separator, name in listed:
        if b"\\Sent" in flags:
            folders[FolderRole.sent] = name
            return folders
    lowered = {name.lower(): name for name in names}
    for candidate in SENT_NAMES:
        if candidate.lower() in lowered:
            folders[FolderRole.sent] = lowered[candidate.lower()]
            return folders
    return folders
