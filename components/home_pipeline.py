"""Home panel for sales and managers: overdue tasks and rotting deals."""

from dataclasses import dataclass

import streamlit as st
from sqlmodel import Session

from components.text import count_of, escape_markdown
from components.ui import Failed, run
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.people import Task
from db.people.interactions import count_overdue_tasks, overdue_tasks
from db.pipeline.queries import DealRow, count_rotting_deals, rotting_deals

SHOWN = 10


@dataclass(frozen=True)
class PipelineToday:
    tasks: list[Task]
    n_tasks: int
    deals: list[DealRow]
    n_deals: int


def shown_of(shown: int, total: int) -> str:
    """ "10 of 13": how much of a list Home shows, when it is not all of it."""
    return f"{shown:,} of {total:,}"


def pipeline_panel(user: User) -> None:
    """Sales and managers: overdue tasks and deals going stale, counted in full."""
    st.subheader("Your pipeline today")
    manager = Role.manager in user.roles

    def load(*, session: Session) -> PipelineToday:
        mine = not manager
        return PipelineToday(
            tasks=overdue_tasks(session=session, actor=user, mine_only=mine, limit=SHOWN),
            n_tasks=count_overdue_tasks(session=session, actor=user, mine_only=mine),
            deals=rotting_deals(session=session, actor=user, mine_only=mine, limit=SHOWN),
            n_deals=count_rotting_deals(session=session, actor=user, mine_only=mine),
        )

    loaded = run(load)
    if isinstance(loaded, Failed):
        return
    first, second = st.columns(2)
    first.metric(
        "Overdue tasks" if not manager else "Overdue tasks in your team", f"{loaded.n_tasks:,}"
    )
    second.metric(
        "Rotting deals" if not manager else "Rotting deals in your team", f"{loaded.n_deals:,}"
    )
    today = utcnow().date()
    with first:
        for task in loaded.tasks:
            st.text(f"{task.title} · {count_of((today - task.due_on).days, 'day')} overdue")
        if loaded.n_tasks > len(loaded.tasks):
            st.page_link(
                "pages/tasks.py",
                label=f"{shown_of(len(loaded.tasks), loaded.n_tasks)} — see all",
                icon=":material/checklist:",
            )
    now = utcnow()
    with second:
        for deal in loaded.deals:
            idle = (now - deal.last_activity_at).days
            st.page_link(
                "pages/deal.py",
                label=(
                    f"{escape_markdown(deal.title)} · {escape_markdown(deal.stage)} "
                    f"· idle {count_of(idle, 'day')}"
                ),
                icon=":material/warning:",
                query_params={"id": str(deal.id)},
            )
        if loaded.n_deals > len(loaded.deals):
            st.page_link(
                "pages/deals.py",
                label=f"{shown_of(len(loaded.deals), loaded.n_deals)} — see all",
                icon=":material/handshake:",
                query_params={"view": "rotting", **({} if manager else {"mine": "1"})},
            )
    if not loaded.tasks and not loaded.deals:
        st.info("Nothing overdue and nothing going stale.")
