"""The duplicate matcher: the cases it must handle, its quality on labelled sets, its cost."""

from datetime import date

import pytest

from db.demo.duplicate_data import ErrorRates, labelled_records, quality, true_pairs
from db.duplicates.matching import (
    DEFAULT_MIN_SCORE,
    candidate_pairs,
    find_matches,
    is_implied,
    prepare,
    score_pair,
)

BASE = {
    "given_name": "Robert",
    "family_name": "Fernández",
    "email": "robert.fernandez@example.org",
    "phone": "+447700900123",
    "date_of_birth": date(1971, 4, 9),
    "postcode": "LS1 4AP",
    "street": "12 High Street",
}


def score(left: dict[str, object], right: dict[str, object]) -> tuple[float, tuple[str, ...]]:
    return score_pair(prepare(0, left), prepare(1, right))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"given_name": "Bob"}, "given name is a nickname"),
        ({"family_name": "Fernádnez"}, "family name"),
        ({"given_name": "Fernandez", "family_name": "Robert"}, "given and family names swapped"),
        ({"phone": "07700 900123", "email": "ROBERT.FERNANDEZ@EXAMPLE.ORG"}, "same phone"),
        ({"date_of_birth": "09/04/1971", "postcode": "ls14ap"}, "same date of birth"),
        ({"email": None, "phone": None, "street": None}, "same date of birth"),
        ({"date_of_birth": "1971-09-04"}, "date of birth with day and month swapped"),
    ],
    ids=["nickname", "transposed", "swapped", "formats", "date-formats", "missing", "day-month"],
)
def test_a_corrupted_copy_still_matches_with_a_reason(
    change: dict[str, object], reason: str
) -> None:
    value, reasons = score(BASE, {**BASE, **change})
    assert value >= DEFAULT_MIN_SCORE
    assert any(r.startswith(reason) for r in reasons), reasons


@pytest.mark.parametrize(
    ("left", "right"),
    [("Cahty", "Catherine"), ("Sephen", "Steve"), ("Padyd", "Patrick"), ("Daev", "David")],
)
def test_a_mistyped_nickname_still_counts_as_the_same_given_name(left: str, right: str) -> None:
    value, reasons = score(
        {**BASE, "given_name": left, "email": None}, {**BASE, "given_name": right, "email": None}
    )
    assert value >= DEFAULT_MIN_SCORE
    assert "given name is a nickname, mistyped" in reasons


def test_an_unknown_name_near_two_different_names_is_not_guessed() -> None:
    from db.duplicates.nicknames import canonical_given_fuzzy

    assert canonical_given_fuzzy("cahty") == "katherine"
    assert canonical_given_fuzzy("zzyzx") == "zzyzx"
    assert canonical_given_fuzzy("bob") == "robert"


def test_a_neighbour_on_the_same_street_is_not_the_same_address() -> None:
    namesake = {"given_name": "Robert", "family_name": "Fernandez", "locality": "Leeds"}
    here = {**namesake, "street": "182 Manor Close"}
    next_door = {**namesake, "street": "196 Manor Close"}
    same_house = {**namesake, "street": "182 Manor Cl"}
    assert not any(r.startswith("street") for r in score(here, next_door)[1])
    assert score(here, next_door)[0] < score(here, same_house)[0]


def test_a_copy_with_mistyped_names_and_no_postcode_is_found_by_its_address() -> None:
    original = {**BASE, "given_name": "Paul", "family_name": "Spah", "email": None}
    original.update(phone=None, date_of_birth=None, street="88 Victoria Ave", locality="Hull")
    copy = {**original, "given_name": "Pul", "family_name": "Shrh", "postcode": None}
    copy["street"] = "88 Victoria Avenue"
    pairs = candidate_pairs([prepare(0, original), prepare(1, copy)])
    assert pairs == {(0, 1)}


def test_a_relative_at_the_same_address_is_not_a_duplicate() -> None:
    sister = {**BASE, "given_name": "Maria", "email": None, "date_of_birth": date(1975, 1, 2)}
    value, reasons = score(BASE, sister)
    assert value < DEFAULT_MIN_SCORE, reasons


def test_namesakes_with_different_dates_of_birth_are_not_duplicates() -> None:
    other = {"given_name": "Robert", "family_name": "Fernandez", "date_of_birth": "1990-01-01"}
    assert score(BASE, other)[0] < DEFAULT_MIN_SCORE


def test_scores_lie_between_zero_and_one_and_matches_come_best_first() -> None:
    records = labelled_records(400, seed=3)
    matches = find_matches(records, min_score=0.0)
    assert all(0.0 <= m.score <= 1.0 for m in matches)
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


@pytest.mark.parametrize(
    ("rates", "floor"),
    [
        (ErrorRates(), {"precision": 0.995, "recall": 0.98, "f1": 0.99}),
        (
            ErrorRates(typo_family=0.1, typo_given=0.1, drop_field=0.15, new_email=0.02),
            {"precision": 0.995, "recall": 0.99, "f1": 0.995},
        ),
    ],
    ids=["harsh", "realistic"],
)
def test_matching_quality_on_a_generated_labelled_set_stays_above_the_floor(
    rates: ErrorRates, floor: dict[str, float]
) -> None:
    records = labelled_records(3000, seed=21, rates=rates)
    truth = true_pairs(records)
    found = {(m.left, m.right) for m in find_matches(records)}
    q = quality(found, truth)
    assert q.precision >= floor["precision"], q
    assert q.recall >= floor["recall"], q
    assert q.f1 >= floor["f1"], q


def test_blocking_keeps_the_number_of_comparisons_close_to_linear() -> None:
    small = [prepare(i, r) for i, r in enumerate(labelled_records(1000, seed=5))]
    large = [prepare(i, r) for i, r in enumerate(labelled_records(8000, seed=5))]
    per_small = len(candidate_pairs(small)) / len(small)
    per_large = len(candidate_pairs(large)) / len(large)
    assert per_large < 2.5 * per_small, (per_small, per_large)
    assert per_large < 15


def test_scoring_in_worker_processes_gives_the_same_pairs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import db.duplicates.matching

    records = labelled_records(600, seed=8)
    alone = find_matches(records)
    monkeypatch.setattr(db.duplicates.matching, "PARALLEL_MIN_PAIRS", 0)
    assert find_matches(records, workers=2) == alone


def test_a_chain_of_sure_matches_reports_the_pair_at_its_ends() -> None:
    first = {**BASE, "phone": None, "street": None}
    # The middle copy shares the email with the first and the date of birth and
    # identifier with the last; the ends share little beyond the name.
    middle = {**first, "identifier": "AB123456", "family_name": "Fernandes"}
    last = {
        **middle,
        "email": None,
        "given_name": "Rob",
        "postcode": None,
        "family_name": "Fernandes",
    }
    found = {(m.left, m.right): m for m in find_matches([first, middle, last])}
    assert {(0, 1), (1, 2), (0, 2)} <= set(found), found
    assert all(not is_implied(m) or m.score >= DEFAULT_MIN_SCORE for m in found.values())


def test_a_shared_rare_surname_is_stronger_evidence_than_a_shared_common_one() -> None:
    import random

    from db.duplicates.matching import Compared, evidence_of, learn_from_records

    letters = random.Random(1)
    made_up = ["".join(letters.choices("abcdefghijklmnop", k=8)) for _ in range(300)]
    records = [{"given_name": "Ann", "family_name": "Smith"} for _ in range(100)]
    records += [{"given_name": "Ann", "family_name": name} for name in made_up]
    model = learn_from_records(records)

    def shared(family: str) -> float:
        levels = (1, 0, 0, 0, 0, 0, 0, 0, 0)
        return evidence_of(Compared(levels=levels, reasons=(), family=family, given=""), model)

    assert shared(made_up[0]) > shared("smith") + 2
    assert shared("lindqvist") == shared(made_up[0])  # unseen names count as rare too


def test_weights_learned_from_unlabelled_records_tell_a_relative_from_a_copy() -> None:
    from bench.corruptions import DEVELOPMENT_SEED, corrupted_records, quality_by_kind

    records = corrupted_records(2000, seed=DEVELOPMENT_SEED)
    found = {(m.left, m.right) for m in find_matches(records)}
    report = quality_by_kind(records, found)
    assert report["all"].precision >= 0.99, report["all"]
    assert report["all"].recall >= 0.99, report["all"]
    assert all(q.recall >= 0.97 for q in report.values()), report
