"""Case insight charts: typed encodings, and withheld figures never plotted."""

from components.cases_charts import (
    backlog_chart,
    outcome_chart,
    sla_chart,
    timing_chart,
    volume_chart,
)
from db.cases.insights import FEWER, Bucket, CategoryFigures, OutcomeCount, VolumeCell


def test_the_volume_chart_stacks_months_by_category_and_leaves_out_withheld_cells() -> None:
    chart = volume_chart(
        [
            VolumeCell("2026-01", "Bullying or harassment", 4, "4"),
            VolumeCell("2026-01", "Misconduct", None, FEWER),
        ]
    ).to_dict()
    assert chart["mark"]["type"] == "bar"
    assert chart["encoding"]["x"]["type"] == "ordinal"
    assert chart["encoding"]["y"]["field"] == "cases"
    assert chart["encoding"]["color"]["type"] == "nominal"
    rows = next(iter(chart["datasets"].values()))
    assert rows == [{"period": "2026-01", "category": "Bullying or harassment", "cases": 4}]


def figures() -> list[CategoryFigures]:
    return [
        CategoryFigures("Safeguarding", 5, "5", 2.5, 40.0, 0.8, 0.6),
        CategoryFigures("Other", None, FEWER, None, None, None, None),
    ]


def test_timing_and_sla_charts_plot_only_categories_with_three_or_more_cases() -> None:
    timing = timing_chart(figures()).to_dict()
    assert timing["encoding"]["x"]["type"] == "quantitative"
    rows = next(iter(timing["datasets"].values()))
    assert {r["category"] for r in rows} == {"Safeguarding"}
    assert {r["measure"] for r in rows} == {"to acknowledge", "to close"}
    sla = sla_chart(figures()).to_dict()
    assert sla["encoding"]["x"]["axis"]["format"] == "%"
    assert [r["share"] for r in next(iter(sla["datasets"].values()))] == [0.8, 0.6]


def test_backlog_keeps_age_bands_in_order_and_outcomes_skip_withheld_rows() -> None:
    buckets = [Bucket("under 7 days", 4, "4"), Bucket("7–30 days", None, FEWER)]
    backlog = backlog_chart(buckets).to_dict()
    assert backlog["encoding"]["x"]["type"] == "ordinal"
    assert backlog["encoding"]["x"]["sort"] == ["under 7 days", "7–30 days"]
    outcome = outcome_chart(
        [OutcomeCount("Substantiated", 3, "3"), OutcomeCount("Withdrawn", None, FEWER)]
    ).to_dict()
    assert [r["outcome"] for r in next(iter(outcome["datasets"].values()))] == ["Substantiated"]
