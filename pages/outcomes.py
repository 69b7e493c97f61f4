"""People and outcomes: each team's engagement index beside its customers' outcomes,
for teams the survey's confidentiality threshold lets be shown, and across waves."""

import pandas as pd
import streamlit as st

from components import page
from components.experience_charts import against_company_chart, scatter_chart, trend_chart
from components.text import escape_markdown
from components.ui import Failed, run
from db.experience.outcomes import (
    PIPELINE,
    Correlation,
    TeamOutcomes,
    against_company,
    better,
    closed_surveys,
    company_outcomes,
    correlations,
    in_words,
    outcome_trend,
    people_and_outcomes,
    points,
)

user = page(__file__)
st.title("People and outcomes")
st.caption(
    "Engaged, well-supported teams tend to serve customers well. Here each team's engagement "
    "index sits beside its customers' outcomes over the same period. Only teams that pass "
    "the survey's confidentiality threshold, and that you may see, appear; concern figures "
    "are counts, never content."
)
CAUTION = (
    "A correlation across a handful of teams is weak evidence: with few points one unusual "
    "team can make r large or small, and it never shows what causes what. Read it as a "
    "question to explore with the teams, not as an answer."
)
ONE_TEAM_CAUTION = (
    "One team beside the company over one period is weak evidence: it shows where the team "
    "stands, not why, and says nothing on its own about engagement and outcomes moving "
    "together. Read it as a question to explore with the team, not as an answer."
)


surveys = run(closed_surveys, actor=user)
if isinstance(surveys, Failed):
    st.stop()
if not surveys:
    st.info("No survey has closed yet, so there is no engagement to compare with.")
    st.stop()
titles = {s.id: s.title for s in surveys}
survey_id = st.selectbox(
    "Survey wave", list(titles), format_func=lambda i: titles[i], key="po_survey"
)


class NotLoaded(Exception):
    """A report that failed: its message is shown, and nothing is cached."""


def loaded(found: list[TeamOutcomes] | Failed) -> list[TeamOutcomes]:
    """A report's rows, or NotLoaded so that a failure is not kept in the cache."""
    if isinstance(found, Failed):
        raise NotLoaded
    return found


@st.cache_data(ttl=120, show_spinner=False)
def load_wave(user_id: int | None, chosen: int) -> list[TeamOutcomes]:
    """The chosen wave, as this viewer may see it (cached per viewer)."""
    return loaded(run(people_and_outcomes, survey_id=chosen, actor=user))


@st.cache_data(ttl=120, show_spinner=False)
def load_trend(user_id: int | None, chosen: int) -> list[TeamOutcomes]:
    """Every closed wave of the chosen survey's series (cached per viewer)."""
    return loaded(run(outcome_trend, survey_id=chosen, actor=user))


def _rounded(value: float | None, measure: str = "") -> float | None:
    """One decimal place is as precise as these figures are; money is whole pounds."""
    if value is None:
        return None
    return float(round(value)) if measure == PIPELINE else round(value, 1)


with st.spinner("Reading the survey results and the teams' customer figures…"):
    try:
        rows = load_wave(user.id, survey_id or 0)
    except NotLoaded:
        st.stop()
if not rows:
    st.info(
        "No team you may see passes this survey's confidentiality threshold and has sales "
        "staff, so there is nothing to compare."
    )
    st.stop()
st.caption(
    f"Period compared: {rows[0].start:%d %b %Y} to {rows[0].end:%d %b %Y} "
    "(from the previous wave's close to this wave's close)."
)
measures = [c.outcome for c in correlations(rows)]
st.dataframe(
    pd.DataFrame(
        [
            {
                "Team": r.team,
                "Respondents": r.respondents,
                "Engagement index": r.engagement_index,
                **{m: _rounded(r.outcomes.get(m), m) for m in measures},
            }
            for r in rows
        ]
    ),
    hide_index=True,
    width="stretch",
    # Thousands separated, as people read money and counts; money in whole pounds.
    column_config={m: st.column_config.NumberColumn(format="localized") for m in measures},
)


@st.cache_data(ttl=120, show_spinner=False)
def load_company(user_id: int | None, chosen: int) -> dict[str, float | None]:
    """The company's figures over the chosen wave's period (cached per viewer)."""
    found = run(company_outcomes, survey_id=chosen, actor=user)
    if isinstance(found, Failed):
        raise NotLoaded
    return found


def heading(outcome: str) -> str:
    """Capitalise the first letter only: the unit (GBP) keeps its case."""
    return outcome[:1].upper() + outcome[1:]


def figure(value: float | None, outcome: str) -> str:
    """A figure as the table shows it, thousands separated; a sentence when there is none."""
    if value is None:
        return "none in this period, or withheld"
    return f"{value:,.0f}" if outcome == PIPELINE else f"{value:,.1f}"


def one_team(row: TeamOutcomes) -> None:
    """One team: each outcome as a bar, with the company's figure as a line across it."""
    st.subheader(escape_markdown(f"{row.team} against the company"))
    st.caption(
        escape_markdown(
            f"Engagement index of {row.team}: "
            + (
                f"{row.engagement_index:.1f}% favourable"
                if row.engagement_index is not None
                else "not known"
            )
            + f" ({row.respondents} respondents). The red line is the company: every team's "
            "customers taken together (for service concerns, the average per team)."
        )
    )
    st.warning(ONE_TEAM_CAUTION, icon=":material/info:")
    st.caption(escape_markdown(in_words(Correlation("", 1, None))))
    with st.spinner("Reading the company's customer figures…"):
        try:
            company = load_company(user.id, survey_id or 0)
        except NotLoaded:
            return
    columns = st.columns(2)
    for i, found in enumerate(against_company(row, company)):
        with columns[i % 2]:
            st.markdown(f"**{escape_markdown(heading(found.outcome))}**")
            bars = [{"who": "team", "name": row.team, "value": _rounded(found.team, found.outcome)}]
            if found.company is not None:
                value = _rounded(found.company, found.outcome)
                bars.append({"who": "company", "name": "Company", "value": value})
            st.altair_chart(
                against_company_chart(
                    [b for b in bars if b["value"] is not None],
                    outcome=found.outcome,
                    money=found.outcome == PIPELINE,
                ),
                width="stretch",
            )
            said = [better(found.outcome).capitalize() + "." if better(found.outcome) else ""]
            said.append(
                f"{row.team}: {figure(found.team, found.outcome)}; "
                f"company: {figure(found.company, found.outcome)}."
            )
            st.caption(escape_markdown(" ".join(x for x in said if x)))


def every_team(rows: list[TeamOutcomes]) -> None:
    """Several teams: a scatter per outcome with what its correlation says."""
    st.subheader("Engagement and each outcome")
    st.warning(CAUTION, icon=":material/info:")
    columns = st.columns(2)
    for i, found in enumerate(correlations(rows)):
        with columns[i % 2]:
            st.markdown(f"**{escape_markdown(heading(found.outcome))}**")
            data = points(rows, found.outcome)
            if data:
                st.altair_chart(scatter_chart(data, outcome=found.outcome), width="stretch")
            good = better(found.outcome)
            said = in_words(found) + (f" On this axis, {good}." if good else "")
            st.caption(escape_markdown(said))


if len(rows) == 1:
    one_team(rows[0])
else:
    every_team(rows)

st.subheader("Across survey waves")
st.caption("Did actions from the action plans move both engagement and outcomes?")
# Every wave is a few grouped queries the first time it is read: read them when asked for.
if not st.toggle("Show every wave of this survey", key="po_trend"):
    st.stop()
with st.spinner("Reading every wave's results and the teams' customer figures…"):
    try:
        trend = load_trend(user.id, survey_id or 0)
    except NotLoaded:
        st.stop()
measure = st.selectbox("Measure", ["Engagement index", *measures], key="po_measure")
trend_rows = [
    {
        "wave": r.wave,
        "team": r.team,
        "value": r.engagement_index if measure == "Engagement index" else r.outcomes.get(measure),
    }
    for r in trend
]
trend_rows = [t for t in trend_rows if t["value"] is not None]
if trend_rows:
    st.altair_chart(trend_chart(trend_rows, measure=measure), width="stretch")
st.dataframe(
    pd.DataFrame(
        [
            {
                "Wave": r.wave,
                "Team": r.team,
                "Engagement index": r.engagement_index,
                **{m: _rounded(r.outcomes.get(m), m) for m in measures},
            }
            for r in trend
        ]
    ),
    hide_index=True,
    width="stretch",
    # Thousands separated, as people read money and counts; money in whole pounds.
    column_config={m: st.column_config.NumberColumn(format="localized") for m in measures},
)
