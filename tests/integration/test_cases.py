"""Cases on every backend: intake, anonymity, throttling, exclusions, claims, retention."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from db.auth.actor import OPERATOR
from db.cases.actions import (
    acknowledge,
    add_note,
    close_case,
    message_reporter,
    reopen_case,
)
from db.cases.common import set_category_deadlines
from db.cases.insights import FEWER, backlog, category_figures, outcomes, volumes
from db.cases.intake import TooManyAttempts, follow_up, reporter_reply, submit_concern
from db.cases.retention import nearing_purge, purge_cases
from db.cases.review import (
    QueueFilter,
    claim_case,
    count_queue,
    exclude_reviewer,
    list_queue,
    open_case,
)
from db.cases.welfare import due_check_ins, log_check_in, open_welfare_case
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.types import utcnow
from db.models.audit import AuditEvent
from db.models.auth import Role, User
from db.models.cases import (
    Case,
    CaseEvent,
    CaseStatus,
    CheckIn,
    ConcernCreate,
    Outcome,
    WelfareCreate,
)
from tests.helpers import make_user

MARKER = "the-reporter-wrote-this-7c1f"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")


@pytest.fixture
def people(session: Session) -> dict[str, User]:
    return {
        "ann": make_user(session, "ann", Role.reviewer),
        "bob": make_user(session, "bob", Role.reviewer),
        "max": make_user(session, "max", Role.manager),
    }


def concern(**overrides: object) -> ConcernCreate:
    values: dict[str, object] = {
        "category": "bullying",
        "what_happened": f"My supervisor shouts at new staff. {MARKER}",
        "where_when": "Ward 7, nights",
        "people_involved": "The night supervisor",
        "urgency": "high",
        "anonymous": True,
    }
    values.update(overrides)
    return ConcernCreate.model_validate(values)


def case_of(session: Session, reference: str) -> Case:
    return session.exec(select(Case).where(Case.reference == reference)).one()


def test_an_anonymous_submission_leaves_no_trace_of_the_reporter_in_any_table(
    session: Session, people: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    before = {t.name: session.execute(sa_select(t)).all() for t in SQLModel.metadata.sorted_tables}
    with caplog.at_level(logging.DEBUG):
        submitted = submit_concern(session=session, concern_in=concern())
    assert MARKER not in caplog.text
    receipt_symbols = submitted.receipt.replace("-", "")
    suspicious = ("127.0.0.1", "Mozilla", "user_agent", "session", "cookie")
    for table in SQLModel.metadata.sorted_tables:
        columns = {c.name for c in table.columns}
        assert not columns & {"ip", "ip_address", "user_agent", "session_id", "cookie"}, table.name
        rows = session.execute(sa_select(table)).all()
        new_rows = [r for r in rows if r not in before[table.name]]
        for row in new_rows:
            text = " ".join(str(v) for v in row)
            assert submitted.receipt not in text and receipt_symbols not in text, table.name
            assert not any(s in text for s in suspicious), (table.name, text)
        if table.name == "audit_event":
            assert new_rows and all(r.actor_id is None for r in new_rows)
            assert all(r.actor_name == "anonymous" for r in new_rows)
            assert all(MARKER not in r.details for r in new_rows)
        if table.name == "case_event":
            assert [r.actor_id for r in new_rows] == [None]
        if table.name == "auth_session":
            assert new_rows == []
    case = case_of(session, submitted.reference)
    assert case.anonymous
    assert (case.contact_name, case.contact_email, case.contact_phone, case.contact_id) == (
        None,
        None,
        None,
        None,
    )


def test_an_anonymous_case_drops_contact_details_the_form_sent_anyway(session: Session) -> None:
    submitted = submit_concern(
        session=session, concern_in=concern(contact_name="Sam", contact_email="sam@example.org")
    )
    case = case_of(session, submitted.reference)
    assert case.contact_name is None and case.contact_email is None


def test_a_named_concern_needs_a_name_and_a_way_to_reach_the_reporter(session: Session) -> None:
    with pytest.raises(ValidationError) as err:
        submit_concern(session=session, concern_in=concern(anonymous=False, contact_name="Sam"))
    assert err.value.field == "contact_email"
    with pytest.raises(ValidationError, match="^What happened:"):
        submit_concern(session=session, concern_in=concern(what_happened="   "))
    with pytest.raises(ValidationError, match="^Category:"):
        submit_concern(session=session, concern_in=concern(category="nonsense"))
    submitted = submit_concern(
        session=session,
        concern_in=concern(anonymous=False, contact_name="Sam", contact_email="sam@example.org"),
    )
    assert case_of(session, submitted.reference).contact_email == "sam@example.org"
    assert session.exec(select(Case)).all().__len__() == 1, "refusals saved nothing"


def test_the_reporter_reads_the_reply_but_never_internal_notes(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    case = case_of(session, submitted.reference)
    assert case.id is not None
    acknowledge(session=session, actor=people["ann"], case_id=case.id, message="Thanks, received.")
    add_note(session=session, actor=people["ann"], case_id=case.id, text="Secret internal note")
    message_reporter(
        session=session, actor=people["ann"], case_id=case.id, text="Can you say more?"
    )
    view = follow_up(session=session, reference=submitted.reference, receipt=submitted.receipt)
    bodies = [e.body for e in view.entries if e.body]
    assert bodies == ["Thanks, received.", "Can you say more?"]
    assert view.status == "Acknowledged"
    assert all(e.who in {"You", "Case team"} for e in view.entries)
    reporter_reply(
        session=session, reference=submitted.reference, receipt=submitted.receipt, text="Nights."
    )
    detail = open_case(session=session, actor=people["ann"], reference=submitted.reference)
    assert detail.events[-1].body == "Nights." and detail.events[-1].actor_id is None


def test_wrong_receipts_are_throttled_after_five_per_browser_session_and_hour(
    session: Session,
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    now = utcnow().replace(minute=10)
    for _ in range(5):
        with pytest.raises(NotFound):
            follow_up(
                session=session,
                reference=submitted.reference,
                receipt="WRONG",
                now=now,
                visitor="guesser",
            )
    # That session is refused before anything is checked, even the right code...
    with pytest.raises(TooManyAttempts, match="wait|try again after"):
        follow_up(
            session=session,
            reference=submitted.reference,
            receipt=submitted.receipt,
            now=now,
            visitor="guesser",
        )
    # ...while the reporter's own session is not touched by the guesser's failures.
    follow_up(
        session=session,
        reference=submitted.reference,
        receipt=submitted.receipt,
        now=now,
        visitor="reporter",
    )
    # The next hour, the guessing session may try again.
    follow_up(
        session=session,
        reference=submitted.reference,
        receipt=submitted.receipt,
        now=now + timedelta(hours=1),
        visitor="guesser",
    )


def test_an_unknown_reference_gets_the_same_answer_as_a_wrong_code(session: Session) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    with pytest.raises(NotFound) as unknown:
        follow_up(session=session, reference="C-NOSUCH", receipt=submitted.receipt)
    with pytest.raises(NotFound) as wrong:
        follow_up(session=session, reference=submitted.reference, receipt="AAAA-BBBB")
    assert str(unknown.value) == str(wrong.value)


def test_an_excluded_reviewer_neither_sees_nor_opens_the_case(
    session: Session, people: dict[str, User]
) -> None:
    ann, bob = people["ann"], people["bob"]
    assert bob.id is not None
    named = submit_concern(session=session, concern_in=concern(exclude_reviewer_ids=[bob.id]))
    other = submit_concern(session=session, concern_in=concern())
    bob_sees = {r.reference for r in list_queue(session=session, actor=bob, flt=QueueFilter())}
    assert bob_sees == {other.reference}
    assert count_queue(session=session, actor=bob, flt=QueueFilter()) == 1
    with pytest.raises(NotFound):
        open_case(session=session, actor=bob, reference=named.reference)
    case = case_of(session, named.reference)
    assert case.id is not None
    with pytest.raises(NotFound):
        claim_case(session=session, actor=bob, case_id=case.id)
    # Another reviewer excludes Ann from the second case: she loses it at once.
    other_case = case_of(session, other.reference)
    assert other_case.id is not None and ann.id is not None
    claim_case(session=session, actor=ann, case_id=other_case.id)
    exclude_reviewer(
        session=session, actor=bob, case_id=other_case.id, user_id=ann.id, reason="Line manager"
    )
    assert list_queue(session=session, actor=ann, flt=QueueFilter(statuses=())) != []
    assert other.reference not in {
        r.reference for r in list_queue(session=session, actor=ann, flt=QueueFilter())
    }
    with pytest.raises(NotFound):
        open_case(session=session, actor=ann, reference=other.reference)
    assert case_of(session, other.reference).assignee_id is None


def test_the_reporter_cannot_exclude_every_reviewer(
    session: Session, people: dict[str, User]
) -> None:
    ids = [u.id for u in (people["ann"], people["bob"])]
    with pytest.raises(ValidationError, match="at least one reviewer"):
        submit_concern(session=session, concern_in=concern(exclude_reviewer_ids=ids))


@pytest.mark.parametrize("role", [Role.manager, Role.admin, Role.hr, Role.sales, Role.privacy])
def test_only_reviewers_reach_case_content(session: Session, role: Role) -> None:
    outsider = make_user(session, f"u{role.value}", role)
    submitted = submit_concern(session=session, concern_in=concern())
    with pytest.raises(Forbidden):
        open_case(session=session, actor=outsider, reference=submitted.reference)
    with pytest.raises(Forbidden):
        list_queue(session=session, actor=outsider, flt=QueueFilter())


def test_every_open_of_a_case_is_in_the_audit_log(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    for _ in range(2):
        open_case(session=session, actor=people["ann"], reference=submitted.reference)
    opens = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == "case.open", AuditEvent.entity_id == submitted.reference
        )
    ).all()
    assert [e.actor_name for e in opens] == ["ann", "ann"]


def test_a_second_claim_loses_and_names_the_winner(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    case = case_of(session, submitted.reference)
    assert case.id is not None
    claim_case(session=session, actor=people["ann"], case_id=case.id)
    with pytest.raises(Conflict, match="claimed by Ann"):
        claim_case(session=session, actor=people["bob"], case_id=case.id)
    assigned = session.exec(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "assigned")
    ).all()
    assert len(assigned) == 1


def test_closing_and_reopening_restart_the_feedback_clock(
    session: Session, people: dict[str, User]
) -> None:
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    submitted = submit_concern(session=session, concern_in=concern(), now=t0)
    case = case_of(session, submitted.reference)
    assert case.id is not None and case.sla_due_at == t0 + timedelta(days=7)
    ann = people["ann"]
    acknowledge(session=session, actor=ann, case_id=case.id, now=t0 + timedelta(days=1))
    assert case_of(session, submitted.reference).sla_due_at == datetime(2026, 4, 6, tzinfo=UTC)
    message_reporter(
        session=session,
        actor=ann,
        case_id=case.id,
        text="Update",
        feedback=True,
        now=t0 + timedelta(days=9),
    )
    assert case_of(session, submitted.reference).sla_due_at is None
    close_case(
        session=session,
        actor=ann,
        case_id=case.id,
        outcome=Outcome.substantiated,
        reason="Done",
        now=t0 + timedelta(days=20),
    )
    with pytest.raises(ValidationError, match="^Reason:"):
        reopen_case(session=session, actor=ann, case_id=case.id, reason=" ")
    reopened = reopen_case(
        session=session,
        actor=ann,
        case_id=case.id,
        reason="New facts",
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    assert reopened.status == CaseStatus.under_review.value
    assert reopened.sla_due_at == datetime(2026, 6, 1, tzinfo=UTC)


def test_insights_withhold_any_figure_from_fewer_than_three_cases(
    session: Session, people: dict[str, User]
) -> None:
    t0 = datetime(2026, 3, 10, tzinfo=UTC)
    for n in range(3):
        submit_concern(
            session=session, concern_in=concern(category="bullying"), now=t0 + timedelta(hours=n)
        )
    for n in range(2):
        submit_concern(
            session=session, concern_in=concern(category="misconduct"), now=t0 + timedelta(hours=n)
        )
    # A third small category: with misconduct alone withheld beside bullying, the month's
    # total across categories minus bullying would give misconduct, so bullying would be
    # withheld too (the rule runs across categories as well).
    submit_concern(session=session, concern_in=concern(category="other"), now=t0)
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    manager = people["max"]
    cells = {
        c.category: c for c in volumes(session=session, actor=manager, since=since, until=until)
    }
    bullying = cells["Bullying or harassment"]
    assert (bullying.count, bullying.period) == (3, "2026-03")
    # A withheld category is withheld in every period, empty ones included, so that a
    # withheld cell does not say that it holds a case.
    for granularity, labels in (
        ("quarter", [f"2026-Q{q}" for q in range(1, 5)]),
        ("year", ["2026"]),
    ):
        grouped = volumes(
            session=session, actor=manager, since=since, until=until, granularity=granularity
        )
        assert {(c.period, c.category, c.count) for c in grouped} == {
            (labels[0], "Bullying or harassment", 3),
            *((label, "Misconduct", None) for label in labels),
            *((label, "Other", None) for label in labels),
        }
    assert cells["Misconduct"].count is None and cells["Misconduct"].shown == FEWER
    figures = {
        f.category: f
        for f in category_figures(session=session, actor=manager, since=since, until=until)
    }
    assert figures["Misconduct"].cases is None and figures["Misconduct"].days_to_acknowledge is None
    assert figures["Bullying or harassment"].cases == 3
    buckets = backlog(session=session, actor=manager, now=t0 + timedelta(days=1))
    assert [b.shown for b in buckets] == ["6", "0", "0", "0"]
    assert outcomes(session=session, actor=manager, since=since, until=until) == []
    outsider = make_user(session, "hana", Role.hr)
    with pytest.raises(Forbidden):
        volumes(session=session, actor=outsider, since=since, until=until)


def test_purge_erases_old_content_and_keeps_a_tombstone(
    session: Session, people: dict[str, User]
) -> None:
    ann = people["ann"]
    old = datetime(2019, 1, 10, tzinfo=UTC)
    submitted = submit_concern(session=session, concern_in=concern(), now=old)
    case = case_of(session, submitted.reference)
    assert case.id is not None
    acknowledge(session=session, actor=ann, case_id=case.id, now=old + timedelta(days=1))
    close_case(
        session=session,
        actor=ann,
        case_id=case.id,
        outcome=Outcome.resolved_informally,
        reason="Resolved",
        now=old + timedelta(days=30),
    )
    recent = submit_concern(session=session, concern_in=concern())
    # Closed on 2019-02-09: erased from 2024-02-09, with a warning 30 days before.
    assert nearing_purge(session=session, actor=ann, now=datetime(2024, 1, 1, tzinfo=UTC)) == 0
    assert nearing_purge(session=session, actor=ann, now=datetime(2024, 1, 20, tzinfo=UTC)) == 1
    now = datetime(2024, 2, 10, tzinfo=UTC)
    with pytest.raises(Forbidden):
        purge_cases(session=session, actor=ann, now=now)
    report = purge_cases(session=session, actor=OPERATOR, now=now, years=5)
    assert report.purged == 1
    session.expire_all()
    tomb = case_of(session, submitted.reference)
    assert tomb.purged_at == now and tomb.what_happened is None
    assert (tomb.category, tomb.outcome, tomb.received_at) == (
        "bullying",
        "resolved_informally",
        old,
    )
    assert session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all() == []
    assert case_of(session, recent.reference).what_happened is not None
    # The reporter is told what happened to their case, not that their code is wrong.
    with pytest.raises(NotFound, match="erased under the retention rules"):
        follow_up(session=session, reference=submitted.reference, receipt=submitted.receipt)
    with pytest.raises(NotFound, match="do not match"):
        follow_up(session=session, reference=submitted.reference, receipt="AAAA-BBBB-CCCC-DDDD")


def test_welfare_check_ins_come_due_and_are_logged_once(
    session: Session, people: dict[str, User]
) -> None:
    ann, bob = people["ann"], people["bob"]
    today = utcnow().date()
    case = open_welfare_case(
        session=session,
        actor=ann,
        welfare_in=WelfareCreate(
            person_name="Jamie Okafor",
            reason="Self-isolating",
            first_check_in=today,
            every_days=7,
            check_ins=3,
        ),
    )
    due = due_check_ins(session=session, actor=ann, today=today)
    assert [(d.reference, d.person) for d in due] == [(case.reference, "Jamie Okafor")]
    log_check_in(session=session, actor=bob, check_in_id=due[0].check_in_id, outcome="Coping well")
    with pytest.raises(Conflict):
        log_check_in(session=session, actor=ann, check_in_id=due[0].check_in_id, outcome="Again")
    assert due_check_ins(session=session, actor=ann, today=today) == []
    assert len(session.exec(select(CheckIn).where(col(CheckIn.done_at).is_(None))).all()) == 2
    detail = open_case(session=session, actor=ann, reference=case.reference)
    assert detail.events[-1].kind == "check_in" and "Coping well" in (detail.events[-1].body or "")


def test_a_change_on_a_stale_copy_names_who_changed_the_case(
    session: Session, people: dict[str, User]
) -> None:
    submitted = submit_concern(session=session, concern_in=concern())
    case = case_of(session, submitted.reference)
    assert case.id is not None
    stale = case.version
    acknowledge(session=session, actor=people["ann"], case_id=case.id, version=stale)
    with pytest.raises(Conflict, match=r"changed by Ann at .* — reload"):
        close_case(
            session=session,
            actor=people["bob"],
            case_id=case.id,
            outcome=Outcome.withdrawn,
            reason="Withdrawn",
            version=stale,
        )


def test_an_admin_sets_a_categorys_deadlines_and_new_cases_follow_them(
    session: Session, people: dict[str, User]
) -> None:
    with pytest.raises(Forbidden):
        set_category_deadlines(
            session=session, actor=people["ann"], key="safeguarding", ack_days=2, feedback_months=1
        )
    with pytest.raises(ValidationError, match="^Acknowledge within:"):
        set_category_deadlines(
            session=session, actor=OPERATOR, key="safeguarding", ack_days=0, feedback_months=1
        )
    set_category_deadlines(
        session=session, actor=OPERATOR, key="safeguarding", ack_days=2, feedback_months=1
    )
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    submitted = submit_concern(session=session, concern_in=concern(category="safeguarding"), now=t0)
    case = case_of(session, submitted.reference)
    assert case.ack_due_at == t0 + timedelta(days=2)
    assert case.id is not None
    acknowledge(session=session, actor=people["ann"], case_id=case.id, now=t0)
    assert case_of(session, submitted.reference).sla_due_at == datetime(2026, 6, 1, tzinfo=UTC)
