"""Pure logic: settings parsing, the cookie-key rule, markdown escaping, UTC times."""

import secrets
from datetime import UTC, datetime

import pytest

from components.auth import CookieKeyMissing, cookie_key
from components.text import escape_markdown
from db.core.settings import get_settings
from db.core.types import UTCDateTime


def test_settings_have_safe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "RAPPORT_DATABASE_URL",
        "RAPPORT_SESSION_HOURS",
        "RAPPORT_LOCKOUT_ATTEMPTS",
        "RAPPORT_LOCKOUT_MINUTES",
        "RAPPORT_ORG_NAME",
        "RAPPORT_PUBLIC_PER_SESSION",
        "RAPPORT_PUBLIC_PER_MINUTE",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.database_url == "sqlite:///data/rapport.db"
    assert (settings.session_hours, settings.lockout_attempts, settings.lockout_minutes) == (
        8.0,
        5,
        15,
    )
    assert (settings.public_per_session, settings.public_per_minute) == (5, 60)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAPPORT_LOCKOUT_ATTEMPTS", "five", "whole number"),
        ("RAPPORT_LOCKOUT_MINUTES", "0", "at least 1"),
        ("RAPPORT_SESSION_HOURS", "soon", "must be a number"),
        ("RAPPORT_PUBLIC_PER_SESSION", "0", "at least 1"),
        ("RAPPORT_PUBLIC_PER_MINUTE", "lots", "whole number"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=f"{name} must .*{message}|{name}.*{message}"):
        get_settings()


@pytest.mark.parametrize("key", ["", "some_key", "too-short-key"])
def test_the_app_refuses_a_missing_default_or_short_cookie_key(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("RAPPORT_COOKIE_KEY", key)
    monkeypatch.chdir("/")  # so no secrets.toml is found either
    with pytest.raises(CookieKeyMissing):
        cookie_key()


def test_a_long_random_cookie_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    key = secrets.token_urlsafe(32)
    monkeypatch.setenv("RAPPORT_COOKIE_KEY", key)
    assert cookie_key() == key


@pytest.mark.parametrize(
    "payload",
    [
        "![x](http://evil.example/p.png)",
        "[click](javascript:alert(1))",
        "<script>alert(1)</script>",
        "**bold** _it_ `code` # heading",
        "<img src=x onerror=alert(1)>",
    ],
)
def test_escaped_markdown_has_no_live_markup(payload: str) -> None:
    escaped = escape_markdown(payload)
    for special in "![]()<>*_`#":
        assert special not in escaped.replace("\\" + special, "")


def test_utc_datetime_refuses_naive_times_and_returns_aware_ones() -> None:
    column = UTCDateTime()

    class SQLite:
        name = "sqlite"

    with pytest.raises(ValueError, match="Naive"):
        column.process_bind_param(datetime(2026, 1, 1), SQLite())  # type: ignore[arg-type]
    stored = column.process_bind_param(datetime(2026, 1, 1, tzinfo=UTC), SQLite())  # type: ignore[arg-type]
    assert stored.tzinfo is None
    loaded = column.process_result_value(stored, SQLite())  # type: ignore[arg-type]
    assert loaded == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_count_reads_in_the_right_number() -> None:
    from components.text import count_of

    assert [count_of(n, "day") for n in (0, 1, 2, 1234)] == [
        "0 days",
        "1 day",
        "2 days",
        "1,234 days",
    ]
    assert (
        count_of(1, "reply", "replies") == "1 reply"
        and count_of(3, "reply", "replies") == "3 replies"
    )
