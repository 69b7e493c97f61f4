"""Home panel for HR and managers: open surveys and action plans."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.surveys import ActionPlan, Survey, SurveyStatus
from db.surveys.actions import list_actions
from db.surveys.builder import list_surveys
from db.surveys.distribution import Progress, progress


def engagement_panel(user: User) -> None:
    st.subheader("Engagement")

    hr = Role.hr in user.roles

    def load() -> tuple[list[ActionPlan], list[tuple[Survey, Progress | None]]]:
        with db_session() as session:
            plans = list_actions(session=session, actor=user, open_only=True)
            surveys = list_surveys(session=session, actor=user)
            running = [s for s in surveys if s.status == SurveyStatus.open.value]
            return plans, [
                (s, progress(session=session, survey_id=s.id or 0, actor=user) if hr else None)
                for s in running
            ]

    loaded = attempt(load)
    if loaded is None:
        return
    plans, running = loaded
    if hr:
        for survey, seen in running:
            if seen is not None and seen.answered is not None and seen.invited:
                share = f"{seen.answered} of {seen.invited} answered"
            elif seen is not None:
                share = f"{seen.invited} invited; answers show from {seen.min_group}"
            else:
                share = ""
            st.info(
                f"{escape_markdown(survey.title)} is open until {survey.closes_on:%d %b} · "
                f"{share}.",
                icon=":material/ballot:",
            )
        if running:
            st.page_link("pages/surveys.py", label="Follow surveys", icon=":material/ballot:")
    today = utcnow().date()
    overdue = [p for p in plans if p.due_on < today]
    if overdue:
        st.warning(
            f"{len(overdue)} action plan{'s are' if len(overdue) != 1 else ' is'} past due.",
            icon=":material/event_busy:",
        )
    if plans:
        st.markdown("**Open action plans**")
        for plan in plans:
            late = " · OVERDUE" if plan.due_on < today else ""
            st.text(f"{plan.due_on:%d %b %Y} · {plan.focus} · {plan.owner} · {plan.status}{late}")
    elif not running:
        st.info("No open surveys or action plans need you right now.")
    st.page_link("pages/survey_results.py", label="Open survey results", icon=":material/insights:")
