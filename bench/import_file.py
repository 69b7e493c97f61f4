"""A contacts file for timing `manage.py import contacts`: deterministic, varied, realistic.

The same arguments always give the same file. Names, towns and organisation words come from
the demo's own lists (`db/demo/people.py`); addresses, phone numbers, countries, tags and job
titles vary in the ways real exports do (capitals, spacing, national and international
numbers, country names or codes, blanks). A share of rows names people and organisations
the world already holds, so the import updates some contacts and links to existing
organisations as well as creating new ones.
"""

import csv
import random
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from db.demo.people import FAMILY, GIVEN, ORG_KINDS, ORG_WORDS

IMPORT_ROWS = 100_000
HEADERS = [
    "given_name",
    "family_name",
    "email",
    "phone",
    "organisation",
    "country",
    "tags",
    "job_title",
]
DOMAINS = ["example.org", "example.net", "example.com", "mail.example.org", "post.example.net"]
COUNTRIES = ["GB", "GB", "GB", "United Kingdom", "UK", "IE", "Ireland", "FR", "DE", ""]
TAGS = ["newsletter", "event-2026", "volunteer", "donor", "partner", "vip", "press", "alumni"]
JOBS = [
    "Nurse",
    "Ward manager",
    "Head teacher",
    "Housing officer",
    "Care worker",
    "Director",
    "Operations lead",
    "Councillor",
    "Finance officer",
    "",
]
# Shares of rows: naming a contact the world holds (an update), repeating an earlier row of
# the file (the later row updates the earlier), and naming an organisation the world holds.
EXISTING_SHARE, REPEAT_SHARE, EXISTING_ORG_SHARE = 0.02, 0.005, 0.2
NEW_ORGANISATIONS = 3000


def _ascii(text: str) -> str:
    """A name as it appears in an email address: accents dropped, letters only."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum())


def _email(rng: random.Random, given: str, family: str, n: int) -> str:
    g, f = _ascii(given), _ascii(family)
    local = rng.choice([f"{g}.{f}.{n}", f"{g[0]}{f}{n}", f"{f}.{g}{n}", f"{g}_{f}_{n}"])
    if rng.random() < 0.3:
        local = local.lower()
    return f"{local}@{rng.choice(DOMAINS)}"


def _phone(rng: random.Random, n: int) -> str:
    digits = f"{n % 10_000:04d}"
    return rng.choice(
        [
            f"020 7946 {digits}",
            f"+44 20 7946 {digits}",
            f"07700 9{digits[:2]} {digits[2:]}0",
            f"(0113) 496 {digits}",
            f"+44 161 496 {digits}",
            "",
        ]
    )


def _organisation(rng: random.Random, existing: Sequence[str]) -> str:
    roll = rng.random()
    if existing and roll < EXISTING_ORG_SHARE:
        return rng.choice(existing)
    if roll > 0.9:
        return ""
    number = rng.randrange(NEW_ORGANISATIONS)
    word, kind = ORG_WORDS[number % len(ORG_WORDS)], ORG_KINDS[number % len(ORG_KINDS)]
    name = f"{word} {kind} {number}"
    return name.upper() if rng.random() < 0.05 else name


def contact_rows(
    rows: int,
    *,
    seed: int = 2026,
    existing_emails: Sequence[str] = (),
    existing_organisations: Sequence[str] = (),
) -> list[list[str]]:
    """The file's data rows, the header not included."""
    rng = random.Random(seed)
    out: list[list[str]] = []
    for n in range(rows):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        roll = rng.random()
        if existing_emails and roll < EXISTING_SHARE:
            email = rng.choice(existing_emails)
        elif out and roll < EXISTING_SHARE + REPEAT_SHARE:
            email = rng.choice(out)[2]
        else:
            email = _email(rng, given, family, n)
        tags = ";".join(rng.sample(TAGS, rng.choice([0, 1, 1, 2, 3])))
        out.append(
            [
                given,
                family,
                email,
                _phone(rng, n),
                _organisation(rng, existing_organisations),
                rng.choice(COUNTRIES),
                tags,
                rng.choice(JOBS),
            ]
        )
    return out


def write_contacts_file(
    path: Path,
    rows: int = IMPORT_ROWS,
    *,
    existing_emails: Sequence[str] = (),
    existing_organisations: Sequence[str] = (),
) -> Path:
    """Write the contacts CSV to `path` and return it."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(
            contact_rows(
                rows,
                existing_emails=existing_emails,
                existing_organisations=existing_organisations,
            )
        )
    return path
