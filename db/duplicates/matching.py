"""Finding likely duplicate people among plain records (dicts), fast and explainably.

The matcher knows nothing of the database: it takes dicts with the contact fields
(`given_name`, `family_name`, `email`, `email2`, `phone`, `mobile`, `date_of_birth`,
`postcode`, `locality`, `street`, `identifier`, plus `id` and `external_ref`), so the same
code serves the Duplicates page, the check at entry and the benchmark.

Cost grows close to linearly: each record is put into a few blocks (same email, same
phone, same date of birth, same identifier, name prefixes in both orders, postcode with an
initial) and only records sharing a block are compared; a block larger than
`WINDOW` is compared by sorted neighbourhood rather than all pairs.
"""

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from db.duplicates.nicknames import canonical_given, canonical_given_fuzzy

DEFAULT_MIN_SCORE = 0.4
WINDOW = 12
HOUSEHOLD_CAP = 3.5
HOUSEHOLD_CAP_NAMED = 5.5
# Below this many comparisons, starting worker processes costs more than it saves.
PARALLEL_MIN_PAIRS = 50_000
# Log-odds before any evidence: most pairs that share a block are different people.
PRIOR = -8.5
_NOT_LETTERS = re.compile(r"[^a-z]")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_DIGITS = re.compile(r"\D")
_NUMERIC_DATE = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d", "%Y/%m/%d", "%d %b %Y")


@dataclass(frozen=True)
class Person:
    """A record reduced to what matching compares (normalised once)."""

    index: int
    given: str
    family: str
    given_canon: str
    given_fuzzy: str
    emails: frozenset[str]
    phones: frozenset[str]
    dob: tuple[int, int, int] | None
    postcode: str
    locality: str
    street: str
    identifier: str


@dataclass(frozen=True)
class Match:
    """Two records that are probably one person: indexes into the input, score, reasons."""

    left: int
    right: int
    score: float
    reasons: tuple[str, ...]


def fold(text: object) -> str:
    """Lower-case ASCII letters only: accents, spaces, apostrophes and hyphens removed."""
    if not text:
        return ""
    plain = str(text)
    if not plain.isascii():
        plain = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
    return _NOT_LETTERS.sub("", plain.lower())


def email_key(value: object) -> str:
    """An email reduced to what identifies a mailbox: lower case, no +tag."""
    if not value:
        return ""
    text = str(value).strip().lower()
    if "@" not in text:
        return ""
    local, _, domain = text.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def phone_key(value: object) -> str:
    """The last nine digits of a phone number, so +44 20…, 020… and 0044 20… agree."""
    digits = _DIGITS.sub("", str(value or ""))
    return digits[-9:] if len(digits) >= 7 else ""


def parse_dob(value: object) -> tuple[int, int, int] | None:
    """A date of birth as (year, month, day) from a date or the common written forms."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return (value.year, value.month, value.day)
    if isinstance(value, date):
        return (value.year, value.month, value.day)
    text = str(value).strip()
    numeric = _NUMERIC_DATE.fullmatch(text)
    if numeric:
        first, second, third = (int(part) for part in numeric.groups())
        if len(numeric.group(1)) == 4:
            return _valid(first, second, third)
        return _valid(third, second, first)
    if len(text) == 8 and text.isdigit():
        return _valid(int(text[:4]), int(text[4:6]), int(text[6:]))
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (parsed.year, parsed.month, parsed.day)
    return None


def _valid(year: int, month: int, day: int) -> tuple[int, int, int] | None:
    try:
        date(year, month, day)
    except ValueError:
        return None
    return (year, month, day)


def postcode_key(value: object) -> str:
    """A postcode in capitals without spaces or punctuation."""
    return _NOT_ALNUM.sub("", str(value or "").upper())


def prepare(index: int, record: Mapping[str, Any]) -> Person:
    """Normalise one record for matching."""
    given = fold(record.get("given_name"))
    emails = {email_key(record.get(f)) for f in ("email", "email2")} - {""}
    phones = {phone_key(record.get(f)) for f in ("phone", "mobile")} - {""}
    street = re.sub(r"\s+", " ", str(record.get("street") or "").lower()).strip()
    return Person(
        index=index,
        given=given,
        family=fold(record.get("family_name")),
        given_canon=canonical_given(given),
        given_fuzzy=canonical_given_fuzzy(given) if given else "",
        emails=frozenset(emails),
        phones=frozenset(phones),
        dob=parse_dob(record.get("date_of_birth")),
        postcode=postcode_key(record.get("postcode")),
        locality=fold(record.get("locality")),
        street=street,
        identifier=postcode_key(record.get("identifier")),
    )


def block_keys(p: Person) -> Iterator[str]:
    """The blocks a record falls into; two records are compared only if they share one."""
    for email in p.emails:
        yield f"e:{email}"
    for phone in p.phones:
        yield f"p:{phone}"
    if p.identifier:
        yield f"i:{p.identifier}"
    if p.dob:
        yield f"d:{p.dob}"
    # Each name in full with the other's first letters, in both orders, so a typo in one name
    # or swapped given and family names still meet.
    given = p.given_fuzzy
    if p.family:
        yield f"n:{p.family}:{given[:2]}"
    if given:
        yield f"n:{given}:{p.family[:2]}"
    initials = sorted({n[:1] for n in (p.given, p.family) if n})
    if p.postcode:
        for initial in initials:
            yield f"z:{p.postcode}:{initial}"
    # House number and street name (without "Road"/"Rd"), with an initial, so copies whose
    # names and postcodes were both mistyped or left out still meet at their address.
    address = _street_key(p.street)
    if address:
        address = f"{address}{p.locality[:4]}"
        for initial in initials:
            yield f"s:{address}:{initial}"


def _street_key(street: str) -> str:
    words = street.split()
    if len(words) < 2 or not any(c.isdigit() for c in words[0]):
        return ""
    return f"{words[0]}{fold(words[1])}"


def candidate_pairs(people: list[Person]) -> set[tuple[int, int]]:
    """Pairs of record indexes that share at least one block (each pair once)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for p in people:
        for key in set(block_keys(p)):
            blocks[key].append(p.index)
    pairs: set[tuple[int, int]] = set()
    by_index = {p.index: p for p in people}
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= WINDOW:
            pairs.update(combinations(sorted(members), 2))  # each as (low, high)
            continue
        # A crowded block (a common surname, a shared switchboard number): compare each
        # record with its neighbours in name order only, which keeps the cost linear.
        ordered = sorted(members, key=lambda i: (by_index[i].family, by_index[i].given))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 : i + WINDOW]:
                pairs.add((a, b) if a < b else (b, a))
    return pairs


def _name_sim(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return float(JaroWinkler.normalized_similarity(a, b))


def _given_sim(a: Person, b: Person, swapped: bool) -> tuple[float, str | None]:
    ga, gb = a.given, (b.family if swapped else b.given)
    ca, cb = a.given_canon, (canonical_given(gb) if swapped else b.given_canon)
    if not ga or not gb:
        return 0.0, None
    if ga == gb:
        return 1.0, None
    if ca == cb:
        return 0.97, "nickname"
    fa = a.given_fuzzy
    fb = canonical_given_fuzzy(gb) if swapped else b.given_fuzzy
    if fa == fb or fa == cb or ca == fb:
        # One typo away from a nickname of the same name: "Cahty" and "Catherine".
        return 0.93, "nickname with a typo"
    if len(ga) == 1 or len(gb) == 1:
        return (0.85, "initial") if ga[0] == gb[0] else (0.0, None)
    return _name_sim(ga, gb), None


def _dob_evidence(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[float, str]:
    if a == b:
        return 5.0, "same date of birth"
    if (a[0], a[2], a[1]) == b:
        return 3.0, "date of birth with day and month swapped"
    digits_a = f"{a[0]:04d}{a[1]:02d}{a[2]:02d}"
    digits_b = f"{b[0]:04d}{b[1]:02d}{b[2]:02d}"
    distance = Levenshtein.distance(digits_a, digits_b)
    if distance == 1 or sorted(digits_a) == sorted(digits_b) and distance == 2:
        return 2.0, "date of birth one typo apart"
    same_parts = sum(x == y for x, y in zip(a, b, strict=True))
    if same_parts == 2:
        return 0.5, "date of birth differs in one part"
    return -6.0, "different date of birth"


def _household(a: Person, b: Person, reasons: list[str], cap: float) -> float:
    """Phone and address evidence, capped: a household shares all of it."""
    found = 0.0
    if a.phones and b.phones:
        if a.phones & b.phones:
            found += 3.0
            reasons.append("same phone")
        else:
            found -= 0.5
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            found += 2.0
            reasons.append("same postcode")
        elif Levenshtein.distance(a.postcode, b.postcode) == 1:
            found += 1.0
            reasons.append("postcode one typo apart")
        else:
            found -= 1.0
    if a.street and b.street:
        street = float(JaroWinkler.normalized_similarity(a.street, b.street))
        number_a, number_b = a.street.split(" ", 1)[0], b.street.split(" ", 1)[0]
        if number_a != number_b and number_a.isdigit() and number_b.isdigit():
            street = 0.0  # 182 and 196 Manor Close are neighbours, not one address
        if street >= 0.9:
            found += 1.5
            reasons.append("same street" if street >= 0.999 else f"street {street:.2f}")
        elif street < 0.7:
            found -= 0.5
    if a.locality and b.locality and a.locality == b.locality:
        found += 0.5
    return min(found, cap)


def score_pair(a: Person, b: Person) -> tuple[float, tuple[str, ...]]:
    """A probability-like score in [0, 1] that a and b are one person, and why."""
    evidence = PRIOR
    reasons: list[str] = []
    fam = _name_sim(a.family, b.family)
    giv, note = _given_sim(a, b, swapped=False)
    swapped = False
    if fam + giv < 1.8 and a.given and b.given:
        # Only a poor straight match is worth trying the other way round.
        swapped_f = _name_sim(a.family, b.given)
        swapped_g, swapped_note = _given_sim(a, b, swapped=True)
        if swapped_f + swapped_g > fam + giv + 0.05:
            swapped, fam, giv, note = True, swapped_f, swapped_g, swapped_note
    if swapped:
        reasons.append("given and family names swapped")
    if a.family and b.family:
        fam_a, fam_b = a.family, (b.given if swapped else b.family)
        if fam >= 0.999:
            evidence += 4.5
            reasons.append("same family name")
        elif fam >= 0.92 or OSA.distance(fam_a, fam_b) <= 1:
            evidence += 3.5
            reasons.append(f"family name {fam:.2f}")
        elif min(len(fam_a), len(fam_b)) >= 5 and OSA.distance(fam_a, fam_b) <= 2:
            # Two typos in a longer name (each copy mistyped once) still point one way.
            evidence += 2.5
            reasons.append(f"family name {fam:.2f}")
        elif fam >= 0.85:
            evidence += 1.0
            reasons.append(f"family name {fam:.2f}")
        elif OSA.distance(fam_a, fam_b) <= 2:
            reasons.append(f"family name {fam:.2f}")  # short and mistyped: no evidence
        else:
            evidence -= 5.0
    if a.given and b.given:
        giv_a, giv_b = a.given, (b.family if swapped else b.given)
        if giv >= 0.999:
            evidence += 3.5
            reasons.append("same given name")
        elif note == "nickname":
            evidence += 3.0
            reasons.append("given name is a nickname")
        elif note == "nickname with a typo":
            evidence += 2.5
            reasons.append("given name is a nickname, mistyped")
        elif note == "initial":
            evidence += 1.0
            reasons.append("same initial")
        elif giv >= 0.92 or (min(len(giv_a), len(giv_b)) >= 5 and OSA.distance(giv_a, giv_b) <= 1):
            evidence += 2.5
            reasons.append(f"given name {giv:.2f}")
        elif OSA.distance(giv_a, giv_b) <= 1:
            # A short name one typo away (Amy, Aym) is weak evidence either way.
            evidence += 1.0
            reasons.append(f"given name {giv:.2f}")
        elif giv >= 0.85:
            reasons.append(f"given name {giv:.2f}")
        else:
            evidence -= 4.0
    if a.emails and b.emails:
        if a.emails & b.emails:
            evidence += 7.0
            reasons.append("same email")
        else:
            evidence -= 1.0
    if a.dob and b.dob:
        weight, why = _dob_evidence(a.dob, b.dob)
        evidence += weight
        reasons.append(why)
    if a.identifier and b.identifier:
        distance = Levenshtein.distance(a.identifier, b.identifier)
        if distance == 0:
            evidence += 6.0
            reasons.append("same identifier")
        elif distance <= 2:
            evidence += 2.0
            reasons.append("identifier one typo apart")
        else:
            evidence -= 4.0
            reasons.append("different identifier")
    # A household shares phone and address but not the given name; when the names agree,
    # shared contact details are worth more.
    same_person_names = (
        a.given and b.given and (giv >= 0.92 or note is not None and "nickname" in note)
    )
    evidence += _household(
        a, b, reasons, HOUSEHOLD_CAP_NAMED if same_person_names else HOUSEHOLD_CAP
    )
    return 1.0 / (1.0 + math.exp(-evidence)), tuple(reasons)


# The prepared records of the current run, inherited by forked scoring workers.
_SHARED: list[Person] = []


def _score_chunk(task: tuple[list[tuple[int, int]], float]) -> list[Match]:
    pairs, min_score = task
    found = []
    for a, b in pairs:
        score, reasons = score_pair(_SHARED[a], _SHARED[b])
        if score >= min_score:
            found.append(Match(a, b, round(score, 4), reasons))
    return found


def find_matches(
    records: Iterable[Mapping[str, Any]],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    workers: int = 1,
    fresh: set[int] | None = None,
    known: Mapping[tuple[int, int], Match] | None = None,
) -> list[Match]:
    """Every pair of records scoring at least `min_score`, best first.

    `workers` > 1 scores in that many forked processes (the command line and the benchmark
    use it; a web server process should not fork, so pages keep the default).

    Given `fresh` (indexes of records new or changed since an earlier run) and `known`
    (that run's matches between the other records, keyed by index pair), only candidate
    pairs touching a fresh record are scored: a score depends on its two records alone,
    so a pair of unchanged records keeps its earlier result, and one absent from `known`
    scored below `min_score` then as now. The result equals a full run.
    """
    global _SHARED
    people = [prepare(i, r) for i, r in enumerate(records)]
    pairs = list(candidate_pairs(people))  # scoring order does not matter: sorted below
    kept: list[Match] = []
    if fresh is not None:
        earlier = known or {}
        kept = [earlier[p] for p in pairs if p in earlier and not (p[0] in fresh or p[1] in fresh)]
        pairs = [p for p in pairs if p[0] in fresh or p[1] in fresh]
    _SHARED = people
    try:
        if workers > 1 and len(pairs) > PARALLEL_MIN_PAIRS:
            import multiprocessing

            size = -(-len(pairs) // (workers * 4))
            tasks = [(pairs[i : i + size], min_score) for i in range(0, len(pairs), size)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                matches = [m for chunk in pool.map(_score_chunk, tasks) for m in chunk]
        else:
            matches = _score_chunk((pairs, min_score))
    finally:
        _SHARED = []
    matches += kept
    matches.sort(key=lambda m: (-m.score, m.left, m.right))
    return matches


def best_matches_for(
    candidate: Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    limit: int = 5,
) -> list[Match]:
    """The records most likely to be the same person as `candidate` (right = its index)."""
    target = prepare(-1, candidate)
    found = []
    for i, record in enumerate(records):
        score, reasons = score_pair(target, prepare(i, record))
        if score >= min_score:
            found.append(Match(-1, i, round(score, 4), reasons))
    found.sort(key=lambda m: -m.score)
    return found[:limit]
