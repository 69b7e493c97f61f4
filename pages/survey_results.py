"""Survey results: only groups large enough to stay anonymous, for HR and team managers."""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.surveys_charts import choice_chart, factor_chart, heatmap_chart, trend_chart
from components.text import escape_markdown
from components.ui import attempt
from db.imports.export import frame_csv
from db.models.auth import Role
from db.models.surveys import ActionPlan, ActionPlanCreate, ActionStatus, Survey, SurveyStatus
from db.surveys.actions import (
    ACTIONS_MAX,
    FOCUS_MAX,
    OWNER_MAX,
    create_action,
    list_actions,
    set_action_status,
)
from db.surveys.builder import list_surveys
from db.surveys.choices import ChoiceResult, choice_results, choice_rows
from db.surveys.privacy import Group
from db.surveys.reports import (
    WHILE_OPEN,
    GroupResult,
    comments,
    drivers,
    groups,
    heatmap,
    participation,
    results,
    results_released,
    trend,
)
from db.surveys.tallies import uses_tallies
from db.surveys.voice import is_contact_survey

user = page(__file__)
st.title("Survey results")
is_hr = Role.hr in user.roles


def load_surveys() -> list[Survey]:
    with db_session() as session:
        return list_surveys(session=session, actor=user)


surveys = [s for s in attempt(load_surveys) or [] if s.status != SurveyStatus.draft.value]
if not surveys:
    st.info("No survey has been opened yet.")
    st.stop()
by_id = {s.id: s for s in surveys}
chosen = st.selectbox(
    "Survey",
    list(by_id),
    format_func=lambda i: f"{by_id[i].title} ({by_id[i].status})",
    key="results_survey",
)
survey = by_id[chosen]
survey_id = int(chosen or 0)
contact_survey = is_contact_survey(survey)
T = TypeVar("T")


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(name: str, key: tuple[object, ...], _read: Callable[[], Any]) -> Any:
    """A report of closed surveys: their results change only with their version."""
    return _read()


def read(name: str, fn: Callable[[], T], *, group: str = "", series: bool = False) -> T | None:
    """Run a report reader, from the cache when every survey it reads is closed and tallied."""
    waves = [s for s in surveys if s.series_id == survey.series_id] if series else [survey]
    if not all(uses_tallies(w) for w in waves):
        return attempt(fn)
    key = (
        tuple((w.id, w.version) for w in waves),
        group,
        user.id,
        tuple(sorted(user.roles)),
        user.team,
    )
    return attempt(lambda: _cached(name, key, fn))


def load_groups() -> list[Group]:
    with db_session() as session:
        return groups(session=session, survey_id=survey_id, actor=user)


visible = read("groups", load_groups) or []
if not visible:
    st.info("There are no results for your team in this survey.")
    st.stop()
labels = {g.key: ("· " * g.level) + g.label for g in visible}
group_key = st.selectbox("Group", list(labels), format_func=labels.__getitem__, key="results_group")
group = next(g for g in visible if g.key == group_key)
st.caption(
    f"Results appear only for groups of {survey.min_group} or more responses, and comments for "
    f"groups of {survey.comment_min} or more. "
    + (
        "Groups are cut by kind of contact, then organisation."
        + (
            " This survey is not anonymous: answers also show on each contact's timeline."
            if not survey.anonymous
            else " This survey is anonymous: no answer is linked to a contact."
        )
        if contact_survey
        else "Groups are cut by department, then team."
    )
)
released = results_released(survey)
if not released:
    st.info(
        f"This survey is open: {WHILE_OPEN.format(k=survey.min_group)}. Watching results "
        "arrive one answer at a time would show what each new person said."
    )
elif not group.shown:
    st.warning(
        f"Results for {escape_markdown(group.label)} are withheld: "
        f"{escape_markdown(group.reason)}. This protects the "
        "anonymity of the people who answered."
    )


def load_result() -> GroupResult:
    with db_session() as session:
        return results(session=session, survey_id=survey_id, group_key=group_key, actor=user)


result = read("results", load_result, group=group_key) if group.shown and released else None
if result is not None:
    cols = st.columns(3)
    cols[0].metric("Responses", group.n)
    cols[1].metric(
        "Engagement index",
        "–" if result.engagement_index is None else f"{result.engagement_index:.0f}%",
    )
    cols[2].metric(
        "NPS" if contact_survey else "eNPS",
        "–" if result.enps is None else f"{result.enps:+.0f}",
        help="% promoters (9–10) minus % detractors (0–6).",
    )


def load_actions() -> list[ActionPlan]:
    with db_session() as session:
        return list_actions(session=session, actor=user, series_id=survey.series_id)


plans = attempt(load_actions) or []

open_by_item = {p.item_code: p.focus for p in plans if p.item_code and p.status != "done"}

VIEWS = [
    "Factors and items",
    "Heatmap",
    "Participation",
    "Trend",
    "Drivers",
    "Comments",
    "Single choice",
    "Action plans",
]
if not released:
    # Until the survey closes there is nothing but participation to look at.
    VIEWS = ["Participation", "Trend", "Action plans"]
# One view at a time: each rerun computes and draws only what is on screen.
view = st.radio("View", VIEWS, horizontal=True, key="results_view", label_visibility="collapsed")


CHARTS: dict[str, Callable[[list[dict[str, Any]]], Any]] = {
    "factors": factor_chart,
    "heatmap": heatmap_chart,
    "trend": trend_chart,
    "choices": choice_chart,
}


@st.cache_data(max_entries=256, show_spinner=False)
def _chart_spec(kind: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The chart's Vega-Lite spec: built and validated by altair once per set of rows."""
    spec: dict[str, Any] = CHARTS[kind](rows).to_dict()
    return spec


def chart(kind: str, rows: list[dict[str, Any]]) -> None:
    """Draw one of the report charts (components/surveys_charts.py) for these rows."""
    st.vega_lite_chart(spec=_chart_spec(kind, list(rows)), width="stretch")


def table(rows: list[dict[str, Any]], name: str, key: str) -> None:
    """Show rows and offer exactly what is shown as CSV."""
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "Download as CSV",
        frame_csv(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
    )


if view == "Factors and items":
    if result is not None and result.factors:
        chart("factors", result.factors)
        table(result.factors, "factors", "dl_factors")
        st.markdown("**Items** (with any open action planned for them)")
        items = [{**i, "open action": open_by_item.get(str(i["code"]), "")} for i in result.items]
        table(items, "items", "dl_items")
    else:
        st.info("Nothing to show for this group.")

if view == "Heatmap":

    def load_heatmap() -> list[dict[str, Any]]:
        with db_session() as session:
            return heatmap(session=session, survey_id=survey_id, actor=user)

    cells = read("heatmap", load_heatmap) or []
    if cells:
        chart("heatmap", cells)
        table(cells, "heatmap", "dl_heatmap")

if view == "Participation":

    def load_participation() -> list[dict[str, Any]]:
        with db_session() as session:
            return participation(session=session, survey_id=survey_id, actor=user)

    turnout = read("participation", load_participation) or []
    table(turnout, "participation", "dl_participation")
    if released:
        st.caption(
            "“Through a link HR downloaded” counts answers from people whose link was in a "
            "download: HR held a working link for them, so those answers could have been "
            "given by someone else."
        )
        stuffed = [
            r
            for r in turnout
            if r["responses"] is not None
            and r["through a link HR downloaded"]
            and int(r["responses"]) - int(r["through a link HR downloaded"]) < survey.min_group
        ]
        for row in stuffed:
            st.warning(
                f"{escape_markdown(str(row['group']))}: without the answers through downloaded "
                f"links, fewer than {survey.min_group} remain. Treat its results with care.",
                icon=":material/warning:",
            )

if view == "Trend":

    def load_trend() -> list[dict[str, Any]]:
        with db_session() as session:
            return trend(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    trend_rows = read("trend", load_trend, group=group_key, series=True) or []
    codes = sorted({str(r["code"]) for r in trend_rows})
    picked = st.multiselect(
        "Items", codes, default=[c for c in codes if c == "engagement index"], key="trend_codes"
    )
    shown_rows = [r for r in trend_rows if r["code"] in picked]
    if shown_rows:
        chart("trend", shown_rows)
        table(shown_rows, "trend", "dl_trend")
    else:
        st.info("Pick items to compare across the waves in which this group was large enough.")

if view == "Drivers":
    st.caption(
        "How strongly each item moves with the engagement index across respondents "
        "(Pearson's r). High impact and low score: the place to start."
    )

    def load_drivers() -> list[dict[str, Any]]:
        with db_session() as session:
            return drivers(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    driver_rows = read("drivers", load_drivers, group=group_key) if group.shown else None
    if driver_rows:
        table(driver_rows, "drivers", "dl_drivers")
    else:
        st.info("Nothing to show for this group.")

if view == "Comments":

    def load_comments() -> list[str]:
        with db_session() as session:
            return comments(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    said = read("comments", load_comments, group=group_key) or []
    if said:
        st.caption(f"{len(said)} comments, in random order.")
        for comment in said:
            st.text(comment)
    else:
        st.info(
            f"Comments are shown only for groups of {survey.comment_min} or more, where "
            "the rest of their department is also that large."
        )

if view == "Single choice":

    def load_choices() -> list[ChoiceResult]:
        with db_session() as session:
            return choice_results(
                session=session, survey_id=survey_id, group_key=group_key, actor=user
            )

    chosen_results = read("choices", load_choices, group=group_key) or []
    choice_table = choice_rows(chosen_results)
    if choice_table:
        chart("choices", choice_table)
        table(choice_table, "single-choice", "dl_choices")
    for hidden in (r for r in chosen_results if not r.shown):
        st.caption(f"{escape_markdown(hidden.code)}: withheld ({escape_markdown(hidden.note)}).")
    if not chosen_results:
        st.info("This survey has no single-choice questions.")

if view == "Action plans":
    if plans:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Focus": p.focus,
                        "Item": p.item_code or "",
                        "Team": p.team or "everyone",
                        "Actions": p.actions,
                        "Owner": p.owner,
                        "Due": p.due_on,
                        "Status": p.status,
                    }
                    for p in plans
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        by_focus = {f"{p.focus} ({p.status})": p for p in plans}
        plan_cols = st.columns([3, 1, 1])
        which = plan_cols[0].selectbox("Action plan", list(by_focus), key="plan_pick")
        status = plan_cols[1].selectbox("Status", list(ActionStatus), key="plan_status")
        if plan_cols[2].button("Update", key="plan_update"):
            plan = by_focus[which]

            def update() -> ActionPlan:
                with db_session() as session:
                    return set_action_status(
                        session=session,
                        action_id=plan.id or 0,
                        status=ActionStatus(status or ActionStatus.open),
                        version=plan.version,
                        actor=user,
                    )

            if attempt(update) is not None:
                st.rerun()
    with st.form("new_action"):
        st.markdown("**Plan an action**")
        item_codes = [""] + [str(i["code"]) for i in (result.items if result else [])]
        form_cols = st.columns(2)
        focus = form_cols[0].text_input("Focus area", max_chars=FOCUS_MAX)
        item = form_cols[1].selectbox("Item it addresses", item_codes)
        actions = st.text_area("Actions", max_chars=ACTIONS_MAX)
        owner = form_cols[0].text_input("Owner", max_chars=OWNER_MAX)
        due = form_cols[1].date_input("Due", value=dt.date.today() + dt.timedelta(days=30))
        team = group.team if group.team else (None if is_hr else user.team)
        if st.form_submit_button("Save action plan"):

            def save() -> ActionPlan:
                with db_session() as session:
                    return create_action(
                        session=session,
                        survey_id=survey_id,
                        plan_in=ActionPlanCreate(
                            focus=focus,
                            item_code=item or None,
                            actions=actions,
                            owner=owner,
                            due_on=due,
                        ),
                        team=team,
                        actor=user,
                    )

            attempt(save, success="Action plan saved.")
