"""Survey results: only groups large enough to stay anonymous, for HR and team managers."""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pandas as pd
import streamlit as st

from components import page
from components.survey_cuts import cut_filters, cut_items, cut_summary
from components.survey_drivers import driver_section, signed
from components.survey_tables import readable_csv, readable_frame
from components.surveys_charts import choice_chart, factor_chart, heatmap_chart, trend_chart
from components.text import escape_markdown
from components.ui import Failed, act, later, run
from db.models.auth import Role
from db.models.surveys import ActionPlan, ActionPlanCreate, ActionStatus, SurveyStatus
from db.surveys.actions import (
    ACTIONS_MAX,
    FOCUS_MAX,
    OWNER_MAX,
    create_action,
    group_name,
    list_actions,
    set_action_status,
)
from db.surveys.builder import list_surveys
from db.surveys.choices import ChoiceResult, choice_results, choice_rows
from db.surveys.cuts import cut_view
from db.surveys.drivers import compared_heatmap, driver_matrix
from db.surveys.leader_report import leader_pdf, pdf_file_name, pdf_unavailable
from db.surveys.reports import (
    WHILE_OPEN,
    cache_key,
    comments,
    groups,
    participation,
    results,
    results_released,
    trend,
)
from db.surveys.voice import is_contact_survey

user = page(__file__)
st.title("Survey results")
is_hr = Role.hr in user.roles


listed = run(list_surveys, actor=user)
surveys = [
    s
    for s in ([] if isinstance(listed, Failed) else listed)
    if s.status != SurveyStatus.draft.value
]
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
    """A report of closed surveys, under the key db/ gives it (see `cache_key`)."""
    found = _read()
    if isinstance(found, Failed):
        # Not kept: a refusal or an outage is shown again, and retried, next time.
        raise _NotCached
    return found


class _NotCached(Exception):
    """A report that failed: its message is shown, and nothing is cached."""


def read(
    name: str, command: Callable[..., T], *, series: bool = False, **arguments: Any
) -> T | None:
    """Run a report command, from the cache when db/ says it may be cached for this viewer."""
    waves = [s for s in surveys if s.series_id == survey.series_id] if series else [survey]
    key = cache_key(waves=waves, viewer=user)

    def fetch() -> T | Failed:
        return run(command, survey_id=survey_id, actor=user, **arguments)

    if key is None:
        found = fetch()
        return None if isinstance(found, Failed) else found
    try:
        # The survey on screen is in the key: a series read covers every wave of the series.
        cached = _cached(name, (*key, survey_id, tuple(sorted(arguments.items()))), fetch)
        return cast(T, cached)
    except _NotCached:
        return None


visible = read("groups", groups) or []
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

if released:
    # The group on screen as a PDF for its leader: the same figures, withheld the same way.
    # Made when clicked (it takes a second on a large survey), not on every rerun.
    unavailable = pdf_unavailable()
    if unavailable:
        st.caption(escape_markdown(unavailable))
    else:
        st.download_button(
            "Download PDF for this group",
            later(leader_pdf, survey_id=survey_id, group_key=group_key, actor=user),
            file_name=pdf_file_name(survey.title, group.label),
            mime="application/pdf",
            on_click="ignore",
            key="dl_leader_pdf",
        )


result = read("results", results, group_key=group_key) if group.shown and released else None
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


# Action plans belong to the group on screen: everyone, a department, or a team.
plan_group = (group.department, group.team)
found_plans = run(list_actions, actor=user, series_id=survey.series_id, group=plan_group)
plans: list[ActionPlan] = [] if isinstance(found_plans, Failed) else found_plans

open_by_item = {p.item_code: p.focus for p in plans if p.item_code and p.status != "done"}

VIEWS = [
    "Factors and items",
    "Heatmap",
    "Cuts",
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
if contact_survey and "Cuts" in VIEWS:
    VIEWS.remove("Cuts")  # customers are cut by kind and organisation only
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
    """Show rows in readable columns and offer exactly what is shown as CSV.

    Counts stay whole numbers even where some are withheld (a blank, not 9.0), and a
    withheld figure is a blank cell beside its note, never the word None.
    """
    st.dataframe(readable_frame(rows), hide_index=True, width="stretch")
    st.download_button(
        "Download as CSV",
        readable_csv(rows),
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
    cells = read("heatmap", compared_heatmap, series=True) or []
    if cells:
        chart("heatmap", cells)
        st.caption(
            "± are points of % favourable against the company overall and against the wave "
            "this survey was copied from, shown only where both figures are shown."
        )
        table(signed(cells), "heatmap", "dl_heatmap")

if view == "Cuts":
    first_cut, second_cut = cut_filters(is_hr)
    with st.spinner("Working out which cells can be shown without exposing a small group…"):
        cut = read("cuts", cut_view, first=first_cut, second=second_cut)
    if cut is not None and cut_summary(
        cut, first_cut, second_cut, survey.min_group, survey.comment_min
    ):
        table(cut.rows, "cuts", "dl_cuts")
        cut_scores = cut_items(cut)
        if cut_scores:
            table(cut_scores, "cut-items", "dl_cut_items")

if view == "Participation":
    turnout: list[dict[str, Any]] = read("participation", participation) or []
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
    trend_rows = read("trend", trend, group_key=group_key, series=True) or []
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
    matrix = read("drivers", driver_matrix, group_key=group_key)
    driver_table = driver_section(matrix)
    if driver_table:
        table(driver_table, "drivers", "dl_drivers")


if view == "Comments":
    said = read("comments", comments, group_key=group_key) or []
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
    chosen_results: list[ChoiceResult] = read("choices", choice_results, group_key=group_key) or []
    choice_table = choice_rows(chosen_results)
    if choice_table:
        chart("choices", choice_table)
        table(choice_table, "single-choice", "dl_choices")
    for hidden in (r for r in chosen_results if not r.shown):
        st.caption(f"{escape_markdown(hidden.code)}: withheld ({escape_markdown(hidden.note)}).")
    if not chosen_results:
        st.info("This survey has no single-choice questions.")

if view == "Action plans":
    here = group_name(group.department, group.team)
    st.caption(
        f"Plans for {escape_markdown(here)}. Pick another group above to see or plan its own."
    )
    if plans:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Focus": p.focus,
                        "Item": p.item_code or "",
                        "For": group_name(p.department, p.team),
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
            new_status = ActionStatus(status or ActionStatus.open)
            act(
                set_action_status,
                done=f"“{escape_markdown(plan.focus)}” is now {new_status.value}.",
                action_id=plan.id or 0,
                status=new_status,
                version=plan.version,
                actor=user,
            )
    else:
        st.info(f"No action plans for {escape_markdown(here)} yet.")
    may_plan = is_hr or (group.team is not None and group.team == user.team)
    if may_plan:
        with st.form(f"new_action_{group_key}", clear_on_submit=True):
            st.markdown(f"**Plan an action for {escape_markdown(here)}**")
            item_codes = [""] + [str(i["code"]) for i in (result.items if result else [])]
            form_cols = st.columns(2)
            focus = form_cols[0].text_input("Focus area", max_chars=FOCUS_MAX)
            item = form_cols[1].selectbox("Item it addresses", item_codes)
            actions = st.text_area("Actions", max_chars=ACTIONS_MAX)
            owner = form_cols[0].text_input("Owner", max_chars=OWNER_MAX)
            due = form_cols[1].date_input("Due", value=dt.date.today() + dt.timedelta(days=30))
            if st.form_submit_button("Save action plan"):
                act(
                    create_action,
                    done=f"Action plan saved for {escape_markdown(here)}.",
                    survey_id=survey_id,
                    plan_in=ActionPlanCreate(
                        focus=focus,
                        item_code=item or None,
                        actions=actions,
                        owner=owner,
                        due_on=due,
                    ),
                    department=group.department,
                    team=group.team,
                    actor=user,
                )
