"""The weights of the matcher's evidence, learned from the records themselves.

A Fellegi–Sunter model: each field of a pair is compared to one of a few levels
("same", "one typo apart", "different", missing); a level found in a share `m` of true
pairs and `u` of unrelated pairs is worth log(m/u) of evidence. `u` comes from the records
(value frequencies for exact agreement, a sample of random pairs for the other levels); `m`
and the share of candidate pairs that are one person are learned by expectation-
maximisation over the candidate pairs, without labels. What is learned on a large table is
close to the prior below; a small table stays near the prior, which is worth
`PRIOR_PAIRS` pairs of evidence.

Exact agreement on a family or given name is adjusted by how common the name is: a shared
"Smith" is weaker evidence than a shared "Lindqvist".

Pure numpy; it knows nothing of records, only of levels.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Fields in the order the comparison vector holds them, each with its levels (level 0,
# "missing on either side", carries no evidence and is not listed).
FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("family", ("same", "one typo", "two typos", "similar", "different")),
    ("given", ("same", "nickname", "mistyped nickname", "close", "initial", "similar", "other")),
    ("email", ("same", "different")),
    ("phone", ("same", "different")),
    ("dob", ("same", "day and month swapped", "one typo", "one part differs", "different")),
    ("identifier", ("same", "typo", "different")),
    ("postcode", ("same", "one typo", "different")),
    ("street", ("same", "close", "similar", "different")),
    ("locality", ("same", "close", "different")),
)
FIELD_INDEX = {name: i for i, (name, _) in enumerate(FIELDS)}
# Fields whose exact agreement is adjusted by the value's frequency.
FREQUENCY_ADJUSTED = ("family", "given")
# The prior counts as this many pairs' worth of evidence against what the data says.
PRIOR_PAIRS = 400.0
# Laplace-like floor for probabilities, so no level is ever certain.
FLOOR = 1e-6
EM_ROUNDS = 25

# Prior share of each level, per field, in each of three kinds of candidate pair: one
# person (m), one household (a family sharing surname, address and landline: the pairs a
# careless matcher merges) and unrelated people (u). They describe a CRM's contact table:
# most duplicates agree on most fields, most unrelated people disagree.
PRIOR_M: dict[str, tuple[float, ...]] = {
    "family": (0.86, 0.08, 0.02, 0.015, 0.025),
    "given": (0.78, 0.07, 0.02, 0.06, 0.015, 0.01, 0.045),
    "email": (0.85, 0.15),
    "phone": (0.8, 0.2),
    "dob": (0.9, 0.02, 0.05, 0.025, 0.005),
    "identifier": (0.93, 0.05, 0.02),
    "postcode": (0.88, 0.06, 0.06),
    "street": (0.8, 0.12, 0.04, 0.04),
    "locality": (0.9, 0.05, 0.05),
}
PRIOR_HOUSEHOLD: dict[str, tuple[float, ...]] = {
    **PRIOR_M,  # a household shares surname, phone and address as one person's records do
    "given": (0.02, 0.005, 0.005, 0.01, 0.02, 0.02, 0.92),
    "email": (0.03, 0.97),
    "dob": (0.01, 0.001, 0.005, 0.05, 0.934),
    "identifier": (0.001, 0.002, 0.997),
}
PRIOR_U: dict[str, tuple[float, ...]] = {
    "family": (0.004, 0.001, 0.0005, 0.01, 0.9845),
    "given": (0.01, 0.003, 0.001, 0.004, 0.002, 0.02, 0.96),
    "email": (0.0001, 0.9999),
    "phone": (0.0005, 0.9995),
    "dob": (0.0001, 0.00002, 0.0008, 0.01, 0.98908),
    "identifier": (0.00001, 0.0002, 0.99979),
    "postcode": (0.002, 0.01, 0.988),
    "street": (0.0005, 0.002, 0.05, 0.9475),
    "locality": (0.05, 0.01, 0.94),
}
# Prior shares of the three kinds among candidate pairs.
PRIOR_KINDS = (0.003, 0.01, 0.987)
MATCH, HOUSEHOLD_KIND, UNRELATED = 0, 1, 2
SHARED_BY_HOUSEHOLD = frozenset(
    FIELD_INDEX[f] for f in ("family", "phone", "postcode", "street", "locality")
)


@dataclass(frozen=True)
class Model:
    """Learned shares (as logarithms) of each kind of pair, and of each field's levels
    within each kind, plus the exact-agreement frequencies of common names."""

    log_kinds: list[float]
    log_levels: list[list[list[float]]]  # kind → field → level (1-based levels at [l-1])
    frequencies: dict[str, dict[str, float]]
    exact_u: list[float]
    # The share of a name seen fewer than three times (not kept in `frequencies`).
    rare: list[float]

    def evidence(self, levels: Sequence[int], rarity: float = 0.0) -> float:
        """The log-odds that a pair with these levels is one person. `rarity` (the sum of
        `name_adjustment` of the names they share exactly) makes unrelated people less
        likely to share them; a household shares its surname however rare it is."""
        joint = _joint(self.log_kinds, self.log_levels, levels)
        joint[UNRELATED] -= rarity
        return joint[MATCH] - _logsumexp(joint[1:])

    def probabilities(self, levels: np.ndarray, rarity: np.ndarray) -> np.ndarray:
        """`evidence` of many pairs at once (rows of levels), as probabilities."""
        joint = np.tile(np.array(self.log_kinds), (len(levels), 1))
        for kind, fields in enumerate(self.log_levels):
            for f, logs in enumerate(fields):
                joint[:, kind] += np.concatenate(([0.0], logs))[levels[:, f]]
        joint[:, UNRELATED] -= rarity
        others = np.logaddexp(joint[:, HOUSEHOLD_KIND], joint[:, UNRELATED])
        chances: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(joint[:, MATCH] - others, -50, 50)))
        return chances

    def name_adjustment(self, field: str, value: str) -> float:
        """How much more (or less) an exact agreement on `value` is worth than an average
        exact agreement on `field`: a shared rare name is stronger evidence."""
        index = FREQUENCY_ADJUSTED.index(field)
        frequency = self.frequencies[field].get(value, self.rare[index])
        return math.log(self.exact_u[index] / max(frequency, FLOOR))


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _joint(
    log_kinds: Sequence[float],
    log_levels: Sequence[Sequence[Sequence[float]]],
    levels: Sequence[int],
) -> list[float]:
    """log P(kind, levels) for each kind."""
    joint = list(log_kinds)
    for field, level in enumerate(levels):
        if level:
            for kind in range(len(joint)):
                joint[kind] += log_levels[kind][field][level - 1]
    return joint


def _logs(shares: Sequence[float]) -> list[float]:
    return [math.log(max(x, FLOOR)) for x in shares]


def _priors() -> list[list[np.ndarray]]:
    names = [name for name, _ in FIELDS]
    return [
        [np.array(table[n], dtype=float) for n in names]
        for table in (PRIOR_M, PRIOR_HOUSEHOLD, PRIOR_U)
    ]


def _model(
    kinds: Sequence[float],
    shares: Sequence[Sequence[np.ndarray]],
    frequencies: dict[str, dict[str, float]],
    exact_u: list[float],
    rare: list[float],
) -> Model:
    return Model(
        log_kinds=_logs(kinds),
        log_levels=[[_logs(f.tolist()) for f in kind] for kind in shares],
        frequencies=frequencies,
        exact_u=exact_u,
        rare=rare,
    )


def prior_model() -> Model:
    """The model before any data: the prior shares above."""
    return _model(
        PRIOR_KINDS,
        _priors(),
        {f: {} for f in FREQUENCY_ADJUSTED},
        [PRIOR_U[f][0] for f in FREQUENCY_ADJUSTED],
        [PRIOR_U[f][0] for f in FREQUENCY_ADJUSTED],  # no data: every name is average
    )


def _counts(levels: np.ndarray, field: int, size: int, weights: np.ndarray | None) -> np.ndarray:
    """Weighted counts of each non-missing level (1..size) of one field."""
    return np.bincount(levels[:, field], weights=weights, minlength=size + 1)[1 : size + 1]


def fit(
    candidates: np.ndarray,
    random_pairs: np.ndarray,
    name_counts: Mapping[str, Mapping[str, int]],
) -> Model:
    """Learn a model from the comparison levels of the candidate pairs (rows × fields),
    those of a sample of random pairs, and the name counts of the records."""
    sizes = [len(levels) for _, levels in FIELDS]
    prior = _priors()
    # Unrelated people: first from random pairs, drawn towards the prior.
    if len(random_pairs):
        prior[UNRELATED] = [
            (_counts(random_pairs, f, size, None) + PRIOR_PAIRS * prior[UNRELATED][f])
            / (float(_counts(random_pairs, f, size, None).sum()) + PRIOR_PAIRS)
            for f, size in enumerate(sizes)
        ]
    frequencies: dict[str, dict[str, float]] = {}
    exact_u: list[float] = []
    rare: list[float] = []
    for field in FREQUENCY_ADJUSTED:
        counts_of = name_counts.get(field, {})
        n = sum(counts_of.values())
        share = {value: c / n for value, c in counts_of.items()} if n else {}
        agree = sum(s * s for s in share.values())
        enough = n >= 50 and agree > 0
        exact_u.append(agree if enough else PRIOR_U[field][0])
        # Names seen fewer than three times are not kept: each counts as seen twice.
        frequencies[field] = {v: s for v, s in share.items() if counts_of[v] >= 3}
        rare.append(2 / n if enough else PRIOR_U[field][0])
    shares = [[f.copy() for f in kind] for kind in prior]
    kinds = np.array(PRIOR_KINDS, dtype=float)
    rows = len(candidates)
    for _ in range(EM_ROUNDS if rows else 0):
        # Expectation: how likely each candidate pair is of each kind.
        joint = np.tile(np.log(np.maximum(kinds, FLOOR)), (rows, 1))
        for kind, fields in enumerate(shares):
            for f, level_shares in enumerate(fields):
                table = np.concatenate(([0.0], np.log(np.maximum(level_shares, FLOOR))))
                joint[:, kind] += table[candidates[:, f]]
        joint -= joint.max(axis=1, keepdims=True)
        chance = np.exp(joint)
        chance /= chance.sum(axis=1, keepdims=True)
        # Maximisation, each share drawn towards its prior by PRIOR_PAIRS pairs. What a
        # household shares (surname, phone, address) is mistyped as often in one
        # person's two records as in two relatives' records: those fields are learned
        # once for both kinds, so only the personal fields tell a person from a relative.
        for kind in range(len(shares)):
            weight = chance[:, kind]
            for f, size in enumerate(sizes):
                if kind == HOUSEHOLD_KIND and f in SHARED_BY_HOUSEHOLD:
                    continue
                if kind == MATCH and f in SHARED_BY_HOUSEHOLD:
                    weight_f = chance[:, MATCH] + chance[:, HOUSEHOLD_KIND]
                else:
                    weight_f = weight
                counts = _counts(candidates, f, size, weight_f)
                shares[kind][f] = (counts + PRIOR_PAIRS * prior[kind][f]) / (
                    float(counts.sum()) + PRIOR_PAIRS
                )
                if kind == MATCH and f in SHARED_BY_HOUSEHOLD:
                    shares[HOUSEHOLD_KIND][f] = shares[MATCH][f]
        kinds = (chance.sum(axis=0) + PRIOR_PAIRS * np.array(PRIOR_KINDS)) / (rows + PRIOR_PAIRS)
    return _model(kinds.tolist(), shares, frequencies, exact_u, rare)
