"""The Home page's "my work" panels, one per role; each area adds its own."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.audit import AuditFilter, list_events
from db.auth import count_users, locked_users
from db.case_retention import WARNING_DAYS, nearing_purge
from db.case_review import queue_summary
from db.case_welfare import DueCheckIn, due_check_ins
from db.models.auth import ROLE_LABELS, Role, User
from db.models.surveys import ActionPlan, Survey, SurveyStatus
from db.survey_actions import list_actions
from db.surveys import list_surveys
from db.types import utcnow


def render_home(user: User) -> None:
    """Draw a panel for each of the user's roles."""
    st.caption(
        "Your roles: "
        + ", ".join(ROLE_LABELS[r] for r in sorted(user.roles))
        + ". The sidebar lists what you can open."
    )
    if Role.admin in user.roles:
        _admin_panel(user)
    if user.has_any({Role.hr, Role.manager}):
        _engagement_panel(user)
    others = sorted(user.roles - {Role.admin, Role.hr, Role.manager})
    for role in others:
        if role is Role.reviewer:
            _reviewer_panel(user)
            continue
        st.subheader(ROLE_LABELS[role])
        st.info(f"Nothing needs you as {ROLE_LABELS[role].lower()} right now.")


def _engagement_panel(user: User) -> None:
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


def _admin_panel(user: User) -> None:
    st.subheader("Administration")

    def load() -> tuple[list[User], int, list[str]]:
        with db_session() as session:
            locked = locked_users(session=session, actor=user)
            total = count_users(session=session)
            events = list_events(session=session, actor=user, flt=AuditFilter(), limit=5)
        recent = [f"{e.occurred_at:%d %b %H:%M} · {e.actor_name} · {e.action}" for e in events]
        return locked, total, recent

    loaded = attempt(load)
    if loaded is None:
        return
    locked, total, recent = loaded
    first, second = st.columns(2)
    first.metric("Users", total)
    second.metric("Locked accounts", len(locked))
    now = utcnow()
    for account in locked:
        minutes = int(((account.locked_until or now) - now).total_seconds() // 60) + 1
        st.warning(
            f"{escape_markdown(account.username)} is locked for another {minutes} min.",
            icon=":material/lock:",
        )
    if locked:
        st.page_link("pages/admin.py", label="Unlock in Users and roles", icon=":material/group:")
    with st.expander("Latest audit events"):
        for line in recent:
            st.text(line)
        st.page_link("pages/audit_log.py", label="Open the audit log", icon=":material/policy:")


def _reviewer_panel(user: User) -> None:
    st.subheader("Cases")

    def load() -> tuple[dict[str, int], list[DueCheckIn], int]:
        with db_session() as session:
            return (
                queue_summary(session=session, actor=user),
                due_check_ins(session=session, actor=user),
                nearing_purge(session=session, actor=user),
            )

    loaded = attempt(load)
    if loaded is None:
        return
    summary, check_ins, purging = loaded
    cols = st.columns(4)
    cols[0].metric("New concerns", summary["new"])
    cols[1].metric("Overdue", summary["overdue"])
    cols[2].metric("Due within 14 days", summary["due_soon"])
    cols[3].metric("Assigned to you", summary["mine"])
    st.page_link("pages/case_queue.py", label="Open the case queue", icon=":material/inbox:")
    if check_ins:
        st.markdown("**Welfare check-ins due**")
        for item in check_ins:
            st.text(f"{item.due_on:%d %b} · {item.reference} · {item.person}")
    if purging:
        st.warning(
            f"{purging} closed case{'s' if purging != 1 else ''} will have their content erased "
            f"within {WARNING_DAYS} days under the retention rules (`manage.py purge-cases`).",
            icon=":material/auto_delete:",
        )
