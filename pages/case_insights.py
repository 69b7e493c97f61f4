"""Case insights: volumes, times, deadlines met, backlog and outcomes; aggregates only."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.cases_charts import (
    backlog_chart,
    outcome_chart,
    sla_chart,
    timing_chart,
    volume_chart,
)
from components.db import db_session
from components.text import escape_markdown
from components.ui import Failed, run, show_chart
from db.cases.insights import (
    THRESHOLD_NOTE,
    Bucket,
    CategoryFigures,
    OutcomeCount,
    VolumeCell,
    cases_data_version,
    insights_report,
    released_until,
    window_start,
)
from db.core.types import utcnow

user = page(__file__)
st.title("Case insights")
released = released_until(utcnow())
st.caption(
    f"Counts and times only, never case content. {THRESHOLD_NOTE} Figures are released "
    f"once a month: they cover concerns received before {released:%-d %B %Y}, and what "
    "had happened to them by then, so a new concern does not move them until the next "
    "release."
)

PERIODS = {"Last 12 months": 12, "Last 2 years": 24, "Last 5 years": 60}
left, right = st.columns(2)
choice = left.radio(
    "Period",
    list(PERIODS),
    index=2,
    horizontal=True,
    key="insights_period",
    help="Each period starts on 1 January of the year it reaches back into, so that it is "
    "made of whole years and the periods cannot be subtracted from one another.",
)
granularity = right.radio(
    "Group volumes by",
    ["month", "quarter", "year"],
    index=2,
    horizontal=True,
    key="insights_granularity",
    help="Longer periods group more cases together, so fewer figures need withholding.",
)
Loaded = tuple[list[VolumeCell], list[CategoryFigures], list[Bucket], list[OutcomeCount]]


@st.cache_data(ttl=300, show_spinner=False, max_entries=50)
def _cached(user_id: int | None, months: int, granularity: str, version: str) -> Loaded:
    """The figures, kept in memory until a case changes (`version`) or five minutes pass."""
    del user_id, version  # part of the cache key only
    with db_session() as session:
        return insights_report(session=session, actor=user, months=months, granularity=granularity)


def load(*, session: Session) -> Loaded:
    version = f"{released:%Y-%m}:{cases_data_version(session=session)}"
    with st.spinner("Counting cases…"):
        return _cached(user.id, PERIODS[choice or "Last 12 months"], granularity or "year", version)


loaded = run(load)
if isinstance(loaded, Failed):
    st.stop()
cells, figures, buckets, results = loaded
since = window_start(released, PERIODS[choice or "Last 12 months"])

st.subheader(f"Concerns received by {escape_markdown(granularity)} and category")
st.caption(f"From {since:%-d %B %Y} to {released:%-d %B %Y}.")
show_chart(volume_chart(cells))
whole = sorted({c.category for c in cells} - {c.category for c in cells if c.count is not None})
withheld = sorted(
    {f"{c.period} · {c.category}" for c in cells if c.count is None and c.category not in whole}
)
if whole or withheld:
    with st.expander(f"Withheld: {len(whole)} categories, {len(withheld)} cells"):
        rows = [f"{category} · every {granularity}" for category in whole] + withheld
        st.dataframe(pd.DataFrame({"Period · category": rows}), hide_index=True)

st.subheader("By category")
st.dataframe(
    pd.DataFrame(
        [
            {
                "Category": f.category,
                "Concerns": f.shown,
                "Mean days to acknowledge": f.days_to_acknowledge,
                "Mean days to close": f.days_to_close,
                "Acknowledged in time": f.acknowledged_on_time,
                "Feedback in time": f.feedback_on_time,
            }
            for f in figures
        ]
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "Acknowledged in time": st.column_config.NumberColumn(format="percent"),
        "Feedback in time": st.column_config.NumberColumn(format="percent"),
    },
)
left, right = st.columns(2)
with left:
    st.markdown("**Time to acknowledge and to close**")
    show_chart(timing_chart(figures))
with right:
    st.markdown("**Deadlines met**")
    show_chart(sla_chart(figures))

left, right = st.columns(2)
with left:
    st.subheader("Open backlog by age")
    show_chart(backlog_chart(buckets))
    st.caption(" · ".join(f"{escape_markdown(b.age)}: {escape_markdown(b.shown)}" for b in buckets))
with right:
    st.subheader("Outcomes")
    show_chart(outcome_chart(results))
    st.caption(
        " · ".join(f"{escape_markdown(r.outcome)}: {escape_markdown(r.shown)}" for r in results)
    )
