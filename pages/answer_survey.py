"""Answer a survey: public, opened from a personal link (the token is in the URL)."""

import streamlit as st

from components import page
from components.branding import brand_header
from components.i18n import language_picker, long_date, t
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
from db.surveys.languages import LANGUAGES, localise, stored_in_each, survey_languages

page(__file__, public=True)
brand_header()

AGREE_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neutral",
    4: "Agree",
    5: "Strongly agree",
}

drawn: list[str] = []


def pick(offered: list[str] | None = None) -> str:
    """The language picker, drawn once per run (the link-code step may already have)."""
    if not drawn:
        drawn.append(language_picker(offered))
    return drawn[0]


token = str(st.query_params.get("token", "")).strip()
if not token:
    pick()
    st.title(t("Answer a survey"))
    st.info(
        t(
            "Open the personal link from your survey email. If you only have the code at the "
            "end of the link (after token=), paste it here."
        )
    )
    token = st.text_input(t("Link code"), key="pasted_token", max_chars=TOKEN_MAX).strip()
    if not token:
        st.stop()

if st.session_state.get("answered_token") == token:
    pick()
    st.title(t("Thank you"))
    st.success(t("Your answers are in."))
    # What this survey stores, as it was said before answering (kept from that run),
    # in each language the survey offered.
    said = st.session_state.get("answered_stored", {})
    shown = said.get(st.session_state.get("language"), "") or next(iter(said.values()), "")
    st.markdown(escape_markdown(str(shown)))
    st.stop()

if st.session_state.get("answer_token") != token:
    st.session_state["answer_token"] = token
    st.session_state["answers"] = {}
    st.session_state["section"] = 0
answers: dict[int, int | str | None] = st.session_state["answers"]


original = run(open_link, token=token)
if isinstance(original, Failed):
    st.stop()
offered = run(survey_languages, survey_id=original.survey_id)
language = pick(None if isinstance(offered, Failed) else offered)
localised = run(localise, questionnaire=original, language=language)
if isinstance(localised, Failed):
    st.stop()
questionnaire = localised.questionnaire
choice_labels = localised.choice_labels

st.title(escape_markdown(questionnaire.title))
st.caption(t("Open until {day}.", day=long_date(questionnaire.closes_on)))
if localised.missing:
    st.warning(
        t(
            "Part of this survey is not translated yet and is shown in {language}: {missing}.",
            language=escape_markdown(LANGUAGES.get(localised.fallback, localised.fallback)),
            missing=escape_markdown(", ".join(localised.missing)),
        ),
        icon=":material/translate:",
    )
st.info(escape_markdown(questionnaire.stored), icon=":material/lock:")
sections = questions_by_section(questionnaire.questions)
step = min(int(st.session_state["section"]), len(sections) - 1)
name, questions = sections[step]
st.progress(
    (step + 1) / len(sections),
    text=t(
        "Section {step} of {total}: {name}",
        step=step + 1,
        total=len(sections),
        name=escape_markdown(name),
    ),
)


def ask(question: SurveyQuestion, number: int) -> None:
    """Draw one question and keep its answer across sections."""
    assert question.id is not None
    key = f"q{question.id}"
    label = f"{number}\\. {escape_markdown(question.text)}" + (
        "" if question.required else t(" (optional)")
    )
    current = answers.get(question.id)
    kind = QuestionKind(question.kind)
    value: int | str | None
    if kind == QuestionKind.agree5:
        options = list(AGREE_LABELS)
        # Labels fixed now, in the visitor's language (the widget formats them later too).
        agree_labels = {option: t(AGREE_LABELS[option]) for option in AGREE_LABELS}
        value = st.radio(
            label,
            options,
            index=options.index(current) if current in options else None,
            format_func=agree_labels.__getitem__,
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
            help=t("0 = not at all likely, 10 = extremely likely"),
        )
    elif kind == QuestionKind.choice:
        # The answer is the original choice; a translation only changes what is shown.
        choices = (question.choices or "").split("\n")
        shown = dict(zip(choices, choice_labels.get(question.id, choices), strict=True))
        value = st.radio(
            label,
            choices,
            index=choices.index(current) if current in choices else None,
            format_func={c: escape_markdown(label) for c, label in shown.items()}.__getitem__,
            key=key,
        )
    else:
        value = st.text_area(label, value=str(current or ""), max_chars=MAX_TEXT, key=key)
    answers[question.id] = value


first_number = 1 + sum(len(qs) for _n, qs in sections[:step])
for offset, question in enumerate(questions):
    ask(question, first_number + offset)

back, forward = st.columns(2)
if step > 0 and back.button(t("Back"), icon=":material/arrow_back:", key="back"):
    st.session_state["section"] = step - 1
    st.rerun()
last = step == len(sections) - 1
if forward.button(
    t("Submit answers") if last else t("Next"),
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
            stored = run(stored_in_each, survey_id=original.survey_id)
            st.session_state["answered_token"] = token
            st.session_state["answered_stored"] = (
                {language: questionnaire.stored} if isinstance(stored, Failed) else stored
            )
            st.rerun()
