"""Intake questions: the few questions each category of concern asks at intake."""

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, run
from db.cases.common import list_categories
from db.cases.questions import PROMPT_MAX, QUESTIONS_MAX, category_questions, set_category_questions
from db.models.cases import QuestionKind

admin = page(__file__)
st.title("Intake questions")
st.caption(
    f"Each category can ask up to {QUESTIONS_MAX} questions of its own when a concern is "
    "raised (when, where, who was involved). Answering them is optional for the reporter. "
    "A case keeps the questions as they were asked, so changing them here changes only "
    "what later reporters see."
)

listed = run(list_categories)
categories = {c.key: c.label for c in ([] if isinstance(listed, Failed) else listed)}
if not categories:
    st.info("There are no categories of concern yet.")
    st.stop()
category = st.selectbox(
    "Category", list(categories), format_func=lambda key: categories[key], key="iq_category"
)
found = run(category_questions, category=category)
current = [] if isinstance(found, Failed) else found
table = pd.DataFrame(
    [{"Question": q.prompt, "Answered as": q.kind} for q in current],
    columns=["Question", "Answered as"],
)
edited = st.data_editor(
    table,
    num_rows="dynamic",
    width="stretch",
    hide_index=True,
    key=f"iq_table_{category}",
    column_config={
        "Question": st.column_config.TextColumn(
            "Question", max_chars=PROMPT_MAX, required=True, width="large"
        ),
        "Answered as": st.column_config.SelectboxColumn(
            "Answered as",
            options=[k.value for k in QuestionKind],
            default=QuestionKind.text.value,
            required=True,
            help="text: a few words; date: a day the reporter picks",
        ),
    },
)
questions = [
    (str(row["Question"]), QuestionKind(row["Answered as"] or QuestionKind.text.value))
    for row in edited.to_dict("records")
    if str(row.get("Question") or "").strip()
]
if st.button(
    f"Save the questions of {escape_markdown(categories[category])}",
    icon=":material/save:",
    key=f"iq_save_{category}",
):
    act(
        set_category_questions,
        done=f"Saved {len(questions)} question(s) for {escape_markdown(categories[category])}.",
        actor=admin,
        category=category,
        questions=questions,
    )
