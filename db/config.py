"""Settings a deployer may change, read from the environment."""

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///data/rapport.db"


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}.") from exc
    if value < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _float(name: str, default: float, *, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, not {raw!r}.") from exc
    if value < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _choice(name: str, allowed: set[str]) -> str:
    raw = os.environ.get(name, "").strip().lower()
    if raw not in allowed:
        shown = ", ".join(sorted(repr(a) for a in allowed if a))
        raise RuntimeError(f"{name} must be one of {shown}, not {raw!r}.")
    return raw


@dataclass(frozen=True)
class Settings:
    """Every deployer-facing setting, with its default."""

    database_url: str
    organisation_name: str
    session_hours: float
    lockout_attempts: int
    lockout_minutes: int
    bcrypt_rounds: int
    public_per_session: int
    public_per_minute: int
    cookie_secure: str
    demo: bool


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; read on every use)."""
    return Settings(
        database_url=os.environ.get("RAPPORT_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
        organisation_name=os.environ.get("RAPPORT_ORG_NAME", "").strip() or "Rapport",
        session_hours=_float("RAPPORT_SESSION_HOURS", 8.0, minimum=0.05),
        lockout_attempts=_int("RAPPORT_LOCKOUT_ATTEMPTS", 5, minimum=1),
        lockout_minutes=_int("RAPPORT_LOCKOUT_MINUTES", 15, minimum=1),
        # Tests lower this; 12 is bcrypt's recommended production cost.
        bcrypt_rounds=_int("RAPPORT_BCRYPT_ROUNDS", 12, minimum=4),
        # Each public form (raise a concern, follow-up reply, survey answer) accepts this
        # many submissions per browser session per hour, and this many per minute in all.
        public_per_session=_int("RAPPORT_PUBLIC_PER_SESSION", 5, minimum=1),
        public_per_minute=_int("RAPPORT_PUBLIC_PER_MINUTE", 60, minimum=1),
        # The sign-in cookie's Secure flag: "1" always, "0" never, unset: when the request
        # came over HTTPS (directly or through a proxy that says so).
        cookie_secure=_choice("RAPPORT_COOKIE_SECURE", {"", "auto", "1", "0"}),
        # 0 on a production installation: `manage.py seed` then never creates the demo
        # world (and its published sign-ins), even on an empty database.
        demo=_choice("RAPPORT_DEMO", {"", "1", "0"}) != "0",
    )
