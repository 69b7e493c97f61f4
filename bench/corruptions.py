"""Labelled person records corrupted in ways the matcher was not written for.

The matcher's own test set (`db.demo.duplicate_data`) draws nicknames from the matcher's
own table, so it cannot show what the matcher does not know. These copies are corrupted
by kinds of error found in real contact data, none of them modelled by the matcher: typos
by keyboard distance, OCR confusions, spelling by sound, swapped given and family names,
missing fields, abbreviations and transposed digits, with several copies of some people
and relatives at the same address (who must not be merged).

Each copy records its kinds of corruption, so quality is reported per kind. Tune on the
development seed only; the held-out seed is for the figure reported.
"""

import random
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from db.demo.duplicate_data import Quality, original_record, quality, relative_of, true_pairs

DEVELOPMENT_SEED = 5
HELD_OUT_SEED = 20261203
KINDS = ("keyboard", "ocr", "phonetic", "swapped", "missing", "abbreviated", "digits")
SEVERAL = "several copies"

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    """Each letter's neighbouring keys on a QWERTY keyboard."""
    near: dict[str, str] = {}
    for r, row in enumerate(_ROWS):
        for c, key in enumerate(row):
            keys = [row[j] for j in (c - 1, c + 1) if 0 <= j < len(row)]
            for other in (r - 1, r + 1):
                if 0 <= other < len(_ROWS):
                    line = _ROWS[other]
                    keys += [line[j] for j in (c - 1, c, c + 1) if 0 <= j < len(line)]
            near[key] = "".join(keys)
    return near


_NEAR = _neighbours()


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """ "a>b c>d" as (("a", "b"), ("c", "d"))."""
    return tuple((old, new) for old, _, new in (pair.partition(">") for pair in text.split()))


# Letters a scanner reads as others, and spellings that sound alike: (written, read).
OCR = _pairs("rn>m m>rn cl>d d>cl l>1 i>l o>0 e>c h>b u>v vv>w g>q s>5 b>6")
SOUNDS = _pairs("ph>f f>ph ck>k k>c ee>ea ie>y y>ie ll>l tt>t ou>ow c>k s>z ai>ay th>t v>w an>en")
STREET_SHORT = {"Road": "Rd", "Street": "St", "Avenue": "Ave", "Lane": "Ln", "Close": "Cl"}


def _keyboard(rng: random.Random, text: str) -> str:
    letters = [i for i, ch in enumerate(text.lower()) if ch in _NEAR]
    if not letters:
        return text
    i = rng.choice(letters)
    wrong = rng.choice(_NEAR[text[i].lower()])
    if rng.random() < 0.3:  # a key pressed beside the right one as well
        return text[: i + 1] + wrong + text[i + 1 :]
    return text[:i] + (wrong.upper() if text[i].isupper() else wrong) + text[i + 1 :]


def _replace_one(rng: random.Random, text: str, table: tuple[tuple[str, str], ...]) -> str:
    options = [(a, b) for a, b in table if a in text.lower()]
    if not options:
        return text
    old, new = rng.choice(options)
    at = text.lower().find(old)
    return text[:at] + new + text[at + len(old) :]


def _transpose_digits(rng: random.Random, text: str) -> str:
    digits = [i for i in range(len(text) - 1) if text[i].isdigit() and text[i + 1].isdigit()]
    digits = [i for i in digits if text[i] != text[i + 1]]
    if not digits:
        return text
    i = rng.choice(digits)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _name_field(rng: random.Random) -> str:
    return rng.choice(["given_name", "family_name", "family_name"])


def corrupt(rng: random.Random, original: dict[str, Any], kinds: Iterable[str]) -> dict[str, Any]:
    """A copy of `original` with each of `kinds` of corruption applied once."""
    copy = dict(original)
    if copy.get("date_of_birth") is not None:
        copy["date_of_birth"] = copy["date_of_birth"].isoformat()
    for kind in kinds:
        if kind == "keyboard":
            field = _name_field(rng)
            copy[field] = _keyboard(rng, copy[field])
        elif kind == "ocr":
            field = _name_field(rng)
            copy[field] = _replace_one(rng, copy[field], OCR)
        elif kind == "phonetic":
            field = _name_field(rng)
            copy[field] = _replace_one(rng, copy[field], SOUNDS)
        elif kind == "swapped":
            copy["given_name"], copy["family_name"] = copy["family_name"], copy["given_name"]
        elif kind == "missing":
            fields = ["email", "phone", "date_of_birth", "postcode", "street", "identifier"]
            for field in rng.sample(fields, k=rng.randint(1, 3)):
                copy[field] = None
        elif kind == "abbreviated":
            if rng.random() < 0.5 or not copy.get("street"):
                copy["given_name"] = copy["given_name"][0]
            else:
                for long, short in STREET_SHORT.items():
                    copy["street"] = copy["street"].replace(long, short)
                copy["locality"] = (copy["locality"] or "")[:3] or None
        elif kind == "digits":
            field = rng.choice(
                [f for f in ("date_of_birth", "identifier", "phone") if copy.get(f)] or ["street"]
            )
            copy[field] = _transpose_digits(rng, str(copy[field]))
    if copy.get("email") and rng.random() < 0.1:
        copy["email"] = None  # a second address not given this time
    return copy


def corrupted_records(n_originals: int, *, seed: int) -> list[dict[str, Any]]:
    """Originals, their corrupted copies (with `kinds`) and relatives; `entity` is truth."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for n in range(n_originals):
        original = original_record(rng, n)
        original["entity"], original["kinds"] = n, ()
        records.append(original)
        if rng.random() < 0.4:
            for c in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
                kinds = tuple(rng.sample(KINDS, k=rng.choice([1, 1, 2])))
                copy = corrupt(rng, original, kinds)
                copy.update(entity=n, kinds=kinds, external_ref=f"SRC-{n}-{c + 1}")
                records.append(copy)
        if rng.random() < 0.15:
            records.append({**relative_of(rng, original, n), "kinds": ()})
    rng.shuffle(records)
    for i, record in enumerate(records):
        record["id"] = i + 1
        if isinstance(record.get("date_of_birth"), date):
            record["date_of_birth"] = record["date_of_birth"].isoformat()
    return records


def quality_by_kind(
    records: list[dict[str, Any]], found: set[tuple[int, int]]
) -> dict[str, Quality]:
    """Precision, recall and F1 overall (key "all") and recall per kind of corruption
    (a pair counts for each kind of either of its records; precision is overall)."""
    truth = true_pairs(records)
    copies = Counter(record["entity"] for record in records)
    report = {"all": quality(found, truth)}
    for kind in (*KINDS, SEVERAL):
        if kind == SEVERAL:
            pairs = {(a, b) for a, b in truth if copies[records[a]["entity"]] >= 3}
        else:
            pairs = {(a, b) for a, b in truth if kind in records[a]["kinds"] + records[b]["kinds"]}
        kept = {p for p in found if p in pairs}
        report[kind] = quality(kept, pairs)
    return report
