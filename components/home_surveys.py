"""Home panel for HR and managers: open surveys and action plans."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.models.auth import Role, User
from db.models.surveys import ActionPlan, Survey, SurveyStatus
from db.survey_actions import list_actions
from db.surveys import list_surveys


def engagement_panel(user: User) -> None:
    st.subheader("Engagement")

    def load() -> tuple[list[ActionPlan], list[Survey]]:
        with db_session() as session:
            plans = list_actions(session=session, actor=user, open_only=True)
            surveys = list_surveys(session=session, actor=user)
        return plans, [s for s in surveys if s.status == SurveyStatus.open.value]

    loaded = attempt(load)
    if loaded is None:
        return
    plans, running = loaded
    if Role.hr in user.roles:
        for survey in running:
            st.info(
                f"{escape_markdown(survey.title)} is open until {survey.closes_on:%d %b}.",
                icon=":material/ballot:",
            )
    if plans:
        st.markdown("**Open action plans**")
        for plan in plans:
            st.text(f"{plan.due_on:%d %b %Y} · {plan.focus} · {plan.owner} · {plan.status}")
    elif not running:
        st.info("No open surveys or action plans need you right now.")
    st.page_link("pages/survey_results.py", label="Open survey results", icon=":material/insights:")
