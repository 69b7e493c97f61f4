"""Notifications, against a real SMTP server on loopback: reviewers are told of a new
concern and a reporter's reply without a word of either, excluded reviewers never are,
deadlines are announced once, and each person's choices and digest are honoured."""

from datetime import datetime, timedelta
from decimal import Decimal
from email.message import Message

import pytest
from sqlmodel import Session, select

from db.auth.accounts import deactivate_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.intake import reporter_reply, submit_concern
from db.cases.review import exclude_reviewer
from db.consent.requests import register_request
from db.core.deadlines import request_due
from db.core.errors import Conflict, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.integrations import notifications, worker
from db.integrations.mail import MailServer
from db.models.auth import Role, User
from db.models.cases import ConcernCreate
from db.models.consent import PrivacyRequestCreate, RequestKind
from db.models.integrations_events import DomainEvent, EmailStatus, Notification
from db.models.people import ContactCreate, TaskCreate
from db.models.pipeline import DealCreate
from db.people.contacts import create_contact
from db.people.interactions import create_task
from db.pipeline.commands import create_deal
from db.pipeline.setup import StageSpec, create_pipeline
from tests.helpers import make_user
from tests.smtp_sink import Mailbox, smtp_sink

MARKER = "words-only-the-reporter-wrote-91ab"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    monkeypatch.setenv("RAPPORT_PUBLIC_URL", "https://rapport.example.org")


@pytest.fixture
def reviewers(session: Session) -> dict[str, User]:
    return {
        "ann": make_user(session, "ann", Role.reviewer),
        "bob": make_user(session, "bob", Role.reviewer),
        "max": make_user(session, "max", Role.manager),
    }


def concern(**overrides: object) -> ConcernCreate:
    values: dict[str, object] = {
        "category": "bullying",
        "what_happened": f"My supervisor shouts at new staff. {MARKER}",
        "where_when": f"Ward 7, nights {MARKER}",
        "people_involved": f"The night supervisor {MARKER}",
        "anonymous": True,
    }
    values.update(overrides)
    return ConcernCreate.model_validate(values)


def run_worker(session: Session, port: int, now: datetime | None = None) -> None:
    """One pass of every job, with email going to the sink."""
    server = MailServer(host="127.0.0.1", port=port, sender="rapport@example.org")
    jobs = [
        job
        if job.name != "notifications"
        else worker.Job(
            "notifications",
            lambda s, at: notifications.send_emails(session=s, now=at, server=server).line(),
        )
        for job in worker.JOBS
    ]
    outcomes = worker.run_once(engine=session.get_bind(), now=now, jobs=jobs)  # type: ignore[arg-type]
    assert [o.state for o in outcomes] == ["ran"] * len(jobs), outcomes


def text_of(message: Message) -> str:
    return message.as_string()


def recipients(mailbox: Mailbox) -> list[str]:
    return sorted(str(m["To"]) for m in mailbox.messages)


def test_every_reviewer_is_emailed_when_a_concern_arrives_and_never_its_content(
    session: Session, reviewers: dict[str, User]
) -> None:
    submitted = submit_concern(
        session=session,
        concern_in=concern(
            anonymous=False, contact_name="Rosa Reporter", contact_email="rosa@example.org"
        ),
    )
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
    assert recipients(mailbox) == ["ann@example.org", "bob@example.org"]
    for message in mailbox.messages:
        text = text_of(message)
        assert MARKER not in text and "Rosa" not in text and "rosa@" not in text
        assert "Ward 7" not in text and "supervisor" not in text
        assert "A new concern arrived (Bullying or harassment)" in str(message["Subject"])
        assert f"https://rapport.example.org/case?case={submitted.reference}" in text
    shown = notifications.my_notifications(session=session, actor=reviewers["ann"])
    assert [(n.kind, n.page, n.query) for n in shown] == [
        ("new_concern", "pages/case.py", {"case": submitted.reference})
    ]
    assert shown[0].email == EmailStatus.sent
    # The manager is no reviewer: told nothing.
    assert notifications.my_notifications(session=session, actor=reviewers["max"]) == []
    # Every notification is kept as the record of what was sent.
    rows = session.exec(select(Notification)).all()
    assert {r.email_status for r in rows} == {EmailStatus.sent} and len(rows) == 2
    assert all(r.emailed_at is not None for r in rows)


def test_a_reviewer_the_reporter_left_out_is_never_told(
    session: Session, reviewers: dict[str, User]
) -> None:
    submit_concern(
        session=session, concern_in=concern(exclude_reviewer_ids=[reviewers["bob"].id or 0])
    )
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
    assert recipients(mailbox) == ["ann@example.org"]
    assert notifications.my_notifications(session=session, actor=reviewers["bob"]) == []


def test_a_reviewer_excluded_after_the_notice_was_made_gets_no_email_and_sees_nothing(
    session: Session, reviewers: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    events = worker.Job("events", worker.dispatch_events)
    worker.run_once(engine=session.get_bind(), jobs=[events])  # type: ignore[arg-type]
    assert len(session.exec(select(Notification)).all()) == 2  # made for both, not yet sent
    case_id = session.exec(select(DomainEvent.entity_id)).one()
    assert case_id is not None
    exclude_reviewer(
        session=session,
        actor=reviewers["ann"],
        case_id=case_id,
        user_id=reviewers["bob"].id or 0,
        reason="Conflict of interest",
    )
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
    assert recipients(mailbox) == ["ann@example.org"]
    assert notifications.my_notifications(session=session, actor=reviewers["bob"]) == []
    session.expire_all()
    bob_note = session.exec(
        select(Notification).where(Notification.user_id == reviewers["bob"].id)
    ).one()
    assert bob_note.email_status == EmailStatus.unsent
    assert bob_note.email_error == "No longer allowed to see it."
    assert submitted.reference not in (bob_note.email_error or "")


def test_a_reporters_reply_notifies_the_reviewers_without_its_words(
    session: Session, reviewers: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
        reporter_reply(
            session=session,
            reference=submitted.reference,
            receipt=submitted.receipt,
            text=f"It happened again last night. {MARKER}",
        )
        run_worker(session, port)
    replies = [m for m in mailbox.messages if "wrote on case" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in replies) == ["ann@example.org", "bob@example.org"]
    assert all(MARKER not in text_of(m) and "last night" not in text_of(m) for m in replies)


def test_case_deadlines_are_announced_two_days_ahead_and_when_passed_once_each(
    session: Session, reviewers: dict[str, User]
) -> None:
    now = utcnow()
    # Acknowledgement is due 7 days after receipt: one due in a day, one a day late.
    soon = submit_concern(session=session, concern_in=concern(), now=now - timedelta(days=6))
    late = submit_concern(session=session, concern_in=concern(), now=now - timedelta(days=8))
    with smtp_sink() as (port, mailbox):
        run_worker(session, port, now=now)
        run_worker(session, port, now=now + timedelta(minutes=5))
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages if "Case C-" in str(m["Subject"]))
    assert len(subjects) == 4, subjects  # two cases, two reviewers, once each
    assert any(f"Case {soon.reference}: the acknowledgement is due on" in s for s in subjects)
    assert any(f"Case {late.reference}: the acknowledgement was due on" in s for s in subjects)
    # The concerns themselves arrived 6 and 8 days ago: too old to announce as new.
    assert not any("A new concern" in str(m["Subject"]) for m in mailbox.messages)


def test_each_person_chooses_what_they_get_and_a_digest_comes_once_a_day(
    session: Session, reviewers: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bob = reviewers["ann"], reviewers["bob"]
    offered = notifications.get_preferences(session=session, actor=ann)
    assert offered.offered == ["new_concern", "reporter_reply", "case_deadline"]
    assert offered.kinds == offered.offered and not offered.digest
    notifications.set_preferences(
        session=session,
        actor=ann,
        kinds=["reporter_reply", "case_deadline"],
        digest=False,
        version=offered.version,
    )
    with pytest.raises(Conflict):  # a stale form does not overwrite a newer choice
        notifications.set_preferences(
            session=session, actor=ann, kinds=[], digest=False, version=offered.version
        )
    with pytest.raises(ValidationError):  # a reviewer is not offered the deal kinds
        notifications.set_preferences(
            session=session, actor=bob, kinds=["deal_assigned"], digest=False, version=0
        )
    notifications.set_preferences(
        session=session, actor=bob, kinds=offered.offered, digest=True, version=0
    )
    monkeypatch.setenv("RAPPORT_DIGEST_HOUR", "9")
    morning = (utcnow() - timedelta(days=1)).replace(hour=3, minute=0, second=0, microsecond=0)
    submit_concern(session=session, concern_in=concern(), now=morning - timedelta(minutes=30))
    submit_concern(session=session, concern_in=concern(), now=morning - timedelta(minutes=20))
    with smtp_sink() as (port, mailbox):
        run_worker(session, port, now=morning)
        assert mailbox.messages == []  # Ann turned new concerns off; Bob waits for 9:00
        assert notifications.my_notifications(session=session, actor=ann) == []
        assert len(notifications.my_notifications(session=session, actor=bob)) == 2
        run_worker(session, port, now=morning.replace(hour=9, minute=1))
        run_worker(session, port, now=morning.replace(hour=15))
    (digest,) = mailbox.messages
    assert digest["To"] == "bob@example.org"
    assert "2 notification(s) today" in str(digest["Subject"])
    assert text_of(digest).count("A new concern arrived") == 2
    assert MARKER not in text_of(digest)


def test_privacy_officers_hear_of_a_request_due_in_two_days_once(session: Session) -> None:
    seed_users(session=session)
    privacy = get_user_by_username(session=session, username="privacy")
    assert privacy is not None
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Dana", family_name="Doe"),
        actor=OPERATOR,
    )
    today = utcnow().date()
    # Due one calendar month after receipt: received a month ago, less a day or two.
    received = next(
        today - timedelta(days=back)
        for back in range(25, 35)
        if 0 <= (request_due(today - timedelta(days=back)) - today).days <= 2
    )
    request = register_request(
        session=session,
        request_in=PrivacyRequestCreate(
            kind=RequestKind.access, contact_id=contact.id or 0, received_on=received
        ),
        actor=privacy,
    )
    assert 0 <= (request.deadline - today).days <= 2, (received, request.deadline)
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
        run_worker(session, port)
    assert recipients(mailbox) == ["privacy@example.org"]
    assert f"Data-subject request #{request.id} (access) is due" in str(
        mailbox.messages[0]["Subject"]
    )
    kinds = [e.kind for e in session.exec(select(DomainEvent)).all()]
    assert kinds.count("privacy_request.due_soon") == 1


def test_a_deal_given_to_someone_and_a_task_coming_due_tell_their_owner(session: Session) -> None:
    seed_users(session=session)
    manager = get_user_by_username(session=session, username="manager")
    sales = get_user_by_username(session=session, username="sales")
    assert manager is not None and sales is not None
    pipeline = create_pipeline(
        session=session, name="New business", stages=[StageSpec("Lead", 10, 7)], actor=OPERATOR
    )
    deal = create_deal(
        session=session,
        deal_in=DealCreate(
            title="Care records",
            pipeline_id=pipeline.id or 0,
            amount=Decimal(500),
            owner_id=sales.id,
        ),
        actor=manager,
    )
    task = create_task(
        session=session,
        task_in=TaskCreate(
            title="Call back about the quote", due_on=utcnow().date() + timedelta(days=1)
        ),
        actor=sales,
    )
    with smtp_sink() as (port, mailbox):
        run_worker(session, port)
    subjects = sorted(str(m["Subject"]) for m in mailbox.messages)
    assert recipients(mailbox) == ["sales@example.org", "sales@example.org"]
    assert any(f"Deal #{deal.id} is now yours" in s for s in subjects)
    assert any(f"Your task #{task.id} is due on" in s for s in subjects)
    assert all("Call back" not in text_of(m) for m in mailbox.messages)


def test_without_a_mail_server_notifications_stay_on_home_and_say_why_no_email_went(
    session: Session, reviewers: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAPPORT_SMTP_HOST", raising=False)
    submit_concern(session=session, concern_in=concern())
    outcomes = worker.run_once(engine=session.get_bind())  # type: ignore[arg-type]
    assert [o.state for o in outcomes] == ["ran"] * len(worker.JOBS)
    session.expire_all()
    rows = session.exec(select(Notification)).all()
    assert {r.email_status for r in rows} == {EmailStatus.unsent}
    assert {r.email_error for r in rows} == {"Email is not configured (RAPPORT_SMTP_HOST)."}
    assert len(notifications.my_notifications(session=session, actor=reviewers["ann"])) == 1
    assert notifications.mark_all_read(session=session, actor=reviewers["ann"]) == 1
    assert not notifications.my_notifications(session=session, actor=reviewers["ann"])[0].unread


def test_a_refusing_mail_server_is_retried_then_given_up_and_a_deactivated_user_skipped(
    session: Session, reviewers: dict[str, User]
) -> None:
    deactivate_user(session=session, user_id=reviewers["bob"].id or 0, actor=OPERATOR)
    submit_concern(session=session, concern_in=concern())
    at = utcnow()
    with smtp_sink() as (port, mailbox):
        mailbox.fail_after = 0
        for _ in range(notifications.EMAIL_ATTEMPTS):
            run_worker(session, port, now=at)
            at += notifications.EMAIL_RETRY
    session.expire_all()
    (note,) = session.exec(select(Notification)).all()  # Bob was inactive: not told
    assert note.user_id == reviewers["ann"].id
    assert (note.email_status, note.email_attempts) == (EmailStatus.failed, 5)
    assert note.email_error and "451" in note.email_error
