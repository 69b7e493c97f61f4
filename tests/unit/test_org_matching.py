"""Organisation duplicates: legal suffixes, domains and different organisations."""

from db.duplicates.org_matching import find_organisation_matches, name_key, score_organisations


def test_legal_suffixes_and_punctuation_do_not_count() -> None:
    assert name_key("The Kestrel Health Co. Ltd") == name_key("Kestrel Health") == "kestrel health"


def test_the_same_organisation_spelled_differently_is_a_pair() -> None:
    records = [
        {"name": "Kestrel Health Ltd", "domain": "kestrel.example", "postcode": "LS1 4AP"},
        {"name": "Kestrel Heath", "domain": None, "postcode": "ls14ap"},
        {"name": "Kestrel Logistics", "domain": "kestrel-logistics.example", "postcode": None},
        {"name": "Harbour Foods", "domain": "harbour.example"},
        {"name": "HARBOUR FOODS LIMITED", "domain": "harbour.example"},
    ]
    pairs = {(m.left, m.right) for m in find_organisation_matches(records, min_score=0.4)}
    assert pairs == {(0, 1), (3, 4)}


def test_one_domain_with_different_names_still_scores_high() -> None:
    score, reasons = score_organisations(
        {"name": "Acme", "domain": "acme.example"},
        {"name": "Acme Trading", "domain": "acme.example"},
    )
    assert "same domain" in reasons and 0.4 <= score <= 1
