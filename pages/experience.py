"""Customer experience: how quickly people get an answer, the moments that went wrong,
and whether we reach people on the channel they chose. Sales see their own contacts,
managers their team's, administrators everyone's."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.experience_charts import moments_chart, response_chart
from components.text import count_of, escape_markdown
from components.ui import attempt, pager
from db.core.types import utcnow
from db.experience.channel_choice import (
    ChoiceShare,
    OffChannel,
    channel_share,
    off_channel_contacts,
)
from db.experience.moments import AffectedContact, MomentMonth, affected_contacts, moments_by_month
from db.experience.responsiveness import (
    CHANNEL_LABELS,
    INBOUND_CHANNELS,
    WAITING_RULE,
    OverdueFollowUp,
    ResponseRow,
    Waiting,
    overdue_follow_ups,
    response_times,
    unanswered_contacts,
    waiting_since,
)
from db.models.auth import Role
from db.models.people import Channel

user = page(__file__)
st.title("Customer experience")
PAGE_SIZE = 20
PERIODS = {"Last 30 days": 30, "Last 90 days": 90, "Last 6 months": 182, "Last year": 365}
if Role.admin in user.roles:
    st.caption("You see every customer.")
elif Role.manager in user.roles:
    st.caption(f"You see the customers of your team ({escape_markdown(user.team or 'none')}).")
else:
    st.caption("You see your own customers.")

period = st.selectbox("Period", list(PERIODS), index=1, key="cx_period")
today = utcnow().date()
since = today - dt.timedelta(days=PERIODS[period])
start = dt.datetime.combine(since, dt.time.min, tzinfo=dt.UTC)
# The end of today, so the cached figures below keep one key for the whole day.
end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
st.caption("Figures are cached for a minute.")


# Cached readers: keyed by the signed-in user's id (their scope) and the filters.
@st.cache_data(ttl=60, show_spinner=False)
def load_speed(user_id: int | None, since: dt.date, until: dt.date, by: str) -> list[ResponseRow]:
    """Response times per group."""
    with db_session() as session:
        return response_times(session=session, actor=user, since=since, until=until, by=by)


@st.cache_data(ttl=60, show_spinner=False)
def load_waiting(
    user_id: int | None, channel: Channel | None, since: dt.datetime, offset: int, limit: int
) -> tuple[list[Waiting], int]:
    """A page of people waiting for an answer."""
    with db_session() as session:
        return unanswered_contacts(
            session=session, actor=user, channel=channel, since=since, offset=offset, limit=limit
        )


@st.cache_data(ttl=60, show_spinner=False)
def load_tasks(
    user_id: int | None, today: dt.date, offset: int, limit: int
) -> tuple[list[OverdueFollowUp], int]:
    """A page of overdue follow-ups."""
    with db_session() as session:
        return overdue_follow_ups(
            session=session, actor=user, today=today, offset=offset, limit=limit
        )


@st.cache_data(ttl=60, show_spinner=False)
def load_months(user_id: int | None, since: dt.datetime, until: dt.datetime) -> list[MomentMonth]:
    """Moments per month, team and kind."""
    with db_session() as session:
        return moments_by_month(session=session, actor=user, since=since, until=until)


@st.cache_data(ttl=60, show_spinner=False)
def load_affected(
    user_id: int | None, since: dt.datetime, until: dt.datetime, offset: int, limit: int
) -> tuple[list[AffectedContact], int]:
    """A page of contacts with negative moments."""
    with db_session() as session:
        return affected_contacts(
            session=session, actor=user, since=since, until=until, offset=offset, limit=limit
        )


@st.cache_data(ttl=60, show_spinner=False)
def load_share(user_id: int | None, since: dt.datetime, until: dt.datetime) -> ChoiceShare:
    """The channel-of-choice share."""
    with db_session() as session:
        return channel_share(session=session, actor=user, since=since, until=until)


@st.cache_data(ttl=60, show_spinner=False)
def load_off(
    user_id: int | None, since: dt.datetime, until: dt.datetime, offset: int, limit: int
) -> tuple[list[OffChannel], int]:
    """A page of people contacted off their chosen channel."""
    with db_session() as session:
        return off_channel_contacts(
            session=session, actor=user, since=since, until=until, offset=offset, limit=limit
        )


def contact_link(contact_id: int, label: str, icon: str = ":material/person:") -> None:
    """A row that opens the contact's timeline."""
    st.page_link("pages/contact.py", label=label, icon=icon, query_params={"id": str(contact_id)})


SECTIONS = (
    "Responsiveness",
    "Calls not returned",
    "Follow-ups overdue",
    "Moments that matter",
    "Channel of choice",
)
# One section at a time (not tabs, which would compute all five on every run).
# Home's "see all" of the people waiting opens that section (?show=waiting).
opened_on = 1 if st.query_params.get("show") == "waiting" else 0
section = st.radio("Show", SECTIONS, index=opened_on, horizontal=True, key="cx_section")

if section == "Responsiveness":
    left, right = st.columns(2)
    by = left.radio("Group by", ["channel", "owner", "team"], horizontal=True, key="cx_by")
    basis = right.radio(
        "Hours",
        ["business hours", "elapsed hours"],
        horizontal=True,
        key="cx_basis",
        help="Business hours leave out Saturdays and Sundays (UTC).",
    )

    with st.spinner("Matching every inbound contact with its answer…"):
        speed = attempt(lambda: load_speed(user.id, since, today, by)) or []
    business = basis == "business hours"
    st.caption(
        f"Shown: median **{escape_markdown(basis)}** from an inbound contact (call, email, chat, "
        "message or "
        "letter) to the next outbound contact with that person on any channel."
    )
    if speed:
        frame = pd.DataFrame(
            [
                {
                    by.capitalize(): r.group,
                    "Inbound": r.inbound,
                    "Answered": r.answered,
                    "Never answered": r.unanswered,
                    f"Median {basis}": r.median_business_hours if business else r.median_hours,
                }
                for r in speed
            ]
        )
        chart_rows = [
            {"group": r.group, "hours": r.median_business_hours if business else r.median_hours}
            for r in speed
            if r.median_hours is not None
        ]
        if chart_rows:
            st.altair_chart(response_chart(chart_rows, basis=basis), width="stretch")
        st.dataframe(frame, hide_index=True, width="stretch")
    else:
        st.info("No inbound contacts in this period.")

if section == "Calls not returned":
    st.caption(
        escape_markdown(WAITING_RULE)
        + " The same list as on Home, whatever the period above; longest waiting first. "
        "Open one to see their timeline."
    )
    choices = ["all", *[c.value for c in INBOUND_CHANNELS]]
    picked = st.selectbox(
        "Channel they used",
        choices,
        format_func=lambda c: "any channel" if c == "all" else CHANNEL_LABELS[c],
        index=0,
        key="cx_wait_channel",
    )
    channel = None if picked == "all" else Channel(picked)
    window = waiting_since(today)

    total = (attempt(lambda: load_waiting(user.id, channel, window, 0, 1)) or ([], 0))[1]
    st.metric("Waiting for an answer", f"{total:,}")
    if total:
        offset = pager(total=total, page_size=PAGE_SIZE, key="cx_wait_page")
        waiting_rows = attempt(lambda: load_waiting(user.id, channel, window, offset, PAGE_SIZE))
        for row in (waiting_rows or ([], 0))[0]:
            days = (utcnow() - row.since).days
            contact_link(
                row.contact_id,
                f"{escape_markdown(row.name)} · waiting {count_of(days, 'day')} · "
                f"{row.waiting} unanswered · owner {escape_markdown(row.owner)}",
                ":material/phone_missed:",
            )
    else:
        st.success("Nobody is waiting for an answer.")

if section == "Follow-ups overdue":
    st.caption("Follow-ups promised to a person (tasks on a contact) that are past due.")

    total = (attempt(lambda: load_tasks(user.id, today, 0, 1)) or ([], 0))[1]
    if total:
        offset = pager(total=total, page_size=PAGE_SIZE, key="cx_task_page")
        for task in (attempt(lambda: load_tasks(user.id, today, offset, PAGE_SIZE)) or ([], 0))[0]:
            contact_link(
                task.contact_id,
                f"{escape_markdown(task.title)} · {escape_markdown(task.contact)} · "
                f"{count_of(task.days_overdue, 'day')} overdue · {escape_markdown(task.owner)}",
                ":material/event_busy:",
            )
    else:
        st.success("No promised follow-up is overdue.")

if section == "Moments that matter":
    st.caption(
        "Interactions marked negative, named concerns about service quality (the fact and "
        "date only, never what was written) and unhappy survey answers where measured."
    )

    with st.spinner("Counting moments…"):
        months = attempt(lambda: load_months(user.id, start, end)) or []
    if months:
        per_team: dict[tuple[str, str], int] = {}
        for m in months:
            per_team[(m.month, m.team)] = per_team.get((m.month, m.team), 0) + m.moments
        st.altair_chart(
            moments_chart(
                [{"month": k[0], "team": k[1], "moments": v} for k, v in per_team.items()]
            ),
            width="stretch",
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Month": m.month,
                        "Team": m.team,
                        "Kind": m.kind,
                        "Moments": m.moments,
                        "Contacts affected": m.contacts,
                    }
                    for m in months
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        st.markdown("**Contacts affected**")

        total = (attempt(lambda: load_affected(user.id, start, end, 0, 1)) or ([], 0))[1]
        offset = pager(total=total, page_size=PAGE_SIZE, key="cx_moment_page") if total else 0
        hits = attempt(lambda: load_affected(user.id, start, end, offset, PAGE_SIZE))
        for hit in (hits or ([], 0))[0]:
            contact_link(
                hit.contact_id,
                f"{escape_markdown(hit.name)} · {hit.moments} moment"
                f"{'s' if hit.moments != 1 else ''} · last {hit.last_at:%d %b %Y} · "
                f"{escape_markdown(hit.team)}",
                ":material/sentiment_dissatisfied:",
            )
    else:
        st.success("No negative moments in this period.")

if section == "Channel of choice":
    share = attempt(lambda: load_share(user.id, start, end))
    if share is not None and share.reached:
        first, second = st.columns(2)
        first.metric("People with a preferred channel we contacted", share.reached)
        second.metric("Reached at least once on their preferred channel", f"{share.share}%")

        st.markdown("**Contacted on a channel they did not choose**")
        total = (attempt(lambda: load_off(user.id, start, end, 0, 1)) or ([], 0))[1]
        offset = pager(total=total, page_size=PAGE_SIZE, key="cx_off_page") if total else 0
        offs = attempt(lambda: load_off(user.id, start, end, offset, PAGE_SIZE))
        for off in (offs or ([], 0))[0]:
            contact_link(
                off.contact_id,
                f"{escape_markdown(off.name)} · prefers {escape_markdown(off.preferred)} · "
                f"{off.off_channel:,} "
                f"contact{'s' if off.off_channel != 1 else ''} on other channels, "
                f"{off.on_preferred:,} on {escape_markdown(off.preferred)}",
                ":material/alt_route:",
            )
    else:
        st.info("Nobody with a preferred channel was contacted in this period.")
