"""Sending Rapport's own email through the configured SMTP server (RAPPORT_SMTP_*)."""

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from db.core.settings import get_settings


@dataclass(frozen=True)
class MailServer:
    """How to reach the mail server."""

    host: str
    port: int = 25
    sender: str = "rapport@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 20.0

    @classmethod
    def from_env(cls) -> "MailServer | None":
        """The configured server, or None when RAPPORT_SMTP_HOST is unset."""
        settings = get_settings()
        if not settings.smtp_host:
            return None
        password = settings.smtp_password or None
        if settings.smtp_password_file:
            try:
                with open(settings.smtp_password_file, encoding="utf-8") as secret:
                    password = secret.read().strip() or None
            except OSError as err:
                raise RuntimeError(
                    f"RAPPORT_SMTP_PASSWORD_FILE: cannot read {settings.smtp_password_file!r} "
                    f"({err})."
                ) from err
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_user or None,
            password=password,
            starttls=settings.smtp_starttls,
        )

    @contextmanager
    def connect(self) -> Iterator[smtplib.SMTP]:
        """An open, signed-in connection, closed afterwards."""
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            if self.starttls:
                server.starttls()
            if self.username and self.password:
                server.login(self.username, self.password)
            yield server
