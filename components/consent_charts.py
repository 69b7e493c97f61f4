"""Charts of the consent area (pure: rows in, alt.Chart out)."""

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd


def violations_trend_chart(rows: Sequence[dict[str, Any]]) -> alt.Chart:
    """Marketing violations per month, as bars."""
    frame = pd.DataFrame(list(rows), columns=["month", "violations"])
    chart: alt.Chart = (
        alt.Chart(frame, title="Marketing sent without valid consent, by month")
        .mark_bar()
        .encode(
            x=alt.X("month:T", title="Month", timeUnit="yearmonth"),
            y=alt.Y("violations:Q", title="Violations"),
            tooltip=[
                alt.Tooltip("month:T", title="Month", timeUnit="yearmonth"),
                alt.Tooltip("violations:Q", title="Violations"),
            ],
        )
    )
    return chart
