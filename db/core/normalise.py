"""Normalising what people type: emails, phone numbers, names, countries, tags."""

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from db.core.errors import ValidationError
from db.core.types import storable_text

DEFAULT_PHONE_REGION = "GB"
_SPACES = re.compile(r"\s+")

# The longest address RFC 5321 allows in a mailbox path.
EMAIL_MAX = 254
# A phone number as typed, with spaces, brackets and an extension.
PHONE_MAX = 40
COUNTRY_CODE_LENGTH = 2
DOMAIN_MAX = 253
TAG_MAX = 40
TAG_COUNT_MAX = 50
# The longest comma-separated list of tags the rules accept ("tag, tag, ...").
TAGS_TEXT_MAX = TAG_COUNT_MAX * (TAG_MAX + len(", "))
# What a search box sends: longer text names nothing a person would look for.
SEARCH_MAX = 200


def clean_text(value: str | None, *, field: str, label: str, max_length: int) -> str | None:
    """Strip and collapse spaces; None for empty; refuse what is too long."""
    if value is None:
        return None
    text = _SPACES.sub(" ", storable_text(value)).strip()
    if not text:
        return None
    if len(text) > max_length:
        raise ValidationError(
            f"{label}: use at most {max_length} characters (this has {len(text)}).", field=field
        )
    return text


def search_text(value: str | None, *, label: str = "Search") -> str:
    """Stripped search text; refuses more than SEARCH_MAX characters."""
    text = storable_text(value or "").strip()
    if len(text) > SEARCH_MAX:
        raise ValidationError(
            f"{label}: search with at most {SEARCH_MAX} characters (this has {len(text)}).",
            field="query",
        )
    return text


def normalise_email(value: str | None, *, field: str = "email", label: str = "Email") -> str | None:
    """A syntactically valid, lower-cased email address, or None when empty."""
    if value is None or not value.strip():
        return None
    if len(value.strip()) > EMAIL_MAX:
        raise ValidationError(f"{label}: use at most {EMAIL_MAX} characters.", field=field)
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as err:
        raise ValidationError(
            f"{label}: {value.strip()!r} is not an email address ({err}).", field=field
        ) from err
    return result.normalized.lower()


def normalise_phone(
    value: str | None,
    *,
    region: str | None = None,
    field: str = "phone",
    label: str = "Phone",
) -> str | None:
    """A phone number in E.164 form (+441632960961), or None when empty."""
    if value is None or not value.strip():
        return None
    if len(value.strip()) > PHONE_MAX:
        raise ValidationError(f"{label}: use at most {PHONE_MAX} characters.", field=field)
    try:
        parsed = phonenumbers.parse(value, (region or DEFAULT_PHONE_REGION).upper())
    except phonenumbers.NumberParseException as err:
        raise ValidationError(
            f"{label}: {value.strip()!r} is not a phone number; include the country code, "
            "e.g. +44 20 7946 0018.",
            field=field,
        ) from err
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(
            f"{label}: {value.strip()!r} has the wrong number of digits.", field=field
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_country(value: str | None, *, field: str = "country") -> str | None:
    """A two-letter ISO country code in capitals, or None when empty."""
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if not re.fullmatch(rf"[A-Z]{{{COUNTRY_CODE_LENGTH}}}", code):
        raise ValidationError("Country: use the two-letter code, e.g. GB, IE, FR.", field=field)
    return code


def normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, de-duplicated tags of at most 40 characters."""
    cleaned: list[str] = []
    for tag in tags:
        text = _SPACES.sub(" ", tag).strip().lower()
        if not text:
            continue
        if len(text) > TAG_MAX:
            raise ValidationError(
                f"Tags: each tag may have at most {TAG_MAX} characters.", field="tags"
            )
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > TAG_COUNT_MAX:
        raise ValidationError(
            f"Tags: use at most {TAG_COUNT_MAX} tags (this has {len(cleaned)}).", field="tags"
        )
    return cleaned


def normalise_domain(value: str | None) -> str | None:
    """A bare lower-case domain (no scheme, no www., no path), or None."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    text = text.removeprefix("www.")
    if len(text) > DOMAIN_MAX:
        raise ValidationError(f"Domain: use at most {DOMAIN_MAX} characters.", field="domain")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", text):
        raise ValidationError(
            f"Domain: {value.strip()!r} is not a web domain like example.org.", field="domain"
        )
    return text
