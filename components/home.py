"""The Home page's "my work" panels, one per role; each area adds its own."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.audit import AuditFilter, list_events
from db.auth import count_users, locked_users
from db.deals import DealRow, rotting_deals
from db.interactions import overdue_tasks
from db.models.auth import ROLE_LABELS, Role, User
from db.models.people import Task
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
    if user.has_any({Role.sales, Role.manager}):
        _pipeline_panel(user)
    others = sorted(user.roles - {Role.admin, Role.sales, Role.manager})
    for role in others:
        st.subheader(ROLE_LABELS[role])
        st.info(f"Nothing needs you as {ROLE_LABELS[role].lower()} right now.")


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


def _pipeline_panel(user: User) -> None:
    """Sales and managers: overdue tasks and deals going stale."""
    st.subheader("Your pipeline today")
    manager = Role.manager in user.roles

    def load() -> tuple[list[Task], list[DealRow]]:
        with db_session() as session:
            tasks = overdue_tasks(session=session, actor=user, limit=10)
            if not manager:
                tasks = [t for t in tasks if t.owner_id == user.id]
            deals = rotting_deals(session=session, actor=user, mine_only=not manager, limit=10)
        return tasks, deals

    loaded = attempt(load)
    if loaded is None:
        return
    tasks, deals = loaded
    first, second = st.columns(2)
    first.metric("Overdue tasks" if not manager else "Overdue tasks in your team", len(tasks))
    second.metric("Rotting deals" if not manager else "Rotting deals in your team", len(deals))
    today = utcnow().date()
    with first:
        for task in tasks:
            st.text(f"{task.title} · {(today - task.due_on).days} days overdue")
    with second:
        for deal in deals:
            idle = (utcnow() - deal.last_activity_at).days
            st.page_link(
                "pages/deal.py",
                label=f"{deal.title} · {deal.stage} · idle {idle} days",
                icon=":material/warning:",
                query_params={"id": str(deal.id)},
            )
    if not tasks and not deals:
        st.info("Nothing overdue and nothing going stale.")
