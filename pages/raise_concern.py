"""Raise a concern: a public form, anonymous if the reporter wishes; no account needed."""

import datetime as dt

import streamlit as st
from sqlmodel import Session

from components import page
from components.drafts import clear_next_run, clear_pending
from components.evidence_ui import evidence_uploader
from components.i18n import language_picker, t
from components.text import escape_markdown
from components.ui import Failed, run, visitor_id
from db.cases.common import SHORT_TEXT_MAX, TEXT_MAX, list_categories
from db.cases.evidence import (
    EvidenceFile,
)
from db.cases.intake import CONTACT_NAME_MAX, Submitted, reviewers_to_exclude, submit_concern
from db.cases.questions import category_questions
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.models.cases import CaseQuestion, ConcernCreate, QuestionKind, Urgency

page(__file__, public=True)
clear_pending()  # the form is emptied once a concern was sent
language_picker()
st.title(t("Raise a concern"))

RESULT_KEY = "concern_submitted"

submitted: Submitted | None = st.session_state.get(RESULT_KEY)
if submitted is not None:
    st.success(t("Your concern has been received."))
    st.markdown(
        t(
            "Keep **both** of these. You need them to read replies and add information on "
            "*Follow up a concern*. We cannot show the receipt code again or recover it: "
            "it is not stored anywhere in a readable form."
        )
    )
    left, right = st.columns(2)
    with left:
        st.caption(t("Case reference"))
        st.code(submitted.reference, language=None)
    with right:
        st.caption(t("Receipt code (secret)"))
        st.code(submitted.receipt, language=None)
    saved = st.checkbox(t("I have saved my reference and receipt code"), key="concern_saved")
    if st.button(t("Done"), type="primary", disabled=not saved, key="concern_done"):
        del st.session_state[RESULT_KEY]
        st.session_state.pop("concern_saved", None)
        st.rerun()
    st.stop()

with st.expander(t("What is stored, and what is not"), expanded=True, icon=":material/shield:"):
    st.markdown(
        t(
            "- **Stored:** what you write in this form, the category, and the date it arrived.\n"
            "- **Not stored:** your IP address, your browser, cookies, or any account, even if "
            "you are signed in to Rapport on this computer. Nothing you write goes to server "
            "logs.\n"
            "- If you choose to **stay anonymous**, we keep no name or contact details; we can "
            "only reply on the follow-up page, with the reference and receipt code you get next.\n"
            "- Be aware that the details you describe may themselves point to you."
        )
    )


def load_choices(*, session: Session) -> tuple[dict[str, str], list[tuple[int, str]]]:
    categories = {c.key: c.label for c in list_categories(session=session)}
    return categories, reviewers_to_exclude(session=session)


choices = run(load_choices)
if isinstance(choices, Failed):
    st.stop()
categories, reviewers = choices

category = st.selectbox(
    t("Category"), list(categories), format_func=lambda key: categories[key], key="concern_category"
)
what = st.text_area(
    t("What happened"),
    key="concern_what",
    height=180,
    max_chars=TEXT_MAX,
    help=t("Describe what happened in your own words. Plain text: formatting is not applied."),
)
where = st.text_input(t("Where and when (optional)"), key="concern_where", max_chars=SHORT_TEXT_MAX)
occurred_on = st.date_input(
    t("Date it happened (optional)"), value=None, key="concern_date", format="YYYY-MM-DD"
)
people = st.text_area(
    t("People involved (optional)"), key="concern_people", height=80, max_chars=SHORT_TEXT_MAX
)
asked = run(category_questions, category=category or "")
questions: list[CaseQuestion] = [] if isinstance(asked, Failed) else asked
answers: dict[int, str] = {}
if questions:
    st.markdown(t("**A few questions about this kind of concern** (optional)"))
for question in questions:
    assert question.id is not None
    if question.kind == QuestionKind.date.value:
        day = st.date_input(
            escape_markdown(question.prompt),
            value=None,
            key=f"concern_q_{question.id}",
            format="YYYY-MM-DD",
            max_value=dt.date.today(),
        )
        if isinstance(day, dt.date):
            answers[question.id] = day.isoformat()
    else:
        answers[question.id] = st.text_input(
            escape_markdown(question.prompt),
            key=f"concern_q_{question.id}",
            max_chars=SHORT_TEXT_MAX,
        )
uploads = evidence_uploader("concern_files")
# Labels fixed now, in the visitor's language (the widget formats them later too).
urgencies = {u.value: escape_markdown(t(u.value)) for u in Urgency}
urgency = st.radio(
    t("How urgent does it feel?"),
    list(urgencies),
    index=1,
    format_func=urgencies.__getitem__,
    horizontal=True,
    key="concern_urgency",
)
identities = {i: escape_markdown(t(i)) for i in ("Stay anonymous", "Leave my contact details")}
identity = st.radio(
    t("Who you are"),
    list(identities),
    format_func=identities.__getitem__,
    key="concern_identity",
    horizontal=True,
)
anonymous = identity == "Stay anonymous"
name = email = phone = ""
if not anonymous:
    left, middle, right = st.columns(3)
    name = left.text_input(t("Your name"), key="concern_name", max_chars=CONTACT_NAME_MAX)
    email = middle.text_input(t("Email"), key="concern_email", max_chars=EMAIL_MAX)
    phone = right.text_input(t("Phone"), key="concern_phone", max_chars=PHONE_MAX)
names = dict(reviewers)
exclude = st.multiselect(
    t("Reviewers who should NOT see this concern (optional)"),
    list(names),
    format_func=lambda uid: names[uid],
    placeholder=t("Choose options"),
    key="concern_exclude",
    help=t("For example someone involved, or close to someone involved."),
)

if st.button(t("Send my concern"), type="primary", key="concern_send"):
    result = run(
        submit_concern,
        concern_in=ConcernCreate(
            category=category or "",
            what_happened=what,
            where_when=where,
            occurred_on=occurred_on if not isinstance(occurred_on, tuple) else None,
            people_involved=people,
            urgency=urgency or Urgency.medium.value,
            anonymous=anonymous,
            contact_name=name,
            contact_email=email,
            contact_phone=phone,
            exclude_reviewer_ids=list(exclude),
            answers=answers,
        ),
        evidence=[EvidenceFile(f.name, f.getvalue()) for f in uploads],
        visitor=visitor_id("concern"),
    )
    if not isinstance(result, Failed):
        st.session_state[RESULT_KEY] = result
        emptied: dict[str, object] = dict.fromkeys(
            ["concern_what", "concern_where", "concern_people", "concern_name"], ""
        )
        for question in questions:
            empty = None if question.kind == QuestionKind.date.value else ""
            emptied[f"concern_q_{question.id}"] = empty
        clear_next_run(emptied)
        st.session_state.pop("concern_files", None)  # an uploader cannot be set, only dropped
        st.rerun()
