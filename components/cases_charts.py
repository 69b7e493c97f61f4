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


def timing_chart(rows: Sequence[CategoryFigures]) -> alt.Chart:
    """Mean days to acknowledge and to close, per category (withheld categories left out)."""
    records = []
    for row in rows:
        if row.cases is None:
            continue
        if row.days_to_acknowledge is not None:
            records.append(
                {
                    "category": row.category,
                    "measure": "to acknowledge",
                    "days": row.days_to_acknowledge,
                }
            )
        if row.days_to_close is not None:
            records.append(
                {"category": row.category, "measure": "to close", "days": row.days_to_close}
            )
    frame = pd.DataFrame(records, columns=["category", "measure", "days"])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", title="Category"),
            x=alt.X("days:Q", title="Mean days"),
            color=alt.Color("measure:N", title="Time"),
            yOffset=alt.YOffset("measure:N"),
            tooltip=["category:N", "measure:N", alt.Tooltip("days:Q", format=".1f")],
        )
    )
    return chart


def sla_chart(rows: Sequence[CategoryFigures]) -> alt.Chart:
    """Share of cases acknowledged and answered on time, per category."""
    records = []
    for row in rows:
        if row.cases is None:
            continue
        if row.acknowledged_on_time is not None:
            records.append(
                {
                    "category": row.category,
                    "deadline": "acknowledged in time",
                    "share": row.acknowledged_on_time,
                }
            )
        if row.feedback_on_time is not None:
            records.append(
                {
                    "category": row.category,
                    "deadline": "feedback in time",
                    "share": row.feedback_on_time,
                }
            )
    frame = pd.DataFrame(records, columns=["category", "deadline", "share"])
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("category:N", title="Category"),
            x=alt.X(
                "share:Q",
                title="Share on time",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("deadline:N", title="Deadline"),
            yOffset=alt.YOffset("deadline:N"),
            tooltip=["category:N", "deadline:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )
    return chart


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
