"""Likely duplicate organisations among plain records: name without legal suffixes, domain."""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from rapidfuzz import fuzz

from db.duplicates.matching import Match, fold, postcode_key

_SUFFIXES = {
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "plc",
    "llc",
    "llp",
    "gmbh",
    "sa",
    "sarl",
    "bv",
    "the",
    "co",
    "company",
    "corp",
    "corporation",
    "group",
    "and",
}


def name_key(name: object) -> str:
    """An organisation's name folded, without legal suffixes: 'The Kestrel Co. Ltd' -> 'kestrel'."""
    words = [fold(w) for w in str(name or "").replace("&", " and ").split()]
    return " ".join(w for w in words if w and w not in _SUFFIXES)


def score_organisations(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, list[str]]:
    """A score in [0, 1] that two organisations are one, and why."""
    evidence = -6.0
    reasons: list[str] = []
    name_a, name_b = name_key(a.get("name")), name_key(b.get("name"))
    similarity = fuzz.token_sort_ratio(name_a, name_b) / 100 if name_a and name_b else 0.0
    words_a, words_b = set(name_a.split()), set(name_b.split())
    if similarity < 0.9 and words_a and words_b and (words_a <= words_b or words_b <= words_a):
        # "Acme" and "Acme Trading": one name is the other with words added.
        similarity = 0.9
    if similarity >= 0.999:
        evidence += 6.5
        reasons.append("same name")
    elif similarity >= 0.9:
        evidence += 4.5
        reasons.append(f"name {similarity:.2f}")
    else:
        evidence -= 3.0
    domain_a, domain_b = a.get("domain"), b.get("domain")
    if domain_a and domain_b:
        if domain_a == domain_b:
            evidence += 6.0
            reasons.append("same domain")
        else:
            evidence -= 3.0
    post_a, post_b = postcode_key(a.get("postcode")), postcode_key(b.get("postcode"))
    if post_a and post_b:
        if post_a == post_b:
            evidence += 1.5
            reasons.append("same postcode")
        else:
            evidence -= 1.0
    if a.get("locality") and fold(a.get("locality")) == fold(b.get("locality")):
        evidence += 0.5
    return 1.0 / (1.0 + math.exp(-evidence)), reasons


def find_organisation_matches(
    records: Iterable[Mapping[str, Any]], *, min_score: float
) -> list[Match]:
    """Pairs of organisations scoring at least `min_score`, best first (blocked by domain
    and by the first word of the name, so the cost stays close to linear)."""
    rows = list(records)
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.get("domain"):
            blocks[f"d:{row['domain']}"].append(i)
        key = name_key(row.get("name"))
        if key:
            blocks[f"n:{key.split()[0][:6]}"].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        # A crowded block is compared by sorted neighbourhood, like contacts.
        ordered = sorted(members, key=lambda i: name_key(rows[i].get("name")))
        width = len(ordered) if len(ordered) <= 50 else 10
        for x, a in enumerate(ordered):
            for b in ordered[x + 1 : x + width]:
                pairs.add((min(a, b), max(a, b)))
    matches = []
    for a, b in pairs:
        score, reasons = score_organisations(rows[a], rows[b])
        if score >= min_score:
            matches.append(Match(a, b, round(score, 4), tuple(reasons)))
    matches.sort(key=lambda m: (-m.score, m.left, m.right))
    return matches
