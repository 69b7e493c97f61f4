"""Chart builders for the pipeline area: pure functions from rows to altair charts."""

import json
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd


def forecast_chart(rows: Sequence[dict[str, Any]], *, symbol: str = "") -> alt.Chart:
    """Weighted open pipeline by expected close month beside won revenue by month closed.

    `rows`: {"month": "YYYY-MM", "series": "Weighted pipeline" | "Won", "amount": number};
    `symbol` is the currency's ("£"), put before the axis labels.
    """
    label = f"{json.dumps(symbol)} + format(datum.value, ',')"
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame(list(rows), columns=["month", "series", "amount"]))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month"),
            xOffset=alt.XOffset("series:N"),
            y=alt.Y(
                "amount:Q",
                title=f"Amount ({symbol})" if symbol else "Amount",
                axis=alt.Axis(labelExpr=label),
            ),
            color=alt.Color("series:N", title=None),
            tooltip=[
                alt.Tooltip("month:O"),
                alt.Tooltip("series:N"),
                alt.Tooltip("amount:Q", format=",.2f", title=f"Amount ({symbol})".strip()),
            ],
        )
    )
    return chart


def bar_chart(
    rows: Sequence[dict[str, Any]], *, category: str, value: str, title: str, percent: bool = False
) -> alt.Chart:
    """A horizontal bar per category, in the order given (stages keep their order)."""
    order = [row[category] for row in rows]
    chart: alt.Chart = (
        alt.Chart(pd.DataFrame(list(rows), columns=[category, value]))
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort=order, title=None),
            x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(format="%" if percent else ",")),
            tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q")],
        )
    )
    return chart
