"""Home panel for sales and managers: overdue tasks and rotting deals."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.people import Task
from db.people.interactions import overdue_tasks
from db.pipeline.queries import DealRow, rotting_deals


def pipeline_panel(user: User) -> None:
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
                label=(
                    f"{escape_markdown(deal.title)} · {escape_markdown(deal.stage)} "
                    f"· idle {idle} days"
                ),
                icon=":material/warning:",
                query_params={"id": str(deal.id)},
            )
    if not tasks and not deals:
        st.info("Nothing overdue and nothing going stale.")
