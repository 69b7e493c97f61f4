"""The Drivers section of the survey results, and the heatmap's ± columns as people read them."""

from dataclasses import asdict
from typing import Any

import streamlit as st

from components.survey_driver_charts import driver_chart
from components.text import escape_markdown
from components.ui import show_chart
from db.surveys.drivers import FOCUS, STRENGTH, Driver, DriverMatrix

COMPARISONS = ("vs company", "vs previous wave")


def signed(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Heatmap cells with each difference written with its sign (+4.0, −2.5, 0.0)."""
    return [
        {
            **cell,
            **{
                name: ""
                if cell.get(name) is None
                else f"{float(cell[name]):+.1f}".replace("-", "−")
                for name in COMPARISONS
            },
        }
        for cell in cells
    ]


def driver_rows(drivers: list[Driver]) -> list[dict[str, Any]]:
    """The drivers as table rows, highest impact first."""
    return [
        {
            "item": d.code,
            "question": d.question,
            "factor": d.factor,
            "impact (r)": d.impact,
            "% favourable": d.favourable,
            "quadrant": d.quadrant,
            "answers": d.n,
            "note": d.note,
        }
        for d in drivers
    ]


def _listing(title: str, drivers: list[Driver], empty: str, where: Any) -> None:
    where.markdown(f"**{escape_markdown(title)}**")
    if not drivers:
        where.caption(escape_markdown(empty))
    for number, d in enumerate(drivers, start=1):
        where.markdown(
            f"{number}. {escape_markdown(d.question)} — {d.favourable:.0f}% favourable, "
            f"impact {d.impact:.2f}"
        )


def driver_section(matrix: DriverMatrix | None) -> list[dict[str, Any]]:
    """The driver matrix and the top strengths and focus areas; returns the table's rows."""
    if matrix is None:
        return []  # the refusal or outage has been shown already
    label = escape_markdown(matrix.group.label)
    if matrix.note or matrix.company_favourable is None or matrix.median_impact is None:
        st.info(f"No driver matrix for {label}: {escape_markdown(matrix.note)}.")
        return driver_rows(matrix.drivers)
    st.subheader("Driver matrix")
    st.caption(
        "Impact: how strongly each item moves with the engagement index across the "
        f"{matrix.group.n} respondents of {label} (Pearson's r, −1 to 1). Score: % "
        "favourable. The lines split at the median impact "
        f"({matrix.median_impact:.2f}) and the company's % favourable over the same items "
        f"({matrix.company_favourable:.1f}%). Point at an item to see which it is."
    )
    show_chart(
        driver_chart(
            [asdict(d) for d in matrix.drivers],
            median_impact=matrix.median_impact,
            company_favourable=matrix.company_favourable,
        )
    )
    left, right = st.columns(2)
    _listing(
        "Top strengths",
        matrix.strengths,
        f"No item is in “{STRENGTH}”: high impact with a score at or above the company's.",
        left,
    )
    _listing(
        "Top focus areas",
        matrix.focus_areas,
        f"No item is in “{FOCUS}”: high impact with a score below the company's.",
        right,
    )
    return driver_rows(matrix.drivers)
