"""Every setting a deployer may change: one class, read from RAPPORT_* environment variables.

pydantic-settings reads and checks them; a bad value stops the app with a sentence that
names the variable. The README's configuration tables list exactly these variables
(a test compares the two).
"""

import re
from typing import Any, Literal

import pydantic
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/rapport.db"
PREFIX = "RAPPORT_"

Flag = Literal["", "1", "0"]
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _env(name: str, default: Any, description: str, **checks: Any) -> Any:
    """A field read from RAPPORT_<name>, with its default and what it means."""
    return Field(
        default,
        validation_alias=AliasChoices(PREFIX + name),
        description=description,
        **checks,
    )


class Settings(BaseSettings):
    """Every deployer-facing setting, with its type, default and meaning."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True,  # an empty variable means "use the default"
        frozen=True,
        extra="ignore",
    )

    # The database and the app
    database_url: str = _env(
        "DATABASE_URL",
        DEFAULT_DATABASE_URL,
        "Where the data lives (sqlite:/// or postgresql+psycopg://)",
    )
    organisation_name: str = _env("ORG_NAME", "Rapport", "The organisation's name in the app")
    org_logo: str = _env(
        "ORG_LOGO", "", "A PNG, JPEG or GIF file of the organisation's logo, on this server"
    )
    brand_colour: str = _env(
        "BRAND_COLOUR", "", "The organisation's colour (#rrggbb), for emails and the theme"
    )
    public_url: str = _env(
        "PUBLIC_URL", "http://localhost:8501", "The address people open, for links in emails"
    )
    demo_setting: Flag = _env("DEMO", "", "0 on a production installation: never seed the demo")
    # Sign-in
    cookie_key: str = _env("COOKIE_KEY", "", "Signs the sign-in cookie (else secrets.toml)")
    cookie_secure: Literal["", "auto", "1", "0"] = _env(
        "COOKIE_SECURE", "", "The cookie's Secure flag: 1 always, 0 never, unset when HTTPS"
    )
    session_hours: float = _env("SESSION_HOURS", 8.0, "How long a sign-in lasts", ge=0.05)
    lockout_attempts: int = _env("LOCKOUT_ATTEMPTS", 5, "Failed sign-ins that lock", ge=1)
    lockout_minutes: int = _env("LOCKOUT_MINUTES", 15, "How long a lock lasts", ge=1)
    bcrypt_rounds: int = _env("BCRYPT_ROUNDS", 12, "Cost of password hashing", ge=4, le=31)
    # Public forms
    public_per_session: int = _env(
        "PUBLIC_PER_SESSION", 5, "Submissions per form and browser session per hour", ge=1
    )
    public_per_minute: int = _env(
        "PUBLIC_PER_MINUTE", 60, "Submissions per form per minute from everyone", ge=1
    )
    # Self-service pages
    preference_link_days: int = _env(
        "PREFERENCE_LINK_DAYS", 90, "Days a personal preference link works", ge=1, le=730
    )
    ask_us_team: str = _env(
        "ASK_US_TEAM", "", "The team that answers Ask us questions from new people"
    )
    # Cases
    case_retention_years: int = _env(
        "CASE_RETENTION_YEARS", 5, "Years a closed case's content is kept", ge=1, le=100
    )
    receipt_scrypt_log2n: int = _env(
        "RECEIPT_SCRYPT_LOG2N", 14, "Cost of hashing receipt codes (2**N)", ge=10, le=20
    )
    # Mail
    smtp_host: str = _env("SMTP_HOST", "", "The mail server; unset: no email is sent")
    smtp_port: int = _env("SMTP_PORT", 25, "The mail server's port", ge=1, le=65535)
    smtp_from: str = _env("SMTP_FROM", "surveys@localhost", "The sender of Rapport's email")
    smtp_user: str = _env("SMTP_USER", "", "The mail server's user name")
    smtp_password: str = _env("SMTP_PASSWORD", "", "The mail server's password")
    smtp_password_file: str = _env(
        "SMTP_PASSWORD_FILE", "", "A file holding the password (a mounted secret)"
    )
    smtp_starttls: bool = _env("SMTP_STARTTLS", False, "Upgrade the connection with STARTTLS")
    # Connected mailboxes (IMAP)
    mail_secrets_dir: str = _env(
        "MAIL_SECRETS_DIR", "/run/secrets", "The folder mailbox password files must be in"
    )
    mail_ca_file: str = _env(
        "MAIL_CA_FILE", "", "Certificate authorities (PEM) to trust for mail servers"
    )
    mail_timeout: float = _env(
        "MAIL_TIMEOUT", 30.0, "Seconds to wait for a mail server", ge=1, le=600
    )
    mail_lease_seconds: int = _env(
        "MAIL_LEASE_SECONDS", 300, "How long a worker holds a mailbox", ge=10, le=86400
    )
    mail_max_message_mb: int = _env(
        "MAIL_MAX_MESSAGE_MB", 25, "Larger messages are logged from their headers", ge=1
    )
    mail_excerpt_chars: int = _env(
        "MAIL_EXCERPT_CHARS", 2000, "Characters of a message's text logged", ge=0, le=20000
    )
    digest_hour: int = _env(
        "DIGEST_HOUR", 7, "Hour of the day (UTC) the daily notification digest goes", ge=0, le=23
    )
    # The data controller, for consent receipts
    controller_name: str = _env("CONTROLLER_NAME", "", "The data controller (default ORG_NAME)")
    controller_contact: str = _env(
        "CONTROLLER_CONTACT", "Data Protection Officer", "Who to contact about personal data"
    )
    controller_address: str = _env(
        "CONTROLLER_ADDRESS", "Not configured", "The controller's postal address"
    )
    controller_email: str = _env(
        "CONTROLLER_EMAIL", "privacy@example.org", "The controller's email address"
    )
    controller_phone: str = _env(
        "CONTROLLER_PHONE", "+44 20 7946 0000", "The controller's telephone number"
    )
    controller_url: str = _env("CONTROLLER_URL", "https://example.org", "The controller's site")
    policy_url: str = _env("POLICY_URL", "", "The privacy policy (default CONTROLLER_URL/privacy)")
    jurisdiction: str = _env("JURISDICTION", "GB", "The country whose law applies (ISO code)")
    # The HTTP API
    api_per_minute: int = _env("API_PER_MINUTE", 120, "API calls per token per minute", ge=1)
    api_max_body_kb: int = _env(
        "API_MAX_BODY_KB", 256, "Largest API request body, in kilobytes", ge=1, le=51200
    )
    api_token_days: int = _env(
        "API_TOKEN_DAYS", 90, "Days a new API token lasts unless told otherwise", ge=1, le=3650
    )
    # The benchmark world
    bulk_survey_waves: int = _env(
        "BULK_SURVEY_WAVES", 8, "Survey waves in the benchmark world", ge=1, le=100
    )

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("brand_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not value:
            return value
        if not HEX_COLOUR.fullmatch(value):
            raise ValueError("a colour written #rrggbb, such as #2f6f5e")
        if contrast(value, "#ffffff") < 4.5:
            raise ValueError(
                "dark enough for white text on it (a contrast of at least 4.5:1, WCAG AA)"
            )
        return value.lower()

    @field_validator("org_logo")
    @classmethod
    def _local_file(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                "a file on this server, not a web address (Rapport fetches nothing from the "
                "internet)"
            )
        return value

    @field_validator("cookie_secure", "demo_setting", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @property
    def demo(self) -> bool:
        """False on a production installation (RAPPORT_DEMO=0): the demo is never seeded."""
        return self.demo_setting != "0"


def variable_of(field: str) -> str:
    """The environment variable a Settings field is read from."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


def _sentence(error: Any) -> str:
    where = str(error["loc"][0])  # the variable's name, or the field's
    name = where if where.startswith(PREFIX) else variable_of(where)
    ctx = error.get("ctx") or {}
    needs = {
        "int_parsing": "a whole number",
        "int_from_float": "a whole number",
        "float_parsing": "a number",
        "bool_parsing": "1 or 0",
        "greater_than_equal": f"at least {ctx.get('ge')}",
        "less_than_equal": f"at most {ctx.get('le')}",
        "literal_error": f"one of {ctx.get('expected')}",
    }.get(error["type"], str(ctx.get("error", "valid")))
    return f"{name} must be {needs}, not {error['input']!r}."


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; read on every use)."""
    try:
        return Settings()
    except pydantic.ValidationError as err:
        raise RuntimeError(_sentence(err.errors()[0])) from err
