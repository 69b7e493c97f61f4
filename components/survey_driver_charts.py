"""The driver matrix: impact on engagement against score, split into four quadrants.

Items are points without labels (a label per point overlaps as soon as two items score
alike); each point's tooltip names it, and the table beside the chart lists them all.
"""

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

QUADRANT_COLOURS = {
    "Focus here": "#c62828",
    "Strength": "#2e7d32",
    "Monitor": "#8d6e63",
    "Maintain": "#1565c0",
}
# Where each quadrant's name sits: (x end, y end, horizontal align, vertical baseline).
CORNERS = {
    "Focus here": ("low", "high", "left", "top"),
    "Strength": ("high", "high", "right", "top"),
    "Monitor": ("low", "low", "left", "bottom"),
    "Maintain": ("high", "low", "right", "bottom"),
}


def _span(
    values: Sequence[float], line: float, pad: float, floor: float, ceiling: float
) -> list[float]:
    """An axis domain around the values and the split line, with room for the corner names."""
    low = min([*values, line]) - pad
    high = max([*values, line]) + pad
    return [max(floor, round(low, 2)), min(ceiling, round(high, 2))]


def driver_chart(
    drivers: Sequence[dict[str, Any]], *, median_impact: float, company_favourable: float
) -> alt.LayerChart:
    """Points at (% favourable, impact) coloured by quadrant, the two split lines and
    each quadrant's name in its corner."""
    frame = pd.DataFrame(
        [
            {
                "item": d["code"],
                "question": d["question"],
                "factor": d["factor"],
                "favourable": d["favourable"],
                "impact": d["impact"],
                "quadrant": d["quadrant"],
                "answers": d["n"],
            }
            for d in drivers
            if d["impact"] is not None and d["favourable"] is not None
        ],
        columns=["item", "question", "factor", "favourable", "impact", "quadrant", "answers"],
    )
    x_domain = _span(list(frame["favourable"]), company_favourable, 8.0, 0.0, 100.0)
    y_domain = _span(list(frame["impact"]), median_impact, 0.08, -1.0, 1.0)
    # Every layer carries the same fixed scales: otherwise the union of the layers' own
    # scales starts at zero and squeezes the points into a corner.
    x_scale = alt.Scale(domain=x_domain, zero=False, nice=False)
    y_scale = alt.Scale(domain=y_domain, zero=False, nice=False)
    x = alt.X("favourable:Q", title="Score (% favourable)", scale=x_scale)
    y = alt.Y("impact:Q", title="Impact on engagement (Pearson's r)", scale=y_scale)
    points = (
        alt.Chart(frame)
        .mark_circle(size=140, opacity=0.85, stroke="white", strokeWidth=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "quadrant:N",
                scale=alt.Scale(
                    domain=list(QUADRANT_COLOURS), range=list(QUADRANT_COLOURS.values())
                ),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("item:N", title="Item"),
                alt.Tooltip("question:N", title="Question"),
                alt.Tooltip("factor:N", title="Factor"),
                alt.Tooltip("favourable:Q", title="% favourable", format=".1f"),
                alt.Tooltip("impact:Q", title="Impact (r)", format=".2f"),
                alt.Tooltip("quadrant:N", title="Quadrant"),
                alt.Tooltip("answers:Q", title="Answers"),
            ],
        )
    )
    lines = pd.DataFrame([{"impact": median_impact, "favourable": company_favourable}])
    rule = alt.Chart(lines).mark_rule(strokeDash=[4, 4], color="#616161")
    impact_rule = rule.encode(
        y=alt.Y("impact:Q", scale=y_scale),
        tooltip=[alt.Tooltip("impact:Q", title="Median impact")],
    )
    score_rule = rule.encode(
        x=alt.X("favourable:Q", scale=x_scale),
        tooltip=[alt.Tooltip("favourable:Q", title="Company % favourable")],
    )
    ends = {"low": 0, "high": 1}
    names = pd.DataFrame(
        [
            {
                "quadrant": name,
                "favourable": x_domain[ends[xe]],
                "impact": y_domain[ends[ye]],
                "align": align,
                "baseline": baseline,
            }
            for name, (xe, ye, align, baseline) in CORNERS.items()
        ]
    )
    labels = [
        alt.Chart(names[names["quadrant"] == name])
        .mark_text(
            align=align,  # type: ignore[arg-type]
            baseline=baseline,  # type: ignore[arg-type]
            dx=6 if align == "left" else -6,
            dy=6 if baseline == "top" else -6,
            fontWeight="bold",
            fontSize=13,
            color=QUADRANT_COLOURS[name],
        )
        .encode(
            x=alt.X("favourable:Q", scale=x_scale),
            y=alt.Y("impact:Q", scale=y_scale),
            text=alt.Text("quadrant:N"),
        )
        for name, (_xe, _ye, align, baseline) in CORNERS.items()
    ]
    return alt.layer(impact_rule, score_rule, points, *labels).properties(  # type: ignore[return-value]
        height=420
    )
