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


# Names are written beside a few points only: beside every point, teams with close
# figures print their names over each other. The rest are named by their tooltip.
MOST_LABELS = 4
# Two labelled points closer than this share of each axis's span would collide.
LABEL_GAP = 0.12


def labelled_teams(rows: Sequence[dict[str, Any]], *, most: int = MOST_LABELS) -> set[str]:
    """The teams worth naming on a scatter: the extremes of each axis first, then the
    others in order, skipping any point too close to one already named."""
    points = [r for r in rows if r["engagement"] is not None and r["outcome"] is not None]
    if not points:
        return set()

    def span(key: str) -> float:
        values = [float(r[key]) for r in points]
        return (max(values) - min(values)) or 1.0

    wide, tall = span("engagement"), span("outcome")
    by_outcome = sorted(points, key=lambda r: (float(r["outcome"]), str(r["team"])))
    by_engagement = sorted(points, key=lambda r: (float(r["engagement"]), str(r["team"])))
    order = [by_outcome[-1], by_outcome[0], by_engagement[-1], by_engagement[0], *by_outcome]
    named: list[dict[str, Any]] = []
    for row in order:
        if len(named) >= most:
            break
        if any(
            abs(float(row["engagement"]) - float(o["engagement"])) / wide < LABEL_GAP
            and abs(float(row["outcome"]) - float(o["outcome"])) / tall < LABEL_GAP
            for o in named
        ):
            continue
        named.append(row)
    return {str(r["team"]) for r in named}


def scatter_chart(rows: Sequence[dict[str, Any]], *, outcome: str) -> alt.LayerChart:
    """Engagement index (x) against one outcome (y), a point per team with its tooltip;
    a few points (see `labelled_teams`) carry their team's name, set off from the point.

    `rows`: {"team": str, "engagement": number, "outcome": number}.
    """
    frame = pd.DataFrame(list(rows), columns=["team", "engagement", "outcome"])
    named = sorted(labelled_teams(list(rows)))
    base = alt.Chart(frame).encode(
        x=alt.X(
            "engagement:Q",
            title="Engagement index (% favourable)",
            # Room on both sides, so a name beside the outermost point is not cut off.
            scale=alt.Scale(zero=False, padding=40),
        ),
        y=alt.Y("outcome:Q", title=outcome),
        tooltip=[
            alt.Tooltip("team:N", title="Team"),
            alt.Tooltip("engagement:Q", format=".1f", title="Engagement index"),
            alt.Tooltip("outcome:Q", format=",.1f", title=outcome),
        ],
    )
    labels = base.transform_filter(alt.FieldOneOfPredicate(field="team", oneOf=named))
    chart: alt.LayerChart = base.mark_circle(size=120) + labels.mark_text(
        dx=9, dy=-9, align="left", baseline="bottom"
    ).encode(text=alt.Text("team:N"))
    return chart


def against_company_chart(
    rows: Sequence[dict[str, Any]], *, outcome: str, money: bool = False
) -> alt.LayerChart:
    """One team's figure as a bar with the company's as a red line across it.

    `rows`: {"who": "team" or "company", "name": str, "value": number}; the company row
    may be missing (withheld), and then only the bar is drawn.
    """
    frame = pd.DataFrame(list(rows), columns=["who", "name", "value"])
    # Both marks on the team's row: the company's is a line across the team's bar.
    team = next((r["name"] for r in rows if r["who"] == "team"), "")
    frame["row"] = team
    values = [float(v) for v in frame["value"]] or [0.0]
    # Both figures inside the axis, with room: a line on the plot's edge is not seen.
    low, high = min(0.0, *values), max(0.0, *values)
    room = (high - low) * 0.1 or 1.0
    scale = alt.Scale(domain=[low - room if low < 0 else 0.0, high + room], nice=False)
    number = ",.0f" if money else ",.1f"
    x = alt.X("value:Q", title=outcome, scale=scale, axis=alt.Axis(format=number))
    y = alt.Y("row:N", title=None)
    tooltip = [
        alt.Tooltip("name:N", title=" "),
        alt.Tooltip("value:Q", format=number, title=outcome),
    ]
    bar = (
        alt.Chart()
        .transform_filter(alt.datum.who == "team")
        .mark_bar(size=26)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    rule = (
        alt.Chart()
        .transform_filter(alt.datum.who == "company")
        .mark_tick(color="#d62728", thickness=4, size=44)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    chart: alt.LayerChart = alt.LayerChart(data=frame, layer=[bar, rule]).properties(height=90)
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
