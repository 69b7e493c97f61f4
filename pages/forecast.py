"""Forecast: weighted pipeline against won revenue, win rates, velocity, conversion,
time in stage and lost reasons — each a chart with its numbers and a CSV download."""

import datetime as dt
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.home_experience import forget_team_figures
from components.pipeline_charts import bar_chart, forecast_chart
from components.pipeline_ui import money, percent
from components.text import escape_markdown
from components.ui import attempt, show_chart
from db.imports.export import frame_csv
from db.models.auth import Role, User
from db.models.pipeline import CURRENCIES, Pipeline, SalesTarget
from db.pipeline.forecast import (
    ForecastFilter,
    ForecastReport,
    forecast_report,
    pipeline_data_version,
)
from db.pipeline.queries import assignable_owners
from db.pipeline.setup import list_pipelines
from db.pipeline.targets import list_targets, quarter_of, set_target, target_teams

user = page(__file__)
st.title("Forecast")


def load_choices() -> tuple[list[Pipeline], list[User]]:
    with db_session() as session:
        return list_pipelines(session=session, actor=user), assignable_owners(
            session=session, actor=user
        )


pipelines, owners = attempt(load_choices) or ([], [])
if not pipelines:
    st.info("No pipelines yet.")
    st.stop()
names = {p.id: p.name for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
teams = sorted({u.team for u in owners if u.team})
today = dt.date.today()
cols = st.columns(5)
period = cols[0].date_input(
    "Period",
    value=(today.replace(day=1) - dt.timedelta(days=335), today + dt.timedelta(days=120)),
    key="fc_period",
)
currency = cols[1].selectbox("Currency", list(CURRENCIES), key="fc_currency")
pipeline_id = cols[2].selectbox(
    "Pipeline", list(names), format_func=lambda i: names[i], key="fc_pipeline"
)
owner_id = cols[3].selectbox(
    "Owner",
    [0, *owner_names],
    format_func=lambda i: "(everyone)" if not i else owner_names[i],
    key="fc_owner",
)
team = cols[4].selectbox("Team", ["(any)", *teams], key="fc_team")
if not (isinstance(period, tuple) and len(period) == 2):
    st.info("Choose the first and the last day of the period.")
    st.stop()
flt = ForecastFilter(
    since=period[0],
    until=period[1],
    currency=currency,
    pipeline_id=pipeline_id,
    owner_id=owner_id or None,
    team=None if team == "(any)" else team,
)


@st.cache_data(ttl=600, show_spinner=False, max_entries=200)
def _cached_report(
    user_id: int | None, fields: tuple[object, ...], version: tuple[str, int, int]
) -> ForecastReport:
    """The report for this user and filter, kept in memory until a deal changes."""
    del user_id, fields, version  # the cache key; the filter itself is the page's
    with db_session() as session:
        return forecast_report(session=session, actor=user, flt=flt)


def load() -> ForecastReport:
    with db_session() as session:
        version = pipeline_data_version(session=session)
    fields = (flt.since, flt.until, flt.currency, flt.pipeline_id, flt.owner_id, flt.team)
    with st.spinner("Adding up the pipeline…"):
        return _cached_report(user.id, fields, version)


report = attempt(load)
if report is None:
    st.stop()


def section(title: str, frame: pd.DataFrame, chart: alt.Chart | None, key: str) -> None:
    """A chart with its numbers beside it and the numbers as CSV."""
    st.subheader(title)
    left, right = st.columns([3, 2])
    if chart is not None and not frame.empty:
        show_chart(chart, where=left)
    right.dataframe(frame, hide_index=True, width="stretch")
    right.download_button(
        "Download CSV",
        frame_csv(frame).encode("utf-8"),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        icon=":material/download:",
    )


outcome = report.outcome
figures = st.columns(5)
figures[0].metric(
    f"Weighted pipeline ({escape_markdown(currency)})",
    f"{sum((m.weighted for m in report.months), start=Decimal(0)):,.0f}",
)
figures[1].metric(f"Won in period ({escape_markdown(currency)})", f"{outcome.won_value:,.0f}")
figures[2].metric("Win rate (count)", percent(outcome.win_rate_count))
figures[3].metric("Average cycle (days)", f"{outcome.average_cycle_days or 0:.0f}")
figures[4].metric(
    f"Sales velocity ({escape_markdown(currency)}/day)",
    "—" if outcome.velocity is None else f"{outcome.velocity:,.0f}",
)

months = pd.DataFrame(
    [
        {
            "Month": m.month,
            "Weighted pipeline": float(m.weighted),
            "Open (unweighted)": float(m.open_amount),
            "Won": float(m.won),
        }
        for m in report.months
    ]
)
long = [
    {"month": m.month, "series": series, "amount": float(value)}
    for m in report.months
    for series, value in (("Weighted pipeline", m.weighted), ("Won", m.won))
]
section(
    "Weighted pipeline by expected close month, against won revenue",
    months,
    forecast_chart(long),
    "forecast_by_month",
)

rates = pd.DataFrame(
    [
        {"Figure": "Won deals", "Value": str(outcome.won_count)},
        {"Figure": "Lost deals", "Value": str(outcome.lost_count)},
        {"Figure": "Won value", "Value": money(outcome.won_value, currency)},
        {"Figure": "Lost value", "Value": money(outcome.lost_value, currency)},
        {"Figure": "Win rate by count", "Value": percent(outcome.win_rate_count)},
        {"Figure": "Win rate by value", "Value": percent(outcome.win_rate_value)},
        {"Figure": "Average won deal", "Value": money(outcome.average_won, currency)},
        {"Figure": "Average cycle (days)", "Value": str(outcome.average_cycle_days or "—")},
        {"Figure": "Open deals", "Value": str(outcome.open_count)},
        {"Figure": "Sales velocity per day", "Value": money(outcome.velocity, currency)},
    ]
)
rate_rows = [
    {"measure": "By count", "rate": float(outcome.win_rate_count or 0)},
    {"measure": "By value", "rate": float(outcome.win_rate_value or 0)},
]
section(
    "Win rate and sales velocity",
    rates,
    bar_chart(rate_rows, category="measure", value="rate", title="Win rate", percent=True),
    "win_rate",
)

funnel_frame = pd.DataFrame(
    [
        {
            "Stage": s.stage,
            "Deals reached": s.reached,
            "Went on to next": percent(s.conversion),
        }
        for s in report.steps
    ]
)
section(
    "Stage-to-stage conversion (deals created in the period)",
    funnel_frame,
    bar_chart(
        [{"stage": s.stage, "deals": s.reached} for s in report.steps],
        category="stage",
        value="deals",
        title="Deals that reached the stage",
    ),
    "conversion",
)
st.caption(
    "A deal counts as having reached every stage up to the furthest it got to: skipped "
    "stages count as passed, and moving back does not undo a stage reached."
)

time_frame = pd.DataFrame(
    [
        {
            "Stage": t.stage,
            "Deals": t.deals,
            "Average days (all visits)": float(t.average_days or 0),
        }
        for t in report.times
    ]
)
section(
    "Time in stage",
    time_frame,
    bar_chart(
        [{"stage": t.stage, "days": float(t.average_days or 0)} for t in report.times],
        category="stage",
        value="days",
        title="Average days",
    ),
    "time_in_stage",
)

lost_frame = pd.DataFrame(
    [{"Reason": r.reason, "Deals": r.deals, "Value": float(r.value)} for r in report.lost],
    columns=["Reason", "Deals", "Value"],
)
section(
    "Lost reasons",
    lost_frame,
    bar_chart(
        [{"reason": r.reason, "deals": r.deals} for r in report.lost],
        category="reason",
        value="deals",
        title="Deals lost",
    ),
    "lost_reasons",
)

# --- sales targets: managers set their team's, administrators any team's -------------
if user.has_any({Role.admin, Role.manager}):
    st.subheader("Sales targets")

    def load_targets() -> tuple[list[str], list[SalesTarget]]:
        with db_session() as session:
            return target_teams(session=session, actor=user), list_targets(
                session=session, actor=user
            )

    target_choices = (attempt(load_targets) or ([], []))[0]
    if not target_choices:
        st.info("You have no team to set a target for; an administrator can give you one.")
    else:
        this_year, this_quarter = quarter_of(today)
        with st.form("set_target"):
            left, middle, right = st.columns(3)
            target_team = left.selectbox("Team", target_choices, key="tg_team")
            target_year = middle.number_input(
                "Year", min_value=2000, max_value=2100, value=this_year, step=1, key="tg_year"
            )
            target_quarter = right.selectbox(
                "Quarter", [1, 2, 3, 4], index=this_quarter - 1, key="tg_quarter"
            )
            target_amount = left.number_input(
                "Target to win", min_value=0.0, step=1000.0, format="%.2f", key="tg_amount"
            )
            target_currency = middle.selectbox("Currency", list(CURRENCIES), key="tg_currency")
            saved = st.form_submit_button("Save target", icon=":material/flag:")
        if saved:

            def save_target() -> SalesTarget:
                with db_session() as session:
                    return set_target(
                        session=session,
                        team=target_team or "",
                        year=int(target_year),
                        quarter=int(target_quarter or 0),
                        amount=Decimal(str(target_amount)),
                        currency=target_currency or "GBP",
                        actor=user,
                    )

            if attempt(save_target) is not None:
                forget_team_figures()
                st.success(
                    f"Target saved for {escape_markdown(target_team or '')}, "
                    f"{int(target_year)} Q{escape_markdown(target_quarter)}."
                )
    targets = (attempt(load_targets) or ([], []))[1]
    if targets:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Team": t.team,
                        "Quarter": f"{t.year} Q{t.quarter}",
                        "Target": float(t.amount),
                        "Currency": t.currency,
                    }
                    for t in targets
                ]
            ),
            hide_index=True,
            width="stretch",
        )
