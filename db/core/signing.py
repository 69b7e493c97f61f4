"""Signing the tokens of personal links with the installation's secret key.

The key is the sign-in cookie's (RAPPORT_COOKIE_KEY, else `.streamlit/secrets.toml`),
read here without Streamlit; a per-use salt keeps one kind of token from passing as another.
"""

import tomllib
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from db.core.settings import get_settings

SECRETS_FILE = Path(__file__).resolve().parents[2] / ".streamlit" / "secrets.toml"


def secret_key() -> str:
    """The installation's secret key; RuntimeError when none is configured."""
    key = get_settings().cookie_key
    if not key and SECRETS_FILE.exists():
        key = str(tomllib.loads(SECRETS_FILE.read_text(encoding="utf-8")).get("cookie_key", ""))
    if len(key.strip()) < 32:
        raise RuntimeError(
            "No secret key is configured: set RAPPORT_COOKIE_KEY or run `manage.py ensure-secrets`."
        )
    return key.strip()


def sign(value: str, *, salt: str) -> str:
    """`value` with a timestamped signature (URL-safe)."""
    return URLSafeTimedSerializer(secret_key(), salt=salt).dumps(value)


def unsign(token: str, *, salt: str, max_age_seconds: int) -> str | None:
    """The signed value, or None when the signature is wrong or older than `max_age_seconds`."""
    try:
        value = URLSafeTimedSerializer(secret_key(), salt=salt).loads(
            token, max_age=max_age_seconds
        )
    except BadSignature:  # SignatureExpired is one too
        return None
    return value if isinstance(value, str) else None
