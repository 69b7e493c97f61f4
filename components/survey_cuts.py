"""The cut filters of the survey results page: one cut or two together, and what they show."""

from typing import Any

import streamlit as st

from components.surveys_charts import heatmap_chart
from components.text import escape_markdown
from db.surveys.cuts import CUTS, PAIRS, CutView

NOTHING_ELSE = "(no second cut)"


def cut_filters(is_hr: bool) -> tuple[str, str | None]:
    """The cut (or two) the viewer picked: HR any cut, a manager their reporting tree."""
    firsts = list(CUTS) if is_hr else ["manager"]
    left, right = st.columns(2)
    first = left.selectbox("Cut by", firsts, format_func=CUTS.__getitem__, key="cut_first")
    partners = [b for a, b in PAIRS if a == first] + [a for a, b in PAIRS if b == first]
    second = right.selectbox(
        "And by",
        [None, *partners],
        format_func=lambda c: NOTHING_ELSE if c is None else CUTS[c],
        key="cut_second",
    )
    if not is_hr:
        st.caption("You see your own reporting tree: the whole tree and each team within it.")
    return str(first), second


def cut_summary(cut: CutView, first: str, second: str | None, k: int, comment_min: int) -> bool:
    """Explain the view and draw its chart; False when there is nothing to tabulate."""
    if cut.message:
        st.info(f"Cuts are not shown: {escape_markdown(cut.message)}.")
        return False
    if not cut.rows:
        st.info("Nobody answered in any group of this cut.")
        return False
    st.caption(
        f"A cell is blank where it holds fewer than {escape_markdown(str(k))} responses, or "
        "where it is hidden "
        "so that a small group cannot be worked out by subtracting it from other figures "
        "(totals, the department view, another cut). The note says which. Comments are "
        f"counted only for groups of {escape_markdown(str(comment_min))} or more, by the same rule."
    )
    row_name = CUTS[first].lower()
    column_name = CUTS[second].lower() if second else None
    cells: list[dict[str, Any]] = [
        {
            "group": str(r[row_name]),
            "factor": str(r[column_name]) if column_name else "engagement index",
            "favourable": r["engagement index"],
        }
        for r in cut.rows
    ]
    st.vega_lite_chart(spec=heatmap_chart(cells, keep_order=True).to_dict(), width="stretch")
    return True


def cut_items(cut: CutView) -> list[dict[str, object]]:
    """Item scores of the cell the viewer picks among the shown ones."""
    if not cut.items:
        return []
    picked = st.selectbox("Item scores for", list(cut.items), key="cut_cell")
    return cut.items.get(str(picked), [])
