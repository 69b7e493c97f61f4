"""Answer a survey: public, opened from a personal link (the token is in the URL)."""

import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, attempt, run, visitor_id
from db.models.surveys import QuestionKind, SurveyQuestion
from db.surveys.answers import (
    MAX_TEXT,
    TOKEN_MAX,
    open_link,
    questions_by_section,
    submit_answers,
    validate_answers,
)

page(__file__, public=True)

AGREE_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neutral",
    4: "Agree",
    5: "Strongly agree",
}

token = str(st.query_params.get("token", "")).strip()
if not token:
    st.title("Answer a survey")
    st.info(
        "Open the personal link from your survey email. If you only have the code at the "
        "end of the link (after token=), paste it here."
    )
    token = st.text_input("Link code", key="pasted_token", max_chars=TOKEN_MAX).strip()
    if not token:
        st.stop()

if st.session_state.get("answered_token") == token:
    st.title("Thank you")
    st.success("Your answers are in.")
    # What this survey stores, as it was said before answering (kept from that run).
    st.markdown(escape_markdown(str(st.session_state.get("answered_stored", ""))))
    st.stop()

if st.session_state.get("answer_token") != token:
    st.session_state["answer_token"] = token
    st.session_state["answers"] = {}
    st.session_state["section"] = 0
answers: dict[int, int | str | None] = st.session_state["answers"]


questionnaire = run(open_link, token=token)
if isinstance(questionnaire, Failed):
    st.stop()

st.title(escape_markdown(questionnaire.title))
st.caption(f"Open until {questionnaire.closes_on:%d %B %Y}.")
st.info(escape_markdown(questionnaire.stored), icon=":material/lock:")
sections = questions_by_section(questionnaire.questions)
step = min(int(st.session_state["section"]), len(sections) - 1)
name, questions = sections[step]
st.progress(
    (step + 1) / len(sections),
    text=f"Section {step + 1} of {len(sections)}: {escape_markdown(name)}",
)


def ask(question: SurveyQuestion, number: int) -> None:
    """Draw one question and keep its answer across sections."""
    assert question.id is not None
    key = f"q{question.id}"
    label = f"{number}\\. {escape_markdown(question.text)}" + (
        "" if question.required else " (optional)"
    )
    current = answers.get(question.id)
    kind = QuestionKind(question.kind)
    value: int | str | None
    if kind == QuestionKind.agree5:
        options = list(AGREE_LABELS)
        value = st.radio(
            label,
            options,
            index=options.index(current) if current in options else None,
            format_func=AGREE_LABELS.__getitem__,
            horizontal=True,
            key=key,
        )
    elif kind == QuestionKind.scale10:
        options = list(range(11))
        value = st.radio(
            label,
            options,
            index=options.index(current) if current in options else None,
            horizontal=True,
            key=key,
            help="0 = not at all likely, 10 = extremely likely",
        )
    elif kind == QuestionKind.choice:
        choices = (question.choices or "").split("\n")
        value = st.radio(
            label,
            choices,
            index=choices.index(current) if current in choices else None,
            format_func=escape_markdown,
            key=key,
        )
    else:
        value = st.text_area(label, value=str(current or ""), max_chars=MAX_TEXT, key=key)
    answers[question.id] = value


first_number = 1 + sum(len(qs) for _n, qs in sections[:step])
for offset, question in enumerate(questions):
    ask(question, first_number + offset)

back, forward = st.columns(2)
if step > 0 and back.button("Back", icon=":material/arrow_back:", key="back"):
    st.session_state["section"] = step - 1
    st.rerun()
last = step == len(sections) - 1
if forward.button(
    "Submit answers" if last else "Next",
    type="primary",
    icon=":material/send:" if last else ":material/arrow_forward:",
    key="next",
):
    checked = attempt(lambda: validate_answers(questions, answers))
    if checked is not None and not last:
        st.session_state["section"] = step + 1
        st.rerun()
    if checked is not None and last:
        sent = run(submit_answers, token=token, answers=answers, visitor=visitor_id())
        if not isinstance(sent, Failed):
            st.session_state["answered_token"] = token
            st.session_state["answered_stored"] = questionnaire.stored
            st.rerun()
