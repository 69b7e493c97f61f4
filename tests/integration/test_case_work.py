"""A reviewer's day on every backend: explicit feedback, the queue's markers, filters,
search and saved views, assignment, evidence files and each category's questions."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.cases.actions import acknowledge, close_case, message_reporter
from db.cases.evidence import (
    MAX_FILE_BYTES,
    EvidenceFile,
    evidence_content,
    list_evidence,
)
from db.cases.intake import follow_up, reporter_reply, submit_concern
from db.cases.questions import category_questions, set_category_questions, stored_answers
from db.cases.retention import purge_cases
from db.cases.review import (
    QueueFilter,
    case_clock,
    delete_view,
    exclude_reviewer,
    list_queue,
    list_reviewers,
    list_views,
    open_case,
    save_view,
)
from db.cases.sla import ClockState
from db.core.errors import Forbidden, NotFound, ValidationError
from db.models.audit import AuditEvent
from db.models.auth import Role, User
from db.models.cases import Case, CaseAttachment, ConcernCreate, Outcome, QuestionKind
from tests.integration.test_cases import cheap_scrypt, make_user  # noqa: F401

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {
        "ann": make_user(session, "ann", Role.reviewer),
        "bob": make_user(session, "bob", Role.reviewer),
        "cat": make_user(session, "cat", Role.reviewer),
        "admin": make_user(session, "root", Role.admin),
    }


def raised(session: Session, text: str, **extra: object) -> Case:
    values: dict[str, object] = {"category": "bullying", "what_happened": text}
    values.update(extra)
    submitted = submit_concern(session=session, concern_in=ConcernCreate.model_validate(values))
    return session.exec(select(Case).where(Case.reference == submitted.reference)).one()


def jpeg(**exif_tags: str) -> bytes:
    image = Image.new("RGB", (20, 10), (10, 200, 10))
    exif = Image.Exif()
    for tag, value in exif_tags.items():
        exif[int(tag)] = value
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


# --- item 2: feedback is an explicit act ------------------------------------------------


def test_a_question_to_the_reporter_does_not_stop_the_feedback_clock_but_feedback_does(
    session: Session, people: dict[str, User]
) -> None:
    case = raised(session, "Shouting at handover.")
    assert case.id is not None
    ann = people["ann"]
    acknowledge(session=session, actor=ann, case_id=case.id, now=T0)
    message_reporter(
        session=session, actor=ann, case_id=case.id, text="Which week?", now=T0 + timedelta(days=2)
    )
    session.refresh(case)
    assert case.feedback_at is None and case.sla_due_at == datetime(2026, 4, 5, tzinfo=UTC)
    message_reporter(
        session=session,
        actor=ann,
        case_id=case.id,
        text="We have spoken to the supervisor.",
        feedback=True,
        now=T0 + timedelta(days=9),
    )
    session.refresh(case)
    assert case.feedback_at == T0 + timedelta(days=9) and case.sla_due_at is None
    # Years later the open case still says where its clock stands.
    clock = case_clock(session=session, case=case, now=T0 + timedelta(days=600))
    assert clock.state is ClockState.feedback_given and clock.due_at == case.feedback_at


def test_closing_is_feedback_and_the_reporter_reads_the_outcome(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(
        session=session, concern_in=ConcernCreate(category="bullying", what_happened="Rota.")
    )
    case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
    assert case.id is not None
    acknowledge(session=session, actor=people["ann"], case_id=case.id, now=T0)
    close_case(
        session=session,
        actor=people["ann"],
        case_id=case.id,
        outcome=Outcome.substantiated,
        reason="Supervisor retrained",
        message="What you told us was right; the rota is now published a month ahead.",
        now=T0 + timedelta(days=20),
    )
    session.refresh(case)
    assert case.feedback_at == T0 + timedelta(days=20)
    view = follow_up(session=session, reference=submitted.reference, receipt=submitted.receipt)
    whats = [e.what for e in view.entries]
    assert "The case was closed: substantiated" in whats
    assert "What you told us was right; the rota is now published a month ahead." in [
        e.body for e in view.entries
    ]
    assert "Supervisor retrained" not in [e.body for e in view.entries]


# --- item 9: the queue shows what needs doing ------------------------------------------


def test_the_queue_marks_a_reporters_reply_until_the_reviewer_opens_the_case(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(
        session=session, concern_in=ConcernCreate(category="bullying", what_happened="Rota.")
    )
    ann, bob = people["ann"], people["bob"]

    def unread(who: User) -> bool:
        rows = list_queue(session=session, actor=who, flt=QueueFilter())
        return next(r for r in rows if r.reference == submitted.reference).unread

    assert not unread(ann)  # a new concern shows as New, not as a reply
    reporter_reply(
        session=session, reference=submitted.reference, receipt=submitted.receipt, text="Again."
    )
    assert unread(ann) and unread(bob)
    open_case(session=session, actor=ann, reference=submitted.reference)
    assert not unread(ann) and unread(bob)
    only = list_queue(session=session, actor=bob, flt=QueueFilter(unread_only=True))
    assert [r.reference for r in only] == [submitted.reference]


def test_the_queue_filters_by_severity_and_assignee_and_searches_only_visible_cases(
    session: Session, people: dict[str, User]
) -> None:
    ann, bob = people["ann"], people["bob"]
    seen = raised(session, "Overtime sheets do not match the rota.", people_involved="Payroll")
    hidden = raised(
        session, "Overtime sheets signed by my manager.", exclude_reviewer_ids=[bob.id or 0]
    )
    other = raised(session, "Fire door propped open.")
    assert seen.id and other.id and hidden.id
    acknowledge(session=session, actor=ann, case_id=seen.id)

    def refs(who: User, **flt: object) -> set[str]:
        rows = list_queue(session=session, actor=who, flt=QueueFilter(**flt))  # type: ignore[arg-type]
        return {r.reference for r in rows}

    assert refs(bob, search="overtime") == {seen.reference}  # never the excluded one
    assert refs(ann, search="OVERTIME sheets") == {seen.reference, hidden.reference}
    assert refs(ann, search="payroll") == {seen.reference}
    assert refs(ann, search="50%_") == set()  # wildcards are searched for as text
    assert refs(ann, assignee_id=ann.id) == {seen.reference}
    assert other.reference in refs(ann, severities=("unset",))
    assert refs(ann, severities=("severe",)) == set()
    with pytest.raises(ValidationError, match="^Search:"):
        refs(ann, search="x" * 101)


def test_saved_views_belong_to_their_reviewer(session: Session, people: dict[str, User]) -> None:
    ann, bob = people["ann"], people["bob"]
    flt = QueueFilter(severities=("severe", "catastrophic"), unread_only=True, search="ward 7")
    made = save_view(session=session, actor=ann, name="Severe, unread", flt=flt)
    assert [(v.name, v.flt) for v in list_views(session=session, actor=ann)] == [
        ("Severe, unread", flt)
    ]
    assert list_views(session=session, actor=bob) == []
    with pytest.raises(NotFound):
        delete_view(session=session, actor=bob, view_id=made.id)
    save_view(session=session, actor=ann, name="Severe, unread", flt=QueueFilter())
    assert list_views(session=session, actor=ann)[0].flt == QueueFilter()
    delete_view(session=session, actor=ann, view_id=made.id)
    assert list_views(session=session, actor=ann) == []
    with pytest.raises(ValidationError, match="^View name:"):
        save_view(session=session, actor=ann, name="  ", flt=flt)


def test_assign_to_never_offers_an_excluded_reviewer(
    session: Session, people: dict[str, User]
) -> None:
    ann, bob = people["ann"], people["bob"]
    case = raised(session, "Bob's team falsifies audits.")
    assert case.id is not None
    exclude_reviewer(session=session, actor=ann, case_id=case.id, user_id=bob.id or 0, reason="x")
    offered = {u.username for u in list_reviewers(session=session, actor=ann, case_id=case.id)}
    assert "bob" not in offered and {"ann", "cat"} <= offered


# --- item 11: evidence files -------------------------------------------------------------


def test_evidence_is_stored_without_its_metadata_and_downloaded_with_an_audit_entry(
    session: Session, people: dict[str, User]
) -> None:
    photo = jpeg(**{"315": "Jane Okafor", "271": "PhoneMaker"})
    assert b"Jane Okafor" in photo
    submitted = submit_concern(
        session=session,
        concern_in=ConcernCreate(category="bullying", what_happened="See the photo."),
        evidence=[EvidenceFile("IMG_4031.jpg", photo)],
    )
    case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
    assert case.id is not None
    stored = session.exec(select(CaseAttachment)).all()
    assert [a.filename for a in stored] == ["photo-1.jpg"]
    assert b"Jane Okafor" not in stored[0].data and b"PhoneMaker" not in stored[0].data
    items = list_evidence(session=session, actor=people["ann"], case_id=case.id)
    assert [(i.filename, i.content_type) for i in items] == [("photo-1.jpg", "image/jpeg")]
    name, data = evidence_content(session=session, actor=people["ann"], attachment_id=items[0].id)
    assert name == "photo-1.jpg" and data == stored[0].data
    assert session.exec(
        select(AuditEvent).where(AuditEvent.action == "case.evidence_download")
    ).all()
    exclude_reviewer(
        session=session,
        actor=people["ann"],
        case_id=case.id,
        user_id=people["bob"].id or 0,
        reason="conflict",
    )
    with pytest.raises(NotFound):
        evidence_content(session=session, actor=people["bob"], attachment_id=items[0].id)
    with pytest.raises(Forbidden):
        evidence_content(session=session, actor=people["admin"], attachment_id=items[0].id)
    acknowledge(session=session, actor=people["ann"], case_id=case.id, now=T0)
    close_case(
        session=session,
        actor=people["ann"],
        case_id=case.id,
        outcome=Outcome.withdrawn,
        reason="Withdrawn",
        now=T0 + timedelta(days=1),
    )
    purge_cases(session=session, actor=OPERATOR, now=T0 + timedelta(days=3000), years=5)
    assert session.exec(select(CaseAttachment)).all() == []


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("notes.docx", b"PK\x03\x04 a word document", "not a file Rapport accepts"),
        ("page.html", b"<html><img src=http://evil.example/x></html>", "not a file"),
        ("empty.jpg", b"", "is empty"),
        ("big.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES, "larger than 5 MB"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really", "could not be read as an image"),
        ("broken.pdf", b"%PDF-1.4 nothing else", "could not be read as a PDF"),
    ],
)
def test_a_file_that_cannot_be_accepted_refuses_the_concern_and_saves_nothing(
    session: Session, name: str, data: bytes, why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        submit_concern(
            session=session,
            concern_in=ConcernCreate(category="bullying", what_happened="With a file."),
            evidence=[EvidenceFile(name, data)],
        )
    assert session.exec(select(Case)).all() == []


def test_a_reply_carries_at_most_three_files(session: Session) -> None:
    submitted = submit_concern(
        session=session, concern_in=ConcernCreate(category="bullying", what_happened="Rota.")
    )
    with pytest.raises(ValidationError, match="at most 3 files"):
        reporter_reply(
            session=session,
            reference=submitted.reference,
            receipt=submitted.receipt,
            text="Photos",
            evidence=[EvidenceFile(f"{n}.jpg", jpeg()) for n in range(4)],
        )


# --- item 12: questions per category -----------------------------------------------------


def test_a_category_asks_its_own_questions_and_the_answers_are_kept_as_asked(
    session: Session, people: dict[str, User]
) -> None:
    asked = category_questions(session=session, category="bullying")
    assert [q.prompt for q in asked] == ["When did it start?", "Did anyone else see or hear it?"]
    when, who = asked
    assert when.id and who.id
    case = raised(session, "Shouting.", answers={when.id: "2026-01-02", who.id: "Two porters"})
    assert json.loads(case.answers or "[]") == [
        {"question": "When did it start?", "answer": "2026-01-02"},
        {"question": "Did anyone else see or hear it?", "answer": "Two porters"},
    ]
    with pytest.raises(ValidationError, match="^When did it start\\?: give a date"):
        raised(session, "Shouting.", answers={when.id: "last spring"})
    with pytest.raises(ValidationError, match="^Questions:"):
        raised(session, "Shouting.", answers={9999: "?"})
    with pytest.raises(Forbidden):
        set_category_questions(
            session=session, actor=people["ann"], category="bullying", questions=[]
        )
    set_category_questions(
        session=session,
        actor=people["admin"],
        category="bullying",
        questions=[("Which team?", QuestionKind.text)],
    )
    assert [q.prompt for q in category_questions(session=session, category="bullying")] == [
        "Which team?"
    ]
    # The case keeps the questions it was asked.
    assert [a.question for a in stored_answers(case.answers)][0] == "When did it start?"
