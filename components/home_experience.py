"""Home panels for customers: people waiting for an answer, flagged contacts, and for
managers the team's forecast against target and how quickly the team answers."""

import datetime as dt

import streamlit as st

from components.db import db_session
from components.pipeline_ui import money
from components.text import count_of, escape_markdown
from components.ui import attempt
from db.core.types import utcnow
from db.experience.moments import AffectedContact, flagged_contacts
from db.experience.responsiveness import (
    WAITING_DAYS,
    WAITING_RULE,
    ResponseRow,
    Waiting,
    response_times,
    unanswered_contacts,
    waiting_since,
)
from db.models.auth import Role, User
from db.pipeline.targets import TeamForecast, team_forecast

SHOWN = 5


# Cached for a minute per user and day; the panels read much and Home opens often.
@st.cache_data(ttl=60, show_spinner=False)
def _customers(
    user_id: int | None, today: dt.date, _user: User
) -> tuple[list[Waiting], int, list[AffectedContact], int]:
    with db_session() as session:
        waiting, n_waiting = unanswered_contacts(
            session=session, actor=_user, since=waiting_since(today), limit=SHOWN
        )
        flagged, n_flagged = flagged_contacts(session=session, actor=_user, limit=SHOWN)
    return waiting, n_waiting, flagged, n_flagged


@st.cache_data(ttl=60, show_spinner=False)
def _team(
    user_id: int | None, team: str, today: dt.date, _user: User
) -> tuple[TeamForecast, list[ResponseRow]]:
    with db_session() as session:
        forecast = team_forecast(session=session, team=team, actor=_user, today=today)
        speed = response_times(
            session=session,
            actor=_user,
            since=today - dt.timedelta(days=WAITING_DAYS),
            until=today,
            by="team",
        )
    return forecast, speed


def customers_panel(user: User) -> None:
    """Sales and managers: inbound contacts not answered yet, and flagged contacts."""
    manager = Role.manager in user.roles or Role.admin in user.roles
    st.subheader("Your customers today" if not manager else "Your team's customers today")

    loaded = attempt(lambda: _customers(user.id, utcnow().date(), user))
    if loaded is None:
        return
    waiting, n_waiting, flagged, n_flagged = loaded
    first, second = st.columns(2)
    first.metric(
        f"Unanswered inbound contacts (last {WAITING_DAYS} days)",
        f"{n_waiting:,}",
        help=WAITING_RULE,
    )
    second.metric("Flagged contacts (2+ negative moments in 90 days)", n_flagged)
    now = utcnow()
    with first:
        for row in waiting:
            st.page_link(
                "pages/contact.py",
                label=(
                    f"{escape_markdown(row.name)} · waiting "
                    f"{count_of((now - row.since).days, 'day')} · {escape_markdown(row.owner)}"
                ),
                icon=":material/phone_missed:",
                query_params={"id": str(row.contact_id)},
            )
    with second:
        for hit in flagged:
            st.page_link(
                "pages/contact.py",
                label=f"{escape_markdown(hit.name)} · {hit.moments} negative moments",
                icon=":material/flag:",
                query_params={"id": str(hit.contact_id)},
            )
        if n_waiting > len(waiting):
            st.page_link(
                "pages/experience.py",
                label=f"{len(waiting):,} of {n_waiting:,} — see all",
                icon=":material/phone_missed:",
                query_params={"show": "waiting"},
            )
    if not waiting and not flagged:
        st.info("Nobody is waiting for an answer and no contact is flagged.")
    st.page_link(
        "pages/experience.py",
        label="Open customer experience",
        icon=":material/sentiment_satisfied:",
    )


def team_panel(user: User) -> None:
    """Managers: the team's forecast against its quarter target, and response times."""
    st.subheader("Your team this quarter")
    if not user.team:
        st.info("You lead no team yet; an administrator can set your team.")
        return
    team = user.team

    loaded = attempt(lambda: _team(user.id, team, utcnow().date(), user))
    if loaded is None:
        return
    forecast, speed = loaded
    cols = st.columns(3)
    target = money(forecast.target, forecast.currency, whole=True) if forecast.target else "not set"
    cols[0].metric(f"Target {forecast.year} Q{forecast.quarter}", target)
    cols[1].metric(
        "Won + weighted open",
        money(forecast.forecast, forecast.currency, whole=True),
        delta=f"{forecast.attainment}% of target" if forecast.attainment is not None else None,
        delta_color="off",
    )
    mine = next((r for r in speed if r.group == team), None)
    median = mine.median_business_hours if mine else None
    cols[2].metric(
        f"Median business hours to answer (last {WAITING_DAYS} days)",
        "—" if median is None else f"{median:.1f} h",
    )
    if forecast.target is None:
        st.page_link("pages/forecast.py", label="Set the team's target", icon=":material/flag:")
    else:
        st.page_link("pages/forecast.py", label="Open the forecast", icon=":material/insights:")


def forget_team_figures() -> None:
    """Drop the cached team figures (after a target changes)."""
    _team.clear()
