"""Survey charts: pure functions from report rows to altair charts, numbers beside the marks."""

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

SENTIMENT_ORDER = ["favourable", "neutral", "unfavourable"]
SENTIMENT_COLOURS = ["#2e7d32", "#b0bec5", "#c62828"]


def factor_chart(rows: Sequence[dict[str, Any]], *, label: str = "factor") -> alt.Chart:
    """Stacked % favourable / neutral / unfavourable per factor (or item), with % favourable."""
    long = pd.DataFrame(
        [
            {
                label: row[label],
                "sentiment": s,
                "percent": row[s] or 0.0,
                "order": SENTIMENT_ORDER.index(s),
            }
            for row in rows
            for s in SENTIMENT_ORDER
        ],
        columns=[label, "sentiment", "percent", "order"],
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("percent:Q", title="% of answers", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "sentiment:N",
                scale=alt.Scale(domain=SENTIMENT_ORDER, range=SENTIMENT_COLOURS),
                title=None,
            ),
            order=alt.Order("order:Q"),
            tooltip=[f"{label}:N", "sentiment:N", "percent:Q"],
        )
    )
    favourable = pd.DataFrame(
        [{label: row[label], "favourable": row["favourable"] or 0.0} for row in rows],
        columns=[label, "favourable"],
    )
    numbers = (
        alt.Chart(favourable)
        .mark_text(align="left", dx=4)
        .encode(
            y=alt.Y(f"{label}:N", sort=None),
            x=alt.value(0),
            text=alt.Text("favourable:Q", format=".0f"),
        )
    )
    # A height per row (a step), so every label has room however many rows there are.
    return alt.layer(bars, numbers).properties(height=alt.Step(30))  # type: ignore[return-value]


def heatmap_chart(cells: Sequence[dict[str, Any]], *, keep_order: bool = False) -> alt.Chart:
    """% favourable per factor × group; hidden groups drawn grey and labelled 'hidden'.

    With `keep_order`, rows and columns keep the order of `cells` (tenure bands shortest
    first, say) instead of the alphabet's.
    """
    frame = pd.DataFrame(
        [
            {
                "group": c["group"],
                "factor": c["factor"] or "(all factors)",
                "favourable": c["favourable"],
                "label": "hidden" if c["favourable"] is None else f"{c['favourable']:.0f}",
            }
            for c in cells
        ],
        columns=["group", "factor", "favourable", "label"],
    )
    x_order: Any = list(dict.fromkeys(frame["factor"])) if keep_order else "ascending"
    y_order: Any = list(dict.fromkeys(frame["group"])) if keep_order else "ascending"
    base = alt.Chart(frame).encode(
        x=alt.X("factor:N", title=None, sort=x_order),
        y=alt.Y("group:N", title=None, sort=y_order),
    )
    rects = base.mark_rect().encode(
        color=alt.Color(
            "favourable:Q",
            scale=alt.Scale(scheme="redyellowgreen", domain=[30, 90]),
            title="% favourable",
        ),
        tooltip=["group:N", "factor:N", "favourable:Q"],
    )
    text = base.mark_text().encode(text=alt.Text("label:N"))
    return alt.layer(rects, text)  # type: ignore[return-value]


def trend_chart(rows: Sequence[dict[str, Any]]) -> alt.Chart:
    """% favourable per item code across waves, each point labelled."""
    frame = pd.DataFrame(list(rows), columns=["wave", "title", "code", "favourable", "n"])
    base = alt.Chart(frame).encode(
        x=alt.X("wave:O", title="Wave"),
        y=alt.Y("favourable:Q", title="% favourable", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("code:N", title="Item"),
    )
    lines = base.mark_line(point=True).encode(tooltip=["title:N", "code:N", "favourable:Q", "n:Q"])
    labels = base.mark_text(dy=-10).encode(text=alt.Text("favourable:Q", format=".0f"))
    return alt.layer(lines, labels)  # type: ignore[return-value]


def choice_chart(rows: Sequence[dict[str, Any]]) -> alt.FacetChart:
    """One bar per option of each single-choice question: % of those who answered, with counts."""
    frame = pd.DataFrame(
        [
            {
                "question": row["question"],
                "option": row["option"],
                "percent": row["percent"] or 0.0,
                "count": row["count"],
            }
            for row in rows
        ],
        columns=["question", "option", "percent", "count"],
    )
    base = alt.Chart(frame).encode(
        y=alt.Y("option:N", title=None, sort=None, axis=alt.Axis(labelLimit=240)),
        x=alt.X("percent:Q", title="% of those who answered", scale=alt.Scale(domain=[0, 100])),
    )
    bars = base.mark_bar(color="#1565c0").encode(
        tooltip=["question:N", "option:N", "count:Q", "percent:Q"]
    )
    numbers = base.mark_text(align="left", dx=4).encode(text=alt.Text("count:Q"))
    chart: alt.FacetChart = (
        alt.layer(bars, numbers)
        .properties(height=alt.Step(24))
        .facet(
            row=alt.Row(
                "question:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelLimit=400),
            )
        )
        .resolve_scale(y="independent")
    )
    return chart
