"""Each category's own intake questions, and the reporter's answers to them.

A category can ask a few questions of its own (when it started, where, who else saw it).
The answers are stored with the case as structured data, each with the question as it
was asked, so changing a category's questions later does not change what a reporter
was asked. Answering is optional, like the rest of the form beyond "What happened".
"""

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.cases.common import SHORT_TEXT_MAX, clean_text, ensure_categories, get_category
from db.core.errors import ValidationError
from db.models.auth import Role
from db.models.cases import CaseQuestion, QuestionKind

PROMPT_MAX = 200
QUESTIONS_MAX = 6


@dataclass(frozen=True)
class Answer:
    """One question and what the reporter answered."""

    question: str
    answer: str


def category_questions(*, session: Session, category: str) -> list[CaseQuestion]:
    """The active questions of a category, in order (public: the intake form asks them)."""
    ensure_categories(session=session)
    return list(
        session.exec(
            select(CaseQuestion)
            .where(col(CaseQuestion.category) == category, col(CaseQuestion.active).is_(True))
            .order_by(col(CaseQuestion.position), col(CaseQuestion.id))
        ).all()
    )


def clean_answers(
    *, session: Session, category: str, answers: dict[int, str], today: date
) -> str | None:
    """The answers as stored (JSON, with each question's wording), or None if none given.

    Refuses an answer to a question the category does not ask, a date that is not a date
    or is in the future, and an answer that is too long, naming the question.
    """
    asked = {q.id: q for q in category_questions(session=session, category=category)}
    kept: list[dict[str, str]] = []
    for question_id, value in answers.items():
        question = asked.get(question_id)
        if question is None:
            raise ValidationError(
                "Questions: answer only the questions this category asks.", field="answers"
            )
        text = clean_text(
            value,
            label=question.prompt,
            field=f"answer_{question_id}",
            limit=SHORT_TEXT_MAX,
            required=False,
        )
        if text is None:
            continue
        if question.kind == QuestionKind.date.value:
            try:
                day = date.fromisoformat(text)
            except ValueError as err:
                raise ValidationError(
                    f"{question.prompt}: give a date as YYYY-MM-DD.", field=f"answer_{question_id}"
                ) from err
            if day > today:
                raise ValidationError(
                    f"{question.prompt}: the date cannot be in the future.",
                    field=f"answer_{question_id}",
                )
        kept.append({"question": question.prompt, "answer": text})
    return json.dumps(kept, ensure_ascii=False) if kept else None


def stored_answers(raw: str | None) -> list[Answer]:
    """The answers kept with a case, for the reviewer."""
    if not raw:
        return []
    return [Answer(str(a["question"]), str(a["answer"])) for a in json.loads(raw)]


def set_category_questions(
    *,
    session: Session,
    actor: Actor,
    category: str,
    questions: list[tuple[str, QuestionKind]],
) -> list[CaseQuestion]:
    """Replace a category's intake questions (admin); cases keep what they were asked."""
    require_role(actor, Role.admin, doing="change a category's questions")
    found = get_category(session=session, key=category)
    if len(questions) > QUESTIONS_MAX:
        raise ValidationError(
            f"Questions: ask at most {QUESTIONS_MAX}; a short form gets answered.",
            field="questions",
        )
    prompts = []
    for prompt, kind in questions:
        text = clean_text(
            prompt, label="Question", field="questions", limit=PROMPT_MAX, required=True
        )
        assert text is not None
        prompts.append((text, QuestionKind(kind)))
    for old in session.exec(
        select(CaseQuestion).where(
            col(CaseQuestion.category) == found.key, col(CaseQuestion.active).is_(True)
        )
    ).all():
        old.active = False  # kept: the id of an answer given before still names it
        session.add(old)
    made = [
        CaseQuestion(category=found.key, position=n, prompt=text, kind=kind.value)
        for n, (text, kind) in enumerate(prompts)
    ]
    session.add_all(made)
    record(
        session,
        actor,
        "case.category_questions",
        "case_category",
        entity_id=found.key,
        details={"questions": len(made)},
    )
    session.commit()
    return made
