"""Forecast: weighted pipeline against won revenue, win rates, velocity, conversion,
time in stage and lost reasons — each a chart with its numbers and a CSV download."""

import datetime as dt
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st
from babel.numbers import get_currency_symbol
from sqlmodel import Session

from components import page
from components.db import db_session
from components.home_experience import forget_team_figures
from components.pipeline_charts import bar_chart, forecast_chart
from components.pipeline_ui import money, percent, viewer_locale
from components.text import escape_markdown
from components.ui import Failed, act, attempt, run, show_chart
from db.core.spreadsheets import frame_csv
from db.models.auth import Role
from db.models.pipeline import CURRENCIES, SalesTarget
from db.pipeline.forecast import (
    ForecastFilter,
    ForecastReport,
    forecast_report,
    pipeline_data_version,
    stage_settings_version,
)
from db.pipeline.queries import pipeline_choices
from db.pipeline.targets import list_targets, quarter_of, set_target, target_teams

user = page(__file__)
st.title("Forecast")


def default_period(day: dt.date) -> tuple[dt.date, dt.date]:
    """Eleven whole months back and four ahead: the first month is never a single day."""
    first = day.replace(day=1)
    start_year, start_month = divmod(first.year * 12 + first.month - 1 - 11, 12)
    end_year, end_month = divmod(first.year * 12 + first.month - 1 + 5, 12)
    end = dt.date(end_year, end_month + 1, 1) - dt.timedelta(days=1)
    return dt.date(start_year, start_month + 1, 1), end


choices = run(pipeline_choices, actor=user)
pipelines, owners = ([], []) if isinstance(choices, Failed) else (choices.pipelines, choices.owners)
if not pipelines:
    st.info("No pipelines yet.")
    st.stop()
names = {p.id: p.name for p in pipelines}
currencies = {p.id: p.currency for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
teams = [] if isinstance(choices, Failed) else choices.teams
today = dt.date.today()
cols = st.columns([3, 2, 3, 2, 2])
period = cols[0].date_input("Period", value=default_period(today), key="fc_period")
pipeline_id = cols[2].selectbox(
    "Pipeline", list(names), format_func=lambda i: names[i], key="fc_pipeline"
)
# The pipeline's own currency first: a EUR pipeline read in GBP is all zeros.
pipeline_currency = currencies.get(pipeline_id, "GBP")
currency = cols[1].selectbox(
    "Currency",
    list(CURRENCIES),
    index=list(CURRENCIES).index(pipeline_currency) if pipeline_currency in CURRENCIES else 0,
    key=f"fc_currency_{pipeline_id}",
    help="Amounts are never converted: the figures count the deals in this currency.",
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
    user_id: int | None, fields: tuple[object, ...], version: tuple[object, ...]
) -> ForecastReport:
    """The report for this user and filter, kept in memory until a deal changes."""
    del user_id, fields, version  # the cache key; the filter itself is the page's
    with db_session() as session:
        return forecast_report(session=session, actor=user, flt=flt)


def load() -> ForecastReport:
    with db_session() as session:
        version = (
            *pipeline_data_version(session=session),
            stage_settings_version(session=session),
        )
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
weighted_total = sum((m.weighted for m in report.months), start=Decimal(0))
if (
    not weighted_total
    and not outcome.won_count
    and not outcome.lost_count
    and not outcome.open_count
):
    st.info(
        f"No deals in {escape_markdown(currency)} match: {escape_markdown(names[pipeline_id])} "
        f"counts its deals in {escape_markdown(pipeline_currency)}, and amounts are never "
        "converted. Choose that currency, another pipeline, or a longer period."
        if currency != pipeline_currency
        else "No deals match this period and these filters."
    )
# Amounts get the room of a third of the page each (a fifth cut "£1,065,438" short).
figures = st.columns(3)
figures[0].metric("Weighted pipeline", money(weighted_total, currency, whole=True))
figures[1].metric("Won in period", money(outcome.won_value, currency, whole=True))
figures[2].metric(
    "Sales velocity per day",
    "—" if outcome.velocity is None else money(outcome.velocity, currency, whole=True),
)
ratios = st.columns(3)
ratios[0].metric("Win rate (count)", percent(outcome.win_rate_count))
ratios[1].metric("Win rate (value)", percent(outcome.win_rate_value))
ratios[2].metric(
    "Average cycle (days)",
    "—" if outcome.average_cycle_days is None else f"{outcome.average_cycle_days:.0f}",
)

symbol = get_currency_symbol(currency, locale=viewer_locale())
months = pd.DataFrame(
    [
        {
            "Month": m.month,
            f"Weighted pipeline ({symbol})": float(m.weighted),
            f"Open, unweighted ({symbol})": float(m.open_amount),
            f"Won ({symbol})": float(m.won),
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
    forecast_chart(long, symbol=symbol),
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
        {
            "Figure": "Average cycle (days)",
            "Value": "—" if outcome.average_cycle_days is None else str(outcome.average_cycle_days),
        },
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
    "stages count as passed, and moving back does not undo a stage reached. A stage added "
    "later counts only the deals that moved to it or past it, or were won, after it was added."
)

time_frame = pd.DataFrame(
    [
        {
            "Stage": t.stage,
            "Deals": t.deals,
            "Average days (all visits)": None if t.average_days is None else float(t.average_days),
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
    [
        {"Reason": r.reason, "Deals": r.deals, f"Value ({symbol})": float(r.value)}
        for r in report.lost
    ],
    columns=["Reason", "Deals", f"Value ({symbol})"],
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

    def load_targets(*, session: Session) -> tuple[list[str], list[SalesTarget]]:
        return target_teams(session=session, actor=user), list_targets(session=session, actor=user)

    loaded_targets = run(load_targets)
    target_choices, targets = ([], []) if isinstance(loaded_targets, Failed) else loaded_targets
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
            amount = Decimal(str(target_amount))
            done = (
                f"Target saved for {escape_markdown(target_team or '')}, {int(target_year)} "
                f"Q{escape_markdown(target_quarter)}: "
                f"{escape_markdown(money(amount, target_currency or 'GBP'))}."
            )
            if act(
                set_target,
                done=done,
                rerun=False,
                team=target_team or "",
                year=int(target_year),
                quarter=int(target_quarter or 0),
                amount=amount,
                currency=target_currency or "GBP",
                actor=user,
            ):
                forget_team_figures()
                st.rerun()
    if targets:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Team": t.team,
                        "Quarter": f"{t.year} Q{t.quarter}",
                        "Target": money(t.amount, t.currency),
                    }
                    for t in targets
                ]
            ),
            hide_index=True,
            width="stretch",
        )
