"""Business hours, Pearson's r and the experience charts, as pure functions."""

from datetime import UTC, datetime

import pytest

from components.experience_charts import (
    moments_chart,
    response_chart,
    scatter_chart,
    trend_chart,
)
from db.experience.outcomes import pearson_r
from db.experience.responsiveness import business_hours, elapsed_hours
from db.pipeline.targets import quarter_bounds, quarter_of


def t(day: int, hour: int = 0) -> datetime:
    """November 2026: the 20th is a Friday, the 21st and 22nd the weekend."""
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (t(20, 9), t(20, 17), 8.0),  # within a Friday
        (t(20, 23), t(23, 1), 2.0),  # Friday night to Monday morning
        (t(21, 10), t(22, 20), 0.0),  # all weekend
        (t(21, 10), t(23, 10), 10.0),  # from Saturday to Monday 10:00
        (t(16, 0), t(23, 0), 120.0),  # a whole week is five days
        (t(23, 5), t(23, 4), 0.0),  # an answer cannot come before the question
    ],
)
def test_business_hours_leave_out_saturdays_and_sundays(
    start: datetime, end: datetime, hours: float
) -> None:
    assert business_hours(start, end) == pytest.approx(hours)


def test_elapsed_hours_count_the_clock() -> None:
    assert elapsed_hours(t(20, 23), t(23, 1)) == pytest.approx(50.0)


def test_pearson_r_matches_a_hand_worked_case_and_refuses_too_few_points() -> None:
    assert pearson_r([(1, 2), (2, 4), (3, 6)]) == 1.0
    assert pearson_r([(1, 3), (2, 2), (3, 1)]) == -1.0
    # x = 1..4, y = 1, 3, 2, 4: r = 0.8
    assert pearson_r([(1, 1), (2, 3), (3, 2), (4, 4)]) == pytest.approx(0.8)
    assert pearson_r([(1, 2), (2, 3)]) is None
    assert pearson_r([(1, 2), (1, 3), (1, 4)]) is None


def test_quarters_start_and_end_where_the_calendar_says() -> None:
    assert quarter_of(t(22).date()) == (2026, 4)
    assert quarter_bounds(2026, 4) == (
        t(1).date().replace(month=10),
        t(1).date().replace(year=2027, month=1),
    )


def test_charts_declare_their_encoding_types() -> None:
    bars = response_chart([{"group": "call", "hours": 3.5}], basis="business hours").to_dict()
    assert bars["encoding"]["x"]["type"] == "quantitative"
    assert bars["encoding"]["y"]["type"] == "nominal"
    stacked = moments_chart([{"month": "2026-10", "team": "North", "moments": 2}]).to_dict()
    assert stacked["encoding"]["color"]["field"] == "team"
    assert stacked["encoding"]["x"]["type"] == "ordinal"
    scatter = scatter_chart(
        [{"team": "North", "engagement": 70.0, "outcome": 12.0}], outcome="win rate (%)"
    ).to_dict()
    layers = scatter["layer"]
    assert layers[0]["mark"]["type"] == "circle"
    assert layers[1]["encoding"]["text"]["field"] == "team"
    assert layers[0]["encoding"]["y"] == {
        "field": "outcome",
        "title": "win rate (%)",
        "type": "quantitative",
    }
    line = trend_chart([{"wave": 1, "team": "North", "value": 60.0}], measure="x").to_dict()
    assert line["encoding"]["x"]["type"] == "ordinal"


def test_a_correlation_across_three_teams_gives_its_direction_but_no_size() -> None:
    from db.experience.outcomes import RESPONSE, Correlation, better, in_words

    few = in_words(Correlation("win rate (%)", 3, 0.987))
    assert "too few teams to say how strongly" in few and "0.9" not in few
    assert "more of this" in few
    many = in_words(Correlation("win rate (%)", 9, -0.412))
    assert "r = -0.41" in many and "less of this" in many
    assert better(RESPONSE) == "lower is better"
