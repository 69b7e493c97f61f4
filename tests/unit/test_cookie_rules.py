"""The sign-in cookie: a key that is really random, and the Secure flag over HTTPS."""

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.auth import CookieKeyMissing, cookie_key, estimated_key_bits, secure_cookie


def refused(key: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setenv("RAPPORT_COOKIE_KEY", key)
    monkeypatch.chdir("/")  # so no secrets.toml is found either
    try:
        cookie_key()
    except CookieKeyMissing:
        return True
    return False


@pytest.mark.parametrize(
    "key",
    [
        "k" * 40,
        "k" * 400,
        "ab" * 32,
        "abcdefghijklmnop" * 4,
        "password" * 5,
        "0123456789" * 4,
        "a1b2c3d4" * 5,
        "0" * 31 + "1",
    ],
)
def test_a_long_but_plainly_not_random_cookie_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    assert refused(key, monkeypatch)


@given(
    unit=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=12),
    times=st.integers(min_value=2, max_value=40),
)
def test_any_short_unit_repeated_into_a_long_key_is_refused(unit: str, times: int) -> None:
    key = (unit * times) if len(unit * times) >= 32 else unit * (32 // len(unit) + 2)
    assert estimated_key_bits(key) < 128


@given(
    alphabet=st.text(
        st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=3
    ),
    data=st.data(),
)
def test_any_key_of_three_characters_or_fewer_is_refused(
    alphabet: str, data: st.DataObject
) -> None:
    key = data.draw(st.text(st.sampled_from(alphabet), min_size=32, max_size=80))
    assert estimated_key_bits(key) < 128


@pytest.mark.parametrize(
    "generate",
    [
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_urlsafe(48),  # what `manage.py ensure-secrets` writes
        lambda: secrets.token_hex(32),  # openssl rand -hex 32
    ],
)
def test_generated_cookie_keys_are_accepted_every_time(
    monkeypatch: pytest.MonkeyPatch, generate: object
) -> None:
    for _ in range(300):
        key = generate()  # type: ignore[operator]
        assert not refused(key, monkeypatch), key


@pytest.mark.parametrize(
    ("headers", "url", "setting", "secure"),
    [
        ({}, "https://crm.example.org/", "", True),
        ({}, "http://localhost:8501/", "", False),
        ({"X-Forwarded-Proto": "https"}, "http://10.0.0.5:8501/", "", True),
        ({"x-forwarded-proto": "https, http"}, None, "auto", True),
        ({"Forwarded": "for=10.0.0.1; proto=https"}, None, "", True),
        ({"X-Forwarded-Proto": "http"}, "http://localhost:8501/", "", False),
        ({}, "http://localhost:8501/", "1", True),
        ({"X-Forwarded-Proto": "https"}, "https://crm.example.org/", "0", False),
    ],
)
def test_the_cookie_is_secure_when_the_page_is_served_over_https_or_the_setting_says_so(
    headers: dict[str, str], url: str | None, setting: str, secure: bool
) -> None:
    assert secure_cookie(headers=headers, url=url, setting=setting) is secure


@pytest.mark.parametrize(
    ("name", "value"), [("RAPPORT_COOKIE_SECURE", "maybe"), ("RAPPORT_DEMO", "no")]
)
def test_a_mistyped_security_setting_stops_the_app_rather_than_guessing(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from db.core.settings import get_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=f"{name} must be one of"):
        get_settings()
