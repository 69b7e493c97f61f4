"""Case insights: volumes, times, deadlines met, backlog and outcomes; aggregates only."""

import pandas as pd
import streamlit as st

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
from components.ui import attempt, show_chart
from db.case_insights import (
    FEWER,
    Bucket,
    CategoryFigures,
    OutcomeCount,
    VolumeCell,
    cases_data_version,
    insights_report,
)
from db.models.auth import Role

user = page("Case insights", roles={Role.reviewer, Role.manager}, icon=":material/insights:")
st.title("Case insights")
st.caption(
    f"Counts and times only, never case content. Any figure drawn from fewer than 3 cases "
    f'is withheld and shown as "{FEWER}", so small groups cannot point to a person.'
)

PERIODS = {"Last 12 months": 12, "Last 2 years": 24, "Last 5 years": 60}
left, right = st.columns(2)
choice = left.radio("Period", list(PERIODS), index=2, horizontal=True, key="insights_period")
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


def load() -> Loaded:
    with db_session() as session:
        version = cases_data_version(session=session)
    with st.spinner("Counting cases…"):
        return _cached(user.id, PERIODS[choice or "Last 12 months"], granularity or "year", version)


loaded = attempt(load)
if loaded is None:
    st.stop()
cells, figures, buckets, results = loaded

st.subheader(f"Concerns received by {escape_markdown(granularity)} and category")
show_chart(volume_chart(cells))
withheld = sorted({f"{c.period} · {c.category}" for c in cells if c.count is None})
if withheld:
    with st.expander(
        f"{len(withheld)} {escape_markdown(granularity)} and category cells with {FEWER} cases"
    ):
        st.dataframe(pd.DataFrame({"Period · category": withheld}), hide_index=True)

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
