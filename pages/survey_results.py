"""Survey results: only groups large enough to stay anonymous, for HR and team managers."""

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.surveys_charts import factor_chart, heatmap_chart, trend_chart
from components.ui import attempt
from db.models.auth import Role
from db.models.surveys import ActionPlan, ActionPlanCreate, ActionStatus, Survey, SurveyStatus
from db.survey_actions import create_action, list_actions, set_action_status
from db.survey_privacy import Group
from db.survey_reports import (
    GroupResult,
    comments,
    drivers,
    groups,
    heatmap,
    participation,
    results,
    trend,
)
from db.surveys import list_surveys

user = page("Survey results", roles={Role.hr, Role.manager}, icon=":material/insights:")
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


def load_groups() -> list[Group]:
    with db_session() as session:
        return groups(session=session, survey_id=survey_id, actor=user)


visible = attempt(load_groups) or []
if not visible:
    st.info("There are no results for your team in this survey.")
    st.stop()
labels = {g.key: ("· " * g.level) + g.label for g in visible}
group_key = st.selectbox("Group", list(labels), format_func=labels.__getitem__, key="results_group")
group = next(g for g in visible if g.key == group_key)
st.caption(
    f"Results appear only for groups of {survey.min_group} or more responses, and comments for "
    f"groups of {survey.comment_min} or more. Groups are cut by department, then team."
)
if not group.shown:
    st.warning(
        f"Results for {group.label} are withheld: {group.reason}. This protects the "
        "anonymity of the people who answered."
    )


def load_result() -> GroupResult:
    with db_session() as session:
        return results(session=session, survey_id=survey_id, group_key=group_key, actor=user)


result = attempt(load_result) if group.shown else None
if result is not None:
    cols = st.columns(3)
    cols[0].metric("Responses", group.n)
    cols[1].metric(
        "Engagement index",
        "–" if result.engagement_index is None else f"{result.engagement_index:.0f}%",
    )
    cols[2].metric("eNPS", "–" if result.enps is None else f"{result.enps:+.0f}")


def load_actions() -> list[ActionPlan]:
    with db_session() as session:
        return list_actions(session=session, actor=user, series_id=survey.series_id)


plans = attempt(load_actions) or []

open_by_item = {p.item_code: p.focus for p in plans if p.item_code and p.status != "done"}

tabs = st.tabs(
    [
        "Factors and items",
        "Heatmap",
        "Participation",
        "Trend",
        "Drivers",
        "Comments",
        "Action plans",
    ]
)


def table(rows: list[dict[str, Any]], name: str, key: str) -> None:
    """Show rows and offer exactly what is shown as CSV."""
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        "Download as CSV",
        frame.to_csv(index=False),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=key,
    )


with tabs[0]:
    if result is not None and result.factors:
        st.altair_chart(factor_chart(result.factors), width="stretch")
        table(result.factors, "factors", "dl_factors")
        st.markdown("**Items** (with any open action planned for them)")
        items = [{**i, "open action": open_by_item.get(str(i["code"]), "")} for i in result.items]
        table(items, "items", "dl_items")
    else:
        st.info("Nothing to show for this group.")

with tabs[1]:

    def load_heatmap() -> list[dict[str, Any]]:
        with db_session() as session:
            return heatmap(session=session, survey_id=survey_id, actor=user)

    cells = attempt(load_heatmap) or []
    if cells:
        st.altair_chart(heatmap_chart(cells), width="stretch")
        table(cells, "heatmap", "dl_heatmap")

with tabs[2]:

    def load_participation() -> list[dict[str, Any]]:
        with db_session() as session:
            return participation(session=session, survey_id=survey_id, actor=user)

    table(attempt(load_participation) or [], "participation", "dl_participation")

with tabs[3]:

    def load_trend() -> list[dict[str, Any]]:
        with db_session() as session:
            return trend(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    trend_rows = attempt(load_trend) or []
    codes = sorted({str(r["code"]) for r in trend_rows})
    picked = st.multiselect(
        "Items", codes, default=[c for c in codes if c == "engagement index"], key="trend_codes"
    )
    shown_rows = [r for r in trend_rows if r["code"] in picked]
    if shown_rows:
        st.altair_chart(trend_chart(shown_rows), width="stretch")
        table(shown_rows, "trend", "dl_trend")
    else:
        st.info("Pick items to compare across the waves in which this group was large enough.")

with tabs[4]:
    st.caption(
        "How strongly each item moves with the engagement index across respondents "
        "(Pearson's r). High impact and low score: the place to start."
    )

    def load_drivers() -> list[dict[str, Any]]:
        with db_session() as session:
            return drivers(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    driver_rows = attempt(load_drivers) if group.shown else None
    if driver_rows:
        table(driver_rows, "drivers", "dl_drivers")
    else:
        st.info("Nothing to show for this group.")

with tabs[5]:

    def load_comments() -> list[str]:
        with db_session() as session:
            return comments(session=session, survey_id=survey_id, group_key=group_key, actor=user)

    said = attempt(load_comments) or []
    if said:
        st.caption(f"{len(said)} comments, in random order.")
        for comment in said:
            st.text(comment)
    else:
        st.info(
            f"Comments are shown only for groups of {survey.comment_min} or more, where "
            "the rest of their department is also that large."
        )

with tabs[6]:
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
        focus = form_cols[0].text_input("Focus area")
        item = form_cols[1].selectbox("Item it addresses", item_codes)
        actions = st.text_area("Actions")
        owner = form_cols[0].text_input("Owner")
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
