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

import dataclasses
import math
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations
from typing import Any

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from db.duplicates.model import FIELD_INDEX, FIELDS, Model, fit, prior_model
from db.duplicates.nicknames import canonical_given, canonical_given_fuzzy

DEFAULT_MIN_SCORE = 0.4
WINDOW = 12
# Below this many comparisons, starting worker processes costs more than it saves.
PARALLEL_MIN_PAIRS = 50_000
_FAMILY, _GIVEN, _EMAIL, _PHONE, _DOB, _IDENTIFIER, _POSTCODE, _STREET, _LOCALITY = (
    FIELD_INDEX[f]
    for f in ("family", "given", "email", "phone", "dob", "identifier", "postcode", "street")
    + ("locality",)
)
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


def blocks_of(people: Iterable[Person]) -> dict[str, list[int]]:
    """Each block's members (record indexes, in the order given)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for p in people:
        for key in set(block_keys(p)):
            blocks[key].append(p.index)
    return blocks


def name_order(p: Person) -> str:
    """Where a record stands in a crowded block: family name, then given name (the
    space sorts before every letter a folded name holds, so this orders as the pair)."""
    return f"{p.family} {p.given}"


def block_pairs(ordered: list[int]) -> Iterator[tuple[int, int]]:
    """The pairs one block compares, its members given in name order (ties by index):
    every pair of a small block; in a crowded one (a common surname, a shared
    switchboard number) each member with its neighbours only, which keeps cost linear."""
    if len(ordered) <= WINDOW:
        for a, b in combinations(ordered, 2):
            yield (a, b) if a < b else (b, a)
        return
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 : i + WINDOW]:
            yield (a, b) if a < b else (b, a)


def ordered_members(members: list[int], people: Mapping[int, Person] | list[Person]) -> list[int]:
    """A block's members (in index order) as `block_pairs` takes them."""
    if len(members) <= WINDOW:
        return members
    return sorted(members, key=lambda i: name_order(people[i]))


def candidate_pairs(people: list[Person]) -> set[tuple[int, int]]:
    """Pairs of record indexes that share at least one block (each pair once)."""
    pairs: set[tuple[int, int]] = set()
    for members in blocks_of(people).values():
        if len(members) >= 2:
            pairs.update(block_pairs(ordered_members(members, people)))
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


def _family_level(a: str, b: str, sim: float) -> tuple[int, str | None]:
    if sim >= 0.999:
        return 1, "same family name"
    distance = OSA.distance(a, b)
    if sim >= 0.92 or distance <= 1:
        return 2, f"family name {sim:.2f}"
    if min(len(a), len(b)) >= 5 and distance <= 2:
        # Two typos in a longer name (each copy mistyped once) still point one way.
        return 3, f"family name {sim:.2f}"
    if sim >= 0.85 or distance <= 2:
        return 4, f"family name {sim:.2f}"
    return 5, None


def _given_level(a: str, b: str, sim: float, note: str | None) -> tuple[int, str | None]:
    if sim >= 0.999:
        return 1, "same given name"
    if note == "nickname":
        return 2, "given name is a nickname"
    if note == "nickname with a typo":
        return 3, "given name is a nickname, mistyped"
    if note == "initial":
        return 5, "same initial"
    distance = OSA.distance(a, b)
    if sim >= 0.92 or (min(len(a), len(b)) >= 5 and distance <= 1):
        return 4, f"given name {sim:.2f}"
    if distance <= 1:
        # A short name one typo away (Amy, Aym) is weak evidence either way.
        return 5, f"given name {sim:.2f}"
    if sim >= 0.85:
        return 6, f"given name {sim:.2f}"
    return 7, None


def _dob_level(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, str]:
    if a == b:
        return 1, "same date of birth"
    if (a[0], a[2], a[1]) == b:
        return 2, "date of birth with day and month swapped"
    digits_a = f"{a[0]:04d}{a[1]:02d}{a[2]:02d}"
    digits_b = f"{b[0]:04d}{b[1]:02d}{b[2]:02d}"
    distance = Levenshtein.distance(digits_a, digits_b)
    if distance == 1 or sorted(digits_a) == sorted(digits_b) and distance == 2:
        return 3, "date of birth one typo apart"
    if sum(x == y for x, y in zip(a, b, strict=True)) == 2:
        return 4, "date of birth differs in one part"
    return 5, "different date of birth"


def _street_level(a: str, b: str) -> tuple[int, str | None]:
    street = float(JaroWinkler.normalized_similarity(a, b))
    number_a, number_b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if number_a != number_b and number_a.isdigit() and number_b.isdigit():
        return 4, None  # 182 and 196 Manor Close are neighbours, not one address
    if street >= 0.999:
        return 1, "same street"
    if street >= 0.9:
        return 2, f"street {street:.2f}"
    if street >= 0.7:
        return 3, None
    return 4, None


@dataclass(frozen=True)
class Compared:
    """A pair compared field by field: the level of each field (0: missing on either
    side), the reasons a person reads, and the names that agreed exactly."""

    levels: tuple[int, ...]
    reasons: tuple[str, ...]
    family: str
    given: str


def compare(a: Person, b: Person) -> Compared:
    """Compare two records field by field (see `db.duplicates.model.FIELDS`)."""
    reasons: list[str] = []
    levels = [0] * len(FIELDS)
    fam = _name_sim(a.family, b.family)
    giv, note = _given_sim(a, b, swapped=False)
    swapped = False
    if fam + giv < 1.8 and a.given and b.given:
        # Only a poor straight match is worth trying the other way round.
        swapped_f = _name_sim(a.family, b.given)
        swapped_g, swapped_note = _given_sim(a, b, swapped=True)
        # Both names must agree the other way round: one shared surname alone (a relative
        # whose given name is another's surname) is not a swap.
        if swapped_f + swapped_g > fam + giv + 0.05 and min(swapped_f, swapped_g) >= 0.8:
            swapped, fam, giv, note = True, swapped_f, swapped_g, swapped_note
    if swapped:
        reasons.append("given and family names swapped")
    family_b, given_b = (b.given, b.family) if swapped else (b.family, b.given)
    if a.family and family_b:
        levels[_FAMILY], why = _family_level(a.family, family_b, fam)
        reasons += [why] if why else []
    if a.given and given_b:
        levels[_GIVEN], why = _given_level(a.given, given_b, giv, note)
        reasons += [why] if why else []
    if a.emails and b.emails:
        levels[_EMAIL] = 1 if a.emails & b.emails else 2
        reasons += ["same email"] if levels[_EMAIL] == 1 else []
    if a.dob and b.dob:
        levels[_DOB], why = _dob_level(a.dob, b.dob)
        reasons.append(why)
    if a.identifier and b.identifier:
        distance = Levenshtein.distance(a.identifier, b.identifier)
        levels[_IDENTIFIER] = 1 if distance == 0 else 2 if distance <= 2 else 3
        reasons.append(
            ("same identifier", "identifier one typo apart", "different identifier")[
                levels[_IDENTIFIER] - 1
            ]
        )
    if a.phones and b.phones:
        levels[_PHONE] = 1 if a.phones & b.phones else 2
        reasons += ["same phone"] if levels[_PHONE] == 1 else []
    if a.postcode and b.postcode:
        if a.postcode == b.postcode:
            levels[_POSTCODE] = 1
            reasons.append("same postcode")
        elif Levenshtein.distance(a.postcode, b.postcode) == 1:
            levels[_POSTCODE] = 2
            reasons.append("postcode one typo apart")
        else:
            levels[_POSTCODE] = 3
    if a.street and b.street:
        levels[_STREET], why = _street_level(a.street, b.street)
        reasons += [why] if why else []
    if a.locality and b.locality:
        near = a.locality == b.locality or JaroWinkler.normalized_similarity(a.locality, b.locality)
        levels[_LOCALITY] = 1 if near is True else 2 if float(near) >= 0.9 else 3
    return Compared(
        levels=tuple(levels),
        reasons=tuple(reasons),
        family=a.family if levels[_FAMILY] == 1 else "",
        given=a.given if levels[_GIVEN] == 1 else "",
    )


def evidence_of(compared: Compared, model: Model) -> float:
    """The log-odds that a compared pair is one person, common names weighing less."""
    rarity = 0.0
    if compared.family:
        rarity += model.name_adjustment("family", compared.family)
    if compared.given:
        rarity += model.name_adjustment("given", compared.given)
    return model.evidence(compared.levels, rarity)


def _probability(evidence: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, evidence))))


def score_pair(a: Person, b: Person, model: Model | None = None) -> tuple[float, tuple[str, ...]]:
    """A probability in [0, 1] that a and b are one person, and why (by `model`, or the
    model learned on the demo world's size of table when none is given)."""
    compared = compare(a, b)
    return _probability(evidence_of(compared, model or DEFAULT_MODEL)), compared.reasons


RANDOM_PAIRS = 20_000
DEFAULT_MODEL = prior_model()


@dataclass(frozen=True)
class Levels:
    """Candidate pairs compared: one row of levels per pair, and the names each pair
    shares exactly (empty when not), for the adjustment by how common a name is."""

    rows: np.ndarray
    family: list[str]
    given: list[str]


def _compare_chunk(pairs: list[tuple[int, int]]) -> Levels:
    rows, family, given = [], [], []
    for a, b in pairs:
        compared = compare(_SHARED[a], _SHARED[b])
        rows.append(compared.levels)
        family.append(compared.family)
        given.append(compared.given)
    return Levels(np.array(rows, dtype=np.int64).reshape(-1, len(FIELDS)), family, given)


def compare_all(
    people: Mapping[int, Person] | list[Person], pairs: list[tuple[int, int]], workers: int = 1
) -> Levels:
    """Compare every pair, in `workers` forked processes when there are many."""
    global _SHARED
    _SHARED = people
    try:
        if workers > 1 and len(pairs) > PARALLEL_MIN_PAIRS:
            import multiprocessing

            size = -(-len(pairs) // (workers * 4))
            chunks = [pairs[i : i + size] for i in range(0, len(pairs), size)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_compare_chunk, chunks)
            return Levels(
                np.concatenate([p.rows for p in parts]),
                [name for p in parts for name in p.family],
                [name for p in parts for name in p.given],
            )
        return _compare_chunk(pairs)
    finally:
        _SHARED = []


def learn(people: list[Person], candidates: Levels) -> Model:
    """Learn the evidence's weights from these records and their compared candidates."""
    generator = random.Random(len(people))
    sample: list[tuple[int, int]] = []
    if len(people) >= 2:
        for _ in range(min(RANDOM_PAIRS, len(people) * (len(people) - 1) // 2)):
            a, b = generator.sample(range(len(people)), 2)
            sample.append((a, b))
    names = {
        "family": Counter(p.family for p in people if p.family),
        "given": Counter(p.given for p in people if p.given),
    }
    return fit(candidates.rows, compare_all(people, sample).rows, names)


def learn_from_records(records: Iterable[Mapping[str, Any]]) -> Model:
    """Learn the weights from plain records (as `match_records` would)."""
    people = [prepare(i, r) for i, r in enumerate(records)]
    pairs = sorted(candidate_pairs(people))
    return learn(people, compare_all(people, pairs))


def _scores(levels: Levels, model: Model) -> np.ndarray:
    """The probability that each compared pair is one person."""
    adjust = {
        field: model.frequencies[field]
        and {value: model.name_adjustment(field, value) for value in model.frequencies[field]}
        for field in ("family", "given")
    }
    rarity = np.array(
        [
            adjust["family"].get(f, 0.0) + adjust["given"].get(g, 0.0) if f or g else 0.0
            for f, g in zip(levels.family, levels.given, strict=True)
        ]
    )
    return model.probabilities(levels.rows, rarity)


# The prepared records of the current run, inherited by forked workers.
_SHARED: Mapping[int, Person] | list[Person] = []


def find_matches(
    records: Iterable[Mapping[str, Any]], *, min_score: float = DEFAULT_MIN_SCORE, workers: int = 1
) -> list[Match]:
    """Every pair of records scoring at least `min_score`, best first, by weights learned
    from these records (see `match_records`)."""
    return match_records(records, min_score=min_score, workers=workers).matches


# A chain of matches (A–B, B–C) makes the pair at its ends (A–C) one person too when
# every link is at least this sure and the pair's own evidence does not rule it out
# (its own score at least CHAIN_FLOOR): one weak link never joins two people.
CHAIN_LINK = 0.9
CHAIN_FLOOR = 0.01
# Larger groups are left as pairs: a group that big is more likely a chain of look-alikes.
CHAIN_MAX = 8
CHAIN_REASON = "matches a record this one matches"


def is_implied(match: "Match") -> bool:
    """Whether a match was found through a chain of others rather than on its own."""
    return CHAIN_REASON in match.reasons


def linked_groups(links: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The groups of records that these links join (a chain of links is one group)."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[root(a)] = root(b)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in list(parent):
        groups[root(i)].append(i)
    return list(groups.values())


def complete_chains(
    people: Mapping[int, Person] | list[Person],
    matches: list[Match],
    model: Model,
    min_score: float,
) -> list[Match]:
    """The pairs implied by chains of sure matches (see CHAIN_LINK), not yet in `matches`."""
    groups = linked_groups((m.left, m.right) for m in matches if m.score >= CHAIN_LINK)
    direct = {(m.left, m.right) for m in matches}
    implied = []
    for members in groups:
        if not 3 <= len(members) <= CHAIN_MAX:
            continue
        for a, b in combinations(sorted(members), 2):
            if (a, b) in direct:
                continue
            compared = compare(people[a], people[b])
            score = _probability(evidence_of(compared, model))
            if score >= CHAIN_FLOOR:
                reasons = (*compared.reasons, CHAIN_REASON)
                implied.append(Match(a, b, round(max(score, min_score), 4), reasons))
    return implied


# Told of each step of a run as it begins: its description and the fraction done.
Progress = Callable[[str, float], None]


def _silent(_step: str, _fraction: float) -> None:
    return None


@dataclass(frozen=True)
class MatchRun:
    """The matches of one run, the model that scored them, the crowded blocks' members
    in the order they were compared, and the prepared records."""

    matches: list[Match]
    model: Model
    crowded: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    people: list[Person] = dataclasses.field(default_factory=list)


def match_records(
    records: Iterable[Mapping[str, Any]],
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    workers: int = 1,
    fresh: set[int] | None = None,
    known: Mapping[tuple[int, int], Match] | None = None,
    model: Model | None = None,
    progress: Progress | None = None,
    candidates: Iterable[tuple[int, int]] | None = None,
) -> MatchRun:
    """Every pair of records scoring at least `min_score`, best first, and the model
    that scored them (learned from these records unless one is given).

    `workers` > 1 scores in that many forked processes (the command line and the benchmark
    use it; a web server process should not fork, so pages keep the default).

    `candidates` (index pairs, low first) are the pairs to consider instead of those the
    records' blocks give: a refresh finds them in the stored blocks of changed contacts.

    Given `fresh` (indexes of records new or changed since an earlier run), `known`
    (that run's direct matches between the other records, keyed by index pair) and that
    run's `model`, a candidate pair of two records that are not fresh keeps its result
    from `known`: under one model a score depends on its two records alone. Every other
    candidate is scored, so the result equals a full run with that model over the same
    candidates.

    `progress(step, fraction)` is told of each step as it begins (for a progress bar).
    """
    tell = progress or _silent
    tell("Preparing the contacts", 0.0)
    people = [prepare(i, r) for i, r in enumerate(records)]
    crowded: dict[str, list[int]] = {}
    if candidates is None:
        tell("Finding candidate pairs", 0.15)
        found: set[tuple[int, int]] = set()
        for key, members in blocks_of(people).items():
            if len(members) >= 2:
                ordered = ordered_members(members, people)
                found.update(block_pairs(ordered))
                if len(ordered) > WINDOW:
                    crowded[key] = ordered
        candidates = found
    pairs = sorted(set(candidates))
    kept: list[Match] = []
    if fresh is not None and model is not None:
        earlier = known or {}
        kept = [earlier[p] for p in pairs if p in earlier and not (p[0] in fresh or p[1] in fresh)]
        pairs = [p for p in pairs if p[0] in fresh or p[1] in fresh or p not in earlier]
    tell(f"Comparing {len(pairs):,} candidate pairs", 0.3)
    levels = compare_all(people, pairs, workers)
    if model is None:
        tell("Learning the weights of evidence", 0.75)
        model = learn(people, levels)
    tell("Scoring the pairs and completing chains", 0.9)
    matches = _scored(people, pairs, levels, model, min_score)
    matches += [m for m in kept if not is_implied(m)]
    matches += complete_chains(people, matches, model, min_score)
    matches.sort(key=lambda m: (-m.score, m.left, m.right))
    tell("Done", 1.0)
    return MatchRun(matches=matches, model=model, crowded=crowded, people=people)


def _scored(
    people: Mapping[int, Person] | list[Person],
    pairs: list[tuple[int, int]],
    levels: Levels,
    model: Model,
    min_score: float,
) -> list[Match]:
    """The compared pairs that score at least `min_score` under `model`, with reasons."""
    if not pairs:
        return []
    scores = _scores(levels, model)
    matches = []
    for i in np.flatnonzero(scores >= min_score).tolist():
        a, b = pairs[i]
        reasons = compare(people[a], people[b]).reasons
        matches.append(Match(a, b, round(float(scores[i]), 4), reasons))
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
