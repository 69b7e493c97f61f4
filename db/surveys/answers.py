"""Answering through a personal link (public: no account, nobody is looked up by name).

Submission marks the invitation answered with one conditional UPDATE, committed on its
own, so two submissions racing on one link cannot both succeed. The answers are not
written in that transaction: they are held, and written later in shuffled batches of at
least the survey's threshold, in transactions that touch no invitation. So no
transaction id (PostgreSQL's xmin), commit order (a WAL file), key or time pairs a
response with the invitation it came from. What a response keeps about its author is
generalised until at least the threshold of the survey's invitees share it. Used links
stay (as hashes) only so that a second visit can be told the link was already used.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select, update
from sqlmodel import Session, col

from db.auth.actor import Actor, require_role
from db.core.errors import DomainError, ValidationError
from db.core.limits import PublicForm, check_allowance, note_submission
from db.core.types import utcnow
from db.models.auth import Role
from db.models.people import Contact
from db.models.surveys import (
    AudienceKind,
    Employee,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyLink,
    SurveyQuestion,
    SurveyResponse,
)
from db.surveys.builder import list_questions
from db.surveys.employees import tenure_band
from db.surveys.held import (
    Held,
    accepts_answers,
    engine_of,
    flush_held_answers,
    forget_commit_order,
    pool_of,
)
from db.surveys.tallies import tally_survey
from db.surveys.tokens import hash_token
from db.surveys.voice import respondent_cuts

MAX_TEXT = 4000
# The code at the end of an invitation link, as pasted.
TOKEN_MAX = 200
UNKNOWN_LINK = (
    "This link is not recognised. Check that you copied the whole link from your email; "
    "if it still fails, ask HR for a new one."
)
USED_LINK = "This link has already been used: thank you, your answers are in. Each link works once."


class LinkProblem(DomainError):
    """The link cannot be used (unknown, used or closed); the message says which."""


@dataclass(frozen=True)
class Questionnaire:
    """What the answering page shows."""

    survey_id: int
    title: str
    closes_on: date
    min_group: int
    questions: list[SurveyQuestion]
    # What is stored with the answers, in the respondent's words (see `what_is_stored`).
    stored: str = ""


def named(survey: Survey) -> bool:
    """True when the survey keeps each answer with the person who gave it."""
    return survey.audience_kind == AudienceKind.contacts.value and not survey.anonymous


def what_is_stored(survey: Survey) -> str:
    """Exactly what this survey keeps with an answer, for the person answering it.

    Follows `_respondent`: a non-anonymous contact survey keeps the contact and the
    exact time; every other survey keeps groups (generalised until at least the
    threshold of those invited share them) and the day, never a name or the link.
    """
    k = survey.min_group
    if named(survey):
        return (
            "This survey is not anonymous: your answers are stored with your name (your "
            "contact record) and the exact date and time you send them, and they show on "
            "your record to the staff who look after it. Totals are reported only for "
            f"groups of {k} or more."
        )
    if survey.audience_kind == AudienceKind.contacts.value:
        groups = "the kind of contact you are, your organisation and your region"
    else:
        groups = "your department, team, length of service and location"
    return (
        f"Your answers are stored without your name or your link, with {groups} — each "
        f"made broader (or left out) until at least {k} of the people asked share it — and "
        f"the day you answer, not the time. Results are shown only for groups of {k} or "
        "more."
    )


def _find(session: Session, token: str) -> tuple[SurveyInvitation, Survey]:
    token = (token or "").strip()
    if not token or len(token) > TOKEN_MAX:
        raise LinkProblem(UNKNOWN_LINK)
    link = session.get(SurveyLink, hash_token(token))
    invitation = session.get(SurveyInvitation, link.invitation_id) if link else None
    if invitation is None:
        raise LinkProblem(UNKNOWN_LINK)
    if invitation.answered:
        raise LinkProblem(USED_LINK)
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    if not accepts_answers(survey, date.today()):
        if date.today() < survey.opens_on:
            raise LinkProblem(f"This survey opens on {survey.opens_on:%d %B %Y}; come back then.")
        raise LinkProblem("This survey is closed and no longer takes answers. Thank you anyway.")
    return invitation, survey


def open_link(*, session: Session, token: str) -> Questionnaire:
    """The questionnaire behind a link, or LinkProblem saying why it cannot be used."""
    # A later visit is the moment to write answers that have waited long enough.
    flush_held_answers(session=session, due_only=True)
    _invitation, survey = _find(session, token)
    assert survey.id is not None
    return Questionnaire(
        survey_id=survey.id,
        title=survey.title,
        closes_on=survey.closes_on,
        min_group=survey.min_group,
        questions=list_questions(session=session, survey_id=survey.id),
        stored=what_is_stored(survey),
    )


def validate_answers(
    questions: list[SurveyQuestion], answers: dict[int, int | str | None]
) -> dict[int, int | str]:
    """Check every answer against its question; name the first question to fix."""
    clean: dict[int, int | str] = {}
    for number, question in enumerate(questions, start=1):
        assert question.id is not None
        value = answers.get(question.id)
        if isinstance(value, str):
            value = value.strip() or None
        if value is None:
            if question.required:
                raise ValidationError(
                    f"Question {number}: please answer “{question.text}”.", field=str(question.id)
                )
            continue
        kind = QuestionKind(question.kind)
        if kind in (QuestionKind.agree5, QuestionKind.scale10):
            low, high = (1, 5) if kind == QuestionKind.agree5 else (0, 10)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValidationError(
                    f"Question {number}: choose a value from {low} to {high}.",
                    field=str(question.id),
                )
        elif kind == QuestionKind.choice:
            options = (question.choices or "").split("\n")
            if value not in options:
                raise ValidationError(
                    f"Question {number}: choose one of the options.", field=str(question.id)
                )
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            raise ValidationError(
                f"Question {number}: keep your comment under {MAX_TEXT} characters.",
                field=str(question.id),
            )
        clean[question.id] = value
    return clean


# What a response may say about its author, most general first: the line manager is
# given up first, then location, then the tenure band, then the team, then the department.
CUTS = ("department", "team", "tenure_band", "location", "manager")
# Stored in place of an attribute given up: "not stated" to every report.
NOT_STATED = "not stated"


def generalise(people: Iterable[tuple[str, ...]], k: int) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Map each combination of cuts to the one stored, so every stored one covers ≥ k people.

    Top down over `CUTS`: within a group of at least k people, a value shared by at least
    k of them is kept and its people are split further; the others keep only the group's
    values ("not stated" below). When those others are fewer than k, the smallest kept
    values join them until they are not, so nobody is left in a class smaller than k.
    The rule is deterministic: anyone who re-runs it on the directory finds classes of
    at least k, never one person. Only a whole audience smaller than k is smaller.
    """
    mapping: dict[tuple[str, ...], tuple[str, ...]] = {}
    counts = Counter(tuple(p) for p in people)
    width = len(next(iter(counts), ()))

    def split(prefix: tuple[str, ...], members: Counter[tuple[str, ...]], depth: int) -> None:
        if depth == width:
            for combo in members:
                mapping[combo] = prefix
            return
        by_value: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
        for combo, n in members.items():
            by_value[combo[depth]][combo] += n
        sizes = {value: sum(c.values()) for value, c in by_value.items()}
        kept = {value for value, n in sizes.items() if n >= k}
        rest = sum(n for value, n in sizes.items() if value not in kept)
        while 0 < rest < k and kept:
            smallest = min(kept, key=lambda value: (sizes[value], value))
            kept.remove(smallest)
            rest += sizes[smallest]
        unstated = prefix + (NOT_STATED,) * (width - depth)
        for value, group in sorted(by_value.items()):
            if value in kept:
                split(prefix + (value,), group, depth + 1)
            else:
                for combo in group:
                    mapping[combo] = unstated

    split((), counts, 0)
    return mapping


def _directory(session: Session, survey: Survey) -> list[tuple[int, tuple[str, ...]]]:
    """Every invitee of the survey with their cuts as they stand now (tenure at opening)."""
    if survey.audience_kind == AudienceKind.contacts.value:
        contact_rows = session.execute(
            select(
                col(SurveyInvitation.id),
                col(SurveyInvitation.department),
                col(SurveyInvitation.team),
                col(Contact.region),
            )
            .join(Contact, col(Contact.id) == col(SurveyInvitation.contact_id))
            .where(col(SurveyInvitation.survey_id) == survey.id)
        ).all()
        return [(int(i), (d, t, "", (r or "")[:80], "")) for i, d, t, r in contact_rows]
    rows = session.execute(
        select(
            col(SurveyInvitation.id),
            col(Employee.department),
            col(Employee.team),
            col(Employee.start_date),
            col(Employee.location),
            col(Employee.manager_email),
        )
        .join(Employee, col(Employee.id) == col(SurveyInvitation.employee_id))
        .where(col(SurveyInvitation.survey_id) == survey.id)
    ).all()
    # Tenure as of the day the survey opened, so the classes do not move day by day.
    return [
        (int(i), (d, t, tenure_band(s, survey.opens_on), lo, m or "")) for i, d, t, s, lo, m in rows
    ]


def stored_cuts(*, session: Session, survey: Survey, invitation_id: int) -> dict[str, str]:
    """The cuts a response from this invitation keeps: generalised over the invitees."""
    directory = _directory(session, survey)
    mapping = generalise((combo for _id, combo in directory), survey.min_group)
    mine = next(combo for i, combo in directory if i == invitation_id)
    return dict(zip(CUTS, mapping[mine], strict=True))


def submit_answers(
    *,
    session: Session,
    token: str,
    answers: dict[int, int | str | None],
    visitor: str | None = None,
) -> None:
    """Take one anonymous response for a link; the link cannot be used again.

    The link is spent at once; the answers are written with others in a later batch
    (see the module's docstring). `visitor` (the public page's browser session) puts it
    under the public forms' rate limits.
    """
    if visitor is not None:
        check_allowance(session=session, form=PublicForm.survey_answer, visitor=visitor)
    invitation, survey = _find(session, token)
    questions = list_questions(session=session, survey_id=invitation.survey_id)
    clean = validate_answers(questions, answers)
    who = _respondent(session, survey, invitation, date.today())
    _claim(session, invitation)
    if visitor is not None:
        note_submission(session=session, form=PublicForm.survey_answer, visitor=visitor)
    # This commit spends the link and nothing else: no answer, no audit entry.
    session.commit()
    forget_commit_order(session)
    _keep(session, survey, who, questions, clean, date.today(), hold=True)
    flush_held_answers(session=session, due_only=True)


def import_response(
    *,
    session: Session,
    invitation_id: int,
    answers: dict[int, int | str | None],
    submitted_on: date,
    actor: Actor,
) -> None:
    """Load a response gathered outside Rapport (a paper or earlier wave) for an invitation (HR)."""
    require_role(actor, Role.hr, doing="import survey responses")
    invitation = session.get(SurveyInvitation, invitation_id)
    if invitation is None:
        raise LinkProblem(UNKNOWN_LINK)
    questions = list_questions(session=session, survey_id=invitation.survey_id)
    clean = validate_answers(questions, answers)
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    # HR names the invitation here, so holding would hide nothing from HR; the response
    # is still written in a transaction of its own, apart from the invitation's.
    _claim_and_store(session, survey, invitation, questions, clean, submitted_on)


def _respondent(
    session: Session, survey: Survey, invitation: SurveyInvitation, on: date
) -> dict[str, object]:
    """The columns a response keeps about who answered: generalised cuts, unless named."""
    assert invitation.id is not None
    if invitation.contact_id is not None and not survey.anonymous:
        contact = session.get(Contact, invitation.contact_id)
        assert contact is not None
        kind, organisation, region = respondent_cuts(session, contact)
        return {
            "department": kind,
            "team": organisation,
            "location": region,
            "tenure_band": "",
            # Only a survey declared non-anonymous ties the answer to the contact.
            "contact_id": contact.id,
            # An imported (earlier) answer is placed at noon of its day.
            "submitted_at": (
                utcnow() if on >= utcnow().date() else datetime.combine(on, time(12), tzinfo=UTC)
            ),
        }
    return dict(stored_cuts(session=session, survey=survey, invitation_id=invitation.id))


def _claim(session: Session, invitation: SurveyInvitation) -> None:
    """Spend the invitation's link (not committed); LinkProblem if it was spent already."""
    claimed = session.execute(
        update(SurveyInvitation)
        .where(col(SurveyInvitation.id) == invitation.id, col(SurveyInvitation.answered).is_(False))
        .values(answered=True)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise LinkProblem(USED_LINK)
    if session.get_bind().dialect.name == "postgresql":
        # Every row an UPDATE writes carries the transaction's id (xmin). Writing the
        # survey's other invitations too, unchanged, gives them all this id, so the ids
        # never tell whose link was spent when, nor order them against answer batches.
        session.execute(
            update(SurveyInvitation)
            .where(
                col(SurveyInvitation.survey_id) == invitation.survey_id,
                col(SurveyInvitation.id) != invitation.id,
            )
            .values(answered=SurveyInvitation.answered)
        )


def _claim_and_store(
    session: Session,
    survey: Survey,
    invitation: SurveyInvitation,
    questions: list[SurveyQuestion],
    clean: dict[int, int | str],
    on: date,
) -> None:
    """Spend the link in one transaction, then write the response in another."""
    who = _respondent(session, survey, invitation, on)
    _claim(session, invitation)
    session.commit()
    forget_commit_order(session)
    _keep(session, survey, who, questions, clean, on, hold=False)


def _keep(
    session: Session,
    survey: Survey,
    who: dict[str, object],
    questions: list[SurveyQuestion],
    clean: dict[int, int | str],
    on: date,
    *,
    hold: bool,
) -> None:
    """Hold an anonymous response for its batch, or write it now (named or imported)."""
    text_kinds = (QuestionKind.text.value, QuestionKind.choice.value)
    kinds = {q.id: q.kind for q in questions}
    values = tuple(
        (qid, None, str(v)) if kinds[qid] in text_kinds else (qid, int(v), None)
        for qid, v in clean.items()
    )
    assert survey.id is not None
    if hold and "contact_id" not in who:
        pool = pool_of(engine_of(session))
        with pool.lock:
            pool.held.setdefault(survey.id, []).append(
                Held(survey.id, survey.created_at, {k: str(v) for k, v in who.items()}, values)
            )
            pool.since.setdefault(survey.id, utcnow())
        return
    response = SurveyResponse(
        id=uuid.uuid4().hex,
        survey_id=survey.id,
        submitted_on=on,
        **who,  # type: ignore[arg-type]
    )
    session.add(response)
    session.flush()  # the answers' foreign key needs the response row first
    for question_id, value, text in values:
        session.add(
            SurveyAnswer(response_id=response.id, question_id=question_id, value=value, text=text)
        )
    if survey.tallied:
        # A closed survey's tallies stand for its answers: recompute them with this one.
        session.flush()
        tally_survey(session=session, survey=survey)
    session.commit()


def questions_by_section(questions: list[SurveyQuestion]) -> list[tuple[str, list[SurveyQuestion]]]:
    """Questions grouped into their sections, in order."""
    sections: list[tuple[str, list[SurveyQuestion]]] = []
    for question in questions:
        if not sections or sections[-1][0] != question.section:
            sections.append((question.section, []))
        sections[-1][1].append(question)
    return sections
