"""Home panel for sales and managers: questions from the Ask us page waiting for them."""

import streamlit as st

from components.text import escape_markdown
from components.ui import FAILED, run
from db.models.auth import User
from db.people.ask_us import Question, open_questions


def questions_panel(user: User) -> None:
    """The user's open Ask us questions, each linked to the person who asked; nothing
    is drawn when there are none."""
    tasks = run(open_questions, actor=user)
    if tasks is FAILED or not tasks:
        return
    assert isinstance(tasks, list)
    st.subheader("Questions from the Ask us page")
    question: Question
    for question in tasks:
        task = question.task
        st.page_link(
            "pages/contact.py",
            label=(
                f"{escape_markdown(question.name)} is waiting · "
                f"{escape_markdown(task.title)} · due {task.due_on:%d %b}"
            ),
            icon=":material/contact_support:",
            query_params={"id": str(task.contact_id)},
        )
