"""Chart builders for case insights: rows in, `alt.Chart` out (figures already withheld)."""

from collections.abc import Sequence

import altair as alt
import pandas as pd

from db.cases.insights import Bucket, CategoryFigures, OutcomeCount, VolumeCell


def volume_chart(cells: Sequence[VolumeCell]) -> alt.Chart:
    """Stacked bars of concerns per period by category; withheld cells are left out."""
    frame = pd.DataFrame(
        [{"period": c.period, "category": c.category, "cases": c.count} for c in cells if c.count],
        columns=["period", "category", "cases"],
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:O", title="Received", sort=sorted({c.period for c in cells})),
            y=alt.Y("cases:Q", title="Concerns"),
            color=alt.Color("category:N", title="Category"),
            tooltip=[
                alt.Tooltip("period:O", title="Period"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("cases:Q", title="Concerns"),
            ],
        )
    )
    return chart


def _grouped_bars(
    rows: Sequence[CategoryFigures],
    column: tuple[str, str],
    measures: dict[str, str],
    x: alt.X,
    fmt: str,
) -> alt.Chart:
    """Bars per category, one per measure (label -> CategoryFigures attribute) side by side;
    withheld categories and missing figures are left out. `series` is the measure's column
    and legend title; the value's column is the one `x` plots."""
    series, legend = column
    value = str(x.shorthand).split(":")[0]
    records = [
        {"category": row.category, series: label, value: getattr(row, attr)}
        for row in rows
        if row.cases is not None
        for label, attr in measures.items()
        if getattr(row, attr) is not None
    ]
    frame = pd.DataFrame(records, columns=["category", series, value])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", title="Category"),
            x=x,
            color=alt.Color(f"{series}:N", title=legend),
            yOffset=alt.YOffset(f"{series}:N"),
            tooltip=["category:N", f"{series}:N", alt.Tooltip(f"{value}:Q", format=fmt)],
        )
    )
    return chart


def timing_chart(rows: Sequence[CategoryFigures]) -> alt.Chart:
    """Mean days to acknowledge and to close, per category (withheld categories left out)."""
    measures = {"to acknowledge": "days_to_acknowledge", "to close": "days_to_close"}
    days = alt.X("days:Q", title="Mean days")
    return _grouped_bars(rows, ("measure", "Time"), measures, days, ".1f")


def sla_chart(rows: Sequence[CategoryFigures]) -> alt.Chart:
    """Share of cases acknowledged and answered on time, per category."""
    measures = {
        "acknowledged in time": "acknowledged_on_time",
        "feedback in time": "feedback_on_time",
    }
    share = alt.X(
        "share:Q",
        title="Share on time",
        axis=alt.Axis(format="%"),
        scale=alt.Scale(domain=[0, 1]),
    )
    return _grouped_bars(rows, ("deadline", "Deadline"), measures, share, ".0%")


def backlog_chart(buckets: Sequence[Bucket]) -> alt.Chart:
    """Open concerns by age band."""
    order = [b.age for b in buckets]
    frame = pd.DataFrame(
        [{"age": b.age, "cases": b.count} for b in buckets if b.count is not None],
        columns=["age", "cases"],
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("age:O", title="Age", sort=order),
            y=alt.Y("cases:Q", title="Open concerns"),
            tooltip=["age:O", "cases:Q"],
        )
    )
    return chart


def outcome_chart(rows: Sequence[OutcomeCount]) -> alt.Chart:
    """Closed concerns by outcome."""
    frame = pd.DataFrame(
        [{"outcome": r.outcome, "cases": r.count} for r in rows if r.count is not None],
        columns=["outcome", "cases"],
    )
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("outcome:N", title="Outcome", sort="-x"),
            x=alt.X("cases:Q", title="Closed concerns"),
            tooltip=["outcome:N", "cases:Q"],
        )
    )
    return chart
