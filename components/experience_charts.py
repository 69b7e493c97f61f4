"""Chart builders for customer experience and people and outcomes: rows in, altair out."""

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd


def response_chart(rows: Sequence[dict[str, Any]], *, basis: str) -> alt.Chart:
    """Median hours to an answer per group. `rows`: {"group": str, "hours": number}."""
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame(list(rows), columns=["group", "hours"]))
        .mark_bar()
        .encode(
            y=alt.Y("group:N", title=None, sort="-x"),
            x=alt.X("hours:Q", title=f"Median {basis} to an answer"),
            tooltip=[alt.Tooltip("group:N"), alt.Tooltip("hours:Q", format=",.1f")],
        )
    )
    return chart


def moments_chart(rows: Sequence[dict[str, Any]]) -> alt.Chart:
    """Negative moments per month, stacked by team. `rows`: {"month", "team", "moments"}."""
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame(list(rows), columns=["month", "team", "moments"]))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month"),
            y=alt.Y("moments:Q", title="Negative moments"),
            color=alt.Color("team:N", title="Team"),
            tooltip=[alt.Tooltip("month:O"), alt.Tooltip("team:N"), alt.Tooltip("moments:Q")],
        )
    )
    return chart


def scatter_chart(rows: Sequence[dict[str, Any]], *, outcome: str) -> alt.LayerChart:
    """Engagement index (x) against one outcome (y), a labelled point per team.

    `rows`: {"team": str, "engagement": number, "outcome": number}.
    """
    frame = pd.DataFrame(list(rows), columns=["team", "engagement", "outcome"])
    base = alt.Chart(frame).encode(
        x=alt.X("engagement:Q", title="Engagement index (% favourable)"),
        y=alt.Y("outcome:Q", title=outcome),
        tooltip=[
            alt.Tooltip("team:N"),
            alt.Tooltip("engagement:Q", format=".1f"),
            alt.Tooltip("outcome:Q", format=",.1f", title=outcome),
        ],
    )
    chart: alt.LayerChart = base.mark_circle(size=120) + base.mark_text(dx=8, align="left").encode(
        text=alt.Text("team:N")
    )
    return chart


def trend_chart(rows: Sequence[dict[str, Any]], *, measure: str) -> alt.Chart:
    """One measure across survey waves, a line per team. `rows`: {"wave", "team", "value"}."""
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame(list(rows), columns=["wave", "team", "value"]))
        .mark_line(point=True)
        .encode(
            x=alt.X("wave:O", title="Survey wave"),
            y=alt.Y("value:Q", title=measure),
            color=alt.Color("team:N", title="Team"),
            tooltip=[alt.Tooltip("wave:O"), alt.Tooltip("team:N"), alt.Tooltip("value:Q")],
        )
    )
    return chart
