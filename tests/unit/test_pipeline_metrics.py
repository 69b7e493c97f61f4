"""Each pipeline metric formula against cases worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest

from components.pipeline_charts import bar_chart, forecast_chart
from db.pipeline.metrics import (
    FunnelStep,
    average,
    days_in_stage,
    effective_probability,
    fill_months,
    funnel,
    months_between,
    sales_velocity,
    weighted_amount,
    win_rate,
)


@pytest.mark.parametrize(
    ("stage", "override", "expected"),
    [(40, None, 40), (40, 75, 75), (40, 0, 0), (0, None, 0)],
)
def test_a_deals_own_probability_wins_over_its_stage_default(
    stage: int, override: int | None, expected: int
) -> None:
    assert effective_probability(stage, override) == expected


def test_weighted_amount_is_amount_times_probability_to_the_cent() -> None:
    assert weighted_amount(Decimal("10000.00"), 25) == Decimal("2500.00")
    assert weighted_amount(Decimal("333.33"), 33) == Decimal("110.00")  # 109.9989 rounds up
    assert weighted_amount(Decimal("100.00"), 0) == Decimal("0.00")


def test_win_rate_by_count_and_by_value() -> None:
    # 3 won, 1 lost → 75 %; £30k won, £10k lost by value → 75 %; £10k won, £30k lost → 25 %.
    assert win_rate(3, 1) == Decimal("0.7500")
    assert win_rate(Decimal("30000"), Decimal("10000")) == Decimal("0.7500")
    assert win_rate(Decimal("10000"), Decimal("30000")) == Decimal("0.2500")
    assert win_rate(1, 2) == Decimal("0.3333")


def test_win_rate_of_an_empty_period_is_unknown_not_zero() -> None:
    assert win_rate(0, 0) is None
    assert win_rate(0, 4) == Decimal("0")


def test_average_of_nothing_is_unknown() -> None:
    assert average(Decimal("90"), 3) == Decimal("30.00")
    assert average(Decimal("0"), 0) is None


def test_sales_velocity_is_open_deals_times_size_times_rate_over_cycle() -> None:
    # 10 open × £5,000 × 0.5 ÷ 50 days = £500 a day.
    assert sales_velocity(10, Decimal("5000"), Decimal("0.5"), Decimal("50")) == Decimal("500.00")


@pytest.mark.parametrize(
    ("average_won", "rate", "cycle"),
    [
        (None, Decimal("0.5"), Decimal("10")),
        (Decimal("1"), None, Decimal("10")),
        (Decimal("1"), Decimal("0.5"), None),
        (Decimal("1"), Decimal("0.5"), Decimal("0")),
    ],
)
def test_sales_velocity_is_unknown_without_a_closed_history(
    average_won: Decimal | None, rate: Decimal | None, cycle: Decimal | None
) -> None:
    assert sales_velocity(3, average_won, rate, cycle) is None


STAGES = [(1, "Lead"), (2, "Qualified"), (3, "Proposal")]


def test_funnel_counts_a_skipped_stage_as_passed() -> None:
    # Deal A got to Proposal by skipping Qualified; deal B stopped at Lead.
    steps = funnel(STAGES, {3: 1, 1: 1}, won=0)
    assert [(s.stage, s.reached) for s in steps] == [
        ("Lead", 2),
        ("Qualified", 1),
        ("Proposal", 1),
        ("Won", 0),
    ]
    assert steps[0].conversion == Decimal("0.5000")
    assert steps[1].conversion == Decimal("1.0000")
    assert steps[2].conversion == Decimal("0")
    assert steps[3].conversion is None


def test_funnel_does_not_unreach_a_stage_after_a_backward_move() -> None:
    # A deal went Lead → Proposal → back to Qualified: its furthest stage stays Proposal.
    steps = funnel(STAGES, {3: 1}, won=0)
    assert [s.reached for s in steps] == [1, 1, 1, 0]


def test_won_deals_have_passed_every_stage() -> None:
    # Two won (one straight from Lead), one lost at Qualified, one open at Lead.
    steps = funnel(STAGES, {2: 1, 1: 1}, won=2)
    assert [s.reached for s in steps] == [4, 3, 2, 2]
    assert [s.conversion for s in steps] == [
        Decimal("0.7500"),
        Decimal("0.6667"),
        Decimal("1.0000"),
        None,
    ]


def test_funnel_of_an_empty_period_has_no_conversion() -> None:
    steps = funnel(STAGES, {}, won=0)
    assert steps == [
        FunnelStep("Lead", 0, None),
        FunnelStep("Qualified", 0, None),
        FunnelStep("Proposal", 0, None),
        FunnelStep("Won", 0, None),
    ]


def test_days_in_stage_sums_every_visit_per_deal() -> None:
    # Deal 1: 2 days, then back later for 1 more (3 days); deal 2: 5 days → 4 days average.
    assert days_in_stage((2 + 1 + 5) * 86400, 2) == Decimal("4.0")
    assert days_in_stage(0, 0) is None


def test_months_are_listed_and_empty_months_filled_with_zero() -> None:
    months = months_between(date(2025, 11, 20), date(2026, 2, 1))
    assert months == ["2025-11", "2025-12", "2026-01", "2026-02"]
    filled = fill_months(months, {"2025-12": Decimal("5.00")})
    assert filled[0] == ("2025-11", Decimal("0.00"))
    assert filled[1] == ("2025-12", Decimal("5.00"))


def test_the_forecast_chart_groups_bars_by_series_per_month() -> None:
    spec = forecast_chart(
        [
            {"month": "2026-01", "series": "Won", "amount": 10.0},
            {"month": "2026-01", "series": "Weighted pipeline", "amount": 5.0},
        ]
    ).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "month"
    assert spec["encoding"]["x"]["type"] == "ordinal"
    assert spec["encoding"]["y"]["type"] == "quantitative"
    assert spec["encoding"]["color"]["field"] == "series"


def test_a_bar_chart_keeps_stages_in_pipeline_order() -> None:
    rows = [{"stage": "Lead", "deals": 3}, {"stage": "Won", "deals": 1}]
    spec = bar_chart(rows, category="stage", value="deals", title="Deals").to_dict()
    assert spec["encoding"]["y"]["sort"] == ["Lead", "Won"]
    assert spec["encoding"]["x"]["type"] == "quantitative"
    assert spec["encoding"]["y"]["type"] == "nominal"
