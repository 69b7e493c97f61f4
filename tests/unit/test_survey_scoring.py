"""Scoring formulas, the suppression tree (attacked with random org trees) and the charts."""

from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.surveys_charts import factor_chart, heatmap_chart, trend_chart
from db.core.small_groups import COVER
from db.surveys.employees import tenure_band
from db.surveys.privacy import ORG_KEY, build_tree, visible_to_team
from db.surveys.reports import Tally, agreement_scores, enps, pearson


def tally_of(values: list[int]) -> Tally:
    return Tally(
        n=len(values),
        favourable=sum(v >= 4 for v in values),
        neutral=sum(v == 3 for v in values),
        unfavourable=sum(v <= 2 for v in values),
        promoters=sum(v >= 9 for v in values),
        detractors=sum(v <= 6 for v in values),
        total=sum(values),
    )


def test_agreement_scores_match_a_hand_computed_case() -> None:
    # 5, 4, 4, 3, 1: 3 of 5 favourable, 1 neutral, 1 unfavourable, mean 17/5.
    scores = agreement_scores(tally_of([5, 4, 4, 3, 1]))
    assert scores == {"favourable": 60.0, "neutral": 20.0, "unfavourable": 20.0, "mean": 3.4}


def test_enps_is_promoters_minus_detractors_in_points() -> None:
    # 10, 9, 9, 8, 7, 6, 0, 5: 3 promoters, 3 detractors of 8 -> 0; then 4 and 2 of 8 -> 25.
    assert enps(tally_of([10, 9, 9, 8, 7, 6, 0, 5])) == 0.0
    assert enps(tally_of([10, 9, 9, 10, 7, 8, 6, 0])) == 25.0


def test_empty_tallies_score_nothing_rather_than_zero() -> None:
    assert agreement_scores(Tally())["favourable"] is None
    assert enps(Tally()) is None


def test_pearson_from_sums_matches_the_textbook_value() -> None:
    xs, ys = [1, 2, 3, 4, 5], [2, 4, 5, 4, 5]
    sums = (
        len(xs),
        sum(xs),
        sum(ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
        sum(x * x for x in xs),
        sum(y * y for y in ys),
    )
    assert pearson(*sums) == pytest.approx(0.775, abs=0.001)
    assert pearson(3, 3, 6, 6, 3, 14) is None  # x does not vary


def test_tenure_bands_are_coarse() -> None:
    today = date(2026, 1, 1)
    assert tenure_band(date(2025, 6, 1), today) == "under 1 year"
    assert tenure_band(date(2024, 6, 1), today) == "1-2 years"
    assert tenure_band(date(2022, 1, 1), today) == "2-5 years"
    assert tenure_band(date(2010, 1, 1), today) == "5+ years"


def test_a_small_group_is_hidden_and_so_is_the_next_smallest_sibling() -> None:
    groups = {
        g.key: g
        for g in build_tree(
            {("Sales", "North"): 12, ("Sales", "South"): 2, ("Sales", "East"): 6}, 5
        )
    }
    assert groups["d:Sales/t:South"].shown is False
    # Otherwise Sales (20) minus North (12) minus East (6) would give South's 2.
    assert groups["d:Sales/t:East"].shown is False
    assert groups["d:Sales/t:East"].reason == COVER
    assert groups["d:Sales/t:North"].shown is True


def test_a_hidden_department_hides_its_teams_even_when_they_are_large() -> None:
    counts = {("A", "a1"): 3, ("B", "b1"): 6, ("B", "b2"): 6, ("C", "c1"): 40}
    groups = {g.key: g for g in build_tree(counts, 5)}
    assert not groups["d:A"].shown and not groups["d:B"].shown  # B covers A
    assert not groups["d:B/t:b1"].shown and not groups["d:B/t:b2"].shown


def test_below_the_threshold_nothing_is_shown_at_all() -> None:
    groups = build_tree({("A", "a1"): 2, ("B", "b1"): 2}, 5)
    assert not any(g.shown for g in groups)


def test_a_manager_sees_only_groups_of_their_own_team() -> None:
    groups = build_tree({("Sales", "North"): 8, ("Sales", "South"): 9}, 5)
    assert [g.key for g in visible_to_team(groups, "North")] == ["d:Sales/t:North"]


org_trees = st.dictionaries(
    keys=st.tuples(st.sampled_from("ABCDE"), st.sampled_from("uvwxyz")),
    values=st.integers(min_value=1, max_value=14),
    min_size=1,
    max_size=18,
)


@settings(max_examples=400, deadline=None)
@given(counts=org_trees, k=st.integers(min_value=3, max_value=10))
def test_no_combination_of_shown_groups_isolates_fewer_than_k_people(
    counts: dict[tuple[str, str], int], k: int
) -> None:
    # Give every respondent an id, and record which shown groups each one is in.
    people: list[tuple[str, str]] = [cell for cell, n in counts.items() for _ in range(n)]
    groups = build_tree(counts, k)
    shown = [g for g in groups if g.shown]

    def member(person: tuple[str, str], key: str) -> bool:
        department, team = person
        return key in (ORG_KEY, f"d:{department}", f"d:{department}/t:{team}")

    # Any set an attacker can compute by adding and subtracting shown groups (through any
    # filter the report offers) is a union of these signature classes: people who belong
    # to exactly the same shown groups. If every non-empty class has at least k people,
    # no difference of shown results can single out fewer than k.
    signatures = Counter(tuple(member(person, g.key) for g in shown) for person in people)
    for signature, size in signatures.items():
        if any(signature):
            assert size >= k, (signature, size, counts)
    for group in shown:
        assert group.n >= k


def test_the_factor_chart_stacks_sentiment_and_labels_favourable() -> None:
    spec = factor_chart(
        [{"factor": "growth", "favourable": 60.0, "neutral": 30.0, "unfavourable": 10.0}]
    ).to_dict()
    bars, numbers = spec["layer"]
    assert (
        bars["encoding"]["x"]["field"] == "percent"
        and bars["encoding"]["x"]["type"] == "quantitative"
    )
    assert bars["encoding"]["color"]["scale"]["domain"] == ["favourable", "neutral", "unfavourable"]
    assert numbers["mark"]["type"] == "text"
    assert numbers["encoding"]["text"]["field"] == "favourable"


def test_the_heatmap_labels_hidden_cells_as_hidden() -> None:
    chart = heatmap_chart(
        [
            {"group": "Sales", "factor": "growth", "favourable": 71.0, "note": ""},
            {"group": "Payroll", "factor": None, "favourable": None, "note": "fewer than 5"},
        ]
    )
    spec = chart.to_dict()
    assert spec["layer"][0]["encoding"]["color"]["field"] == "favourable"
    values = next(iter(spec["datasets"].values()))
    assert {
        "group": "Payroll",
        "factor": "(all factors)",
        "favourable": None,
        "label": "hidden",
    } in values


def test_a_cut_heatmap_keeps_tenure_bands_in_their_own_order() -> None:
    bands = ["under 1 year", "1-2 years", "5+ years"]
    cells = [{"group": "Leeds", "factor": b, "favourable": 60.0} for b in bands]
    spec = heatmap_chart(cells, keep_order=True).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["sort"] == bands
    assert heatmap_chart(cells).to_dict()["layer"][0]["encoding"]["x"]["sort"] == "ascending"


def test_the_trend_chart_draws_waves_as_ordinal_with_labels() -> None:
    spec = trend_chart(
        [{"wave": 1, "title": "W1", "code": "eng_proud", "favourable": 60.0, "n": 20}]
    ).to_dict()
    assert spec["layer"][0]["encoding"]["x"]["type"] == "ordinal"
    assert spec["layer"][1]["encoding"]["text"]["field"] == "favourable"


def test_the_choice_chart_shows_each_options_share_and_count_per_question() -> None:
    from components.surveys_charts import choice_chart

    rows = [
        {"code": "where", "question": "Where?", "option": "Office", "count": 2, "percent": 40.0},
        {"code": "where", "question": "Where?", "option": "Remote", "count": 3, "percent": 60.0},
    ]
    spec = choice_chart(rows).to_dict()
    assert spec["facet"]["row"]["field"] == "question"
    assert spec["facet"]["row"]["type"] == "nominal"
    bars, numbers = spec["spec"]["layer"]
    assert bars["encoding"]["x"] == {
        "field": "percent",
        "type": "quantitative",
        "title": "% of those who answered",
        "scale": {"domain": [0, 100]},
    }
    assert bars["encoding"]["y"]["field"] == "option" and bars["encoding"]["y"]["type"] == "nominal"
    assert numbers["encoding"]["text"] == {"field": "count", "type": "quantitative"}
    values = next(iter(spec["datasets"].values()))
    assert [(v["option"], v["count"], v["percent"]) for v in values] == [
        ("Office", 2, 40.0),
        ("Remote", 3, 60.0),
    ]
