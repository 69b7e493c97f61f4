"""Tasks: every overdue task in full (Home shows the first ten), marked done from here."""

import streamlit as st

from components import page
from components.text import count_of, escape_markdown
from components.ui import Failed, act, pager, run
from db.core.types import utcnow
from db.models.auth import Role
from db.people.interactions import complete_task, count_overdue_tasks, overdue_tasks

user = page(__file__)
st.title("Overdue tasks")
PAGE_SIZE = 50

manager = Role.manager in user.roles or Role.admin in user.roles
mine = not manager or st.toggle("Only mine", value=False, key="tasks_mine")
total = run(count_overdue_tasks, actor=user, mine_only=mine)
if isinstance(total, Failed):
    st.stop()
if not total:
    st.info("Nothing overdue.")
    st.stop()
st.caption(
    f"{count_of(total, 'overdue task')}" + (" of yours." if mine else " in what you can see.")
)
offset = pager(total=total, page_size=PAGE_SIZE, key="tasks_page")
found = run(overdue_tasks, actor=user, mine_only=mine, offset=offset, limit=PAGE_SIZE)
today = utcnow().date()
for task in [] if isinstance(found, Failed) else found:
    left, middle, right = st.columns([5, 2, 1])
    left.text(task.title)
    middle.caption(
        f"due {task.due_on:%d %b %Y} · {count_of((today - task.due_on).days, 'day')} late"
    )
    if task.contact_id:
        left.page_link(
            "pages/contact.py",
            label="Open the contact",
            icon=":material/person:",
            query_params={"id": str(task.contact_id)},
        )
    if task.deal_id:
        left.page_link(
            "pages/deal.py",
            label="Open the deal",
            icon=":material/request_quote:",
            query_params={"id": str(task.deal_id)},
        )
    if right.button("Done", key=f"task_done_{task.id}", icon=":material/check:"):
        act(
            complete_task,
            done=f"Done: {escape_markdown(task.title)}.",
            task_id=task.id or 0,
            version=task.version,
            actor=user,
        )
