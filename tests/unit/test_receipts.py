"""Receipt codes: enough randomness, easy to type, stored only as a slow salted hash."""

import math
from collections import Counter

import pytest

from db.cases.intake import (
    RECEIPT_ALPHABET,
    RECEIPT_GROUP_SIZE,
    RECEIPT_GROUPS,
    check_receipt,
    generate_receipt,
    hash_receipt,
    normalise_receipt,
)


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


def test_a_receipt_carries_at_least_80_bits_in_five_groups_of_four() -> None:
    code = generate_receipt()
    groups = code.split("-")
    assert len(groups) == RECEIPT_GROUPS
    assert all(len(g) == RECEIPT_GROUP_SIZE for g in groups)
    assert set("".join(groups)) <= set(RECEIPT_ALPHABET)
    bits = RECEIPT_GROUPS * RECEIPT_GROUP_SIZE * math.log2(len(set(RECEIPT_ALPHABET)))
    assert bits >= 80


def test_the_alphabet_has_no_symbols_people_confuse() -> None:
    assert not set(RECEIPT_ALPHABET) & set("0O1I")
    assert len(set(RECEIPT_ALPHABET)) == len(RECEIPT_ALPHABET) == 32


def test_receipts_do_not_repeat_and_use_every_symbol_evenly() -> None:
    codes = [generate_receipt() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    counts = Counter("".join(c.replace("-", "") for c in codes))
    expected = 2000 * 20 / 32
    assert set(counts) == set(RECEIPT_ALPHABET)
    # Chi-square with 31 degrees of freedom; 70 is far beyond the 99.99th percentile.
    chi2 = sum((n - expected) ** 2 / expected for n in counts.values())
    assert chi2 < 70


def test_the_stored_hash_is_salted_scrypt_and_never_contains_the_code() -> None:
    code = generate_receipt()
    first, second = hash_receipt(code), hash_receipt(code)
    assert first.startswith("scrypt$10$8$1$")
    assert first != second, "each hash has its own salt"
    for stored in (first, second):
        assert normalise_receipt(code) not in stored
        assert code not in stored
        assert check_receipt(code, stored)


def test_a_receipt_is_accepted_whatever_its_case_spaces_or_dashes() -> None:
    code = generate_receipt()
    stored = hash_receipt(code)
    assert check_receipt(code.lower().replace("-", " "), stored)
    assert check_receipt(code.replace("-", ""), stored)


def test_a_wrong_or_malformed_receipt_is_refused() -> None:
    stored = hash_receipt(generate_receipt())
    assert not check_receipt(generate_receipt(), stored)
    assert not check_receipt("", stored)
    assert not check_receipt("anything", "not-a-hash")
