"""No secret is committed: tracked files hold no key, token or password but the demo one."""

import re
import subprocess
from pathlib import Path

import pytest

from db.demo.fixtures import DEMO_PASSWORD
from db.surveys.distribution import SmtpSettings
from tests.conftest import ROOT

# What leaked credentials look like: private keys, cloud and service tokens, and
# assignments of a literal to something named like a secret.
PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "secret assignment": re.compile(
        r"""(?ix)\b(cookie_key|secret_key|api_key|smtp_password|password|passwd|token)
        \s*[:=]\s*["']([^"'\s{}$<>]{12,})["']"""
    ),
}
# Test fixtures and documentation use these made-up values on purpose.
ALLOWED_VALUES = {DEMO_PASSWORD}
ALLOWED_PATHS = re.compile(r"^tests/")


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [line for line in out.splitlines() if line]


def test_no_secrets_file_is_tracked() -> None:
    names = tracked_files()
    assert ".streamlit/secrets.toml" not in names
    assert not [n for n in names if n.endswith((".pem", ".key", ".p12", ".env"))]


def test_no_tracked_file_holds_something_that_looks_like_a_secret() -> None:
    found = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                value = match.group(match.lastindex or 0)
                if value in ALLOWED_VALUES:
                    continue
                if kind == "secret assignment" and ALLOWED_PATHS.match(name):
                    continue  # tests make up passwords for the users they create
                found.append(f"{name}: {kind}: {match.group(0)[:60]}")
    assert not found, "\n".join(found)


def test_the_scanner_recognises_a_leaked_key() -> None:
    leaked = 'smtp_password = "hunter2-but-much-longer"'
    assert PATTERNS["secret assignment"].search(leaked)
    # Built in two parts so this file does not itself look like it holds a key.
    assert PATTERNS["private key"].search("-----BEGIN RSA " + "PRIVATE KEY-----")
    assert not PATTERNS["secret assignment"].search('password = os.environ["X"]')


def test_the_smtp_password_comes_from_the_environment_or_a_secret_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAPPORT_SMTP_HOST", "mail.example.org")
    monkeypatch.delenv("RAPPORT_SMTP_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("RAPPORT_SMTP_PASSWORD", "from-the-environment")
    settings = SmtpSettings.from_env()
    assert settings is not None and settings.password == "from-the-environment"
    secret = tmp_path / "smtp_password"
    secret.write_text("from-a-mounted-secret\n", encoding="utf-8")
    monkeypatch.setenv("RAPPORT_SMTP_PASSWORD_FILE", str(secret))
    settings = SmtpSettings.from_env()
    assert settings is not None and settings.password == "from-a-mounted-secret"
    monkeypatch.setenv("RAPPORT_SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="RAPPORT_SMTP_PASSWORD_FILE"):
        SmtpSettings.from_env()
