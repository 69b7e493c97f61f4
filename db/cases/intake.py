"""Raising a concern and following it up: intake, receipt codes, throttling.

Nothing here learns who the reporter is. The functions take no request, address,
cookie or account, the audit entries they write carry no text the reporter typed,
and the receipt code is kept only as a slow salted scrypt hash.
"""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from db.auth.audit import record
from db.cases.common import (
    SHORT_TEXT_MAX,
    TEXT_MAX,
    append_event,
    case_settings,
    clean_text,
    get_category,
    policy_for,
    refresh_deadlines,
)
from db.cases.evidence import EvidenceFile, clean_all, store_evidence
from db.cases.questions import clean_answers
from db.cases.sla import ack_due
from db.core.errors import DomainError, NotFound, ValidationError
from db.core.events import record_event
from db.core.limits import (
    PublicForm,
    check_allowance,
    hour_of,
    note_submission,
    used_by_everyone,
    used_by_session,
)
from db.core.normalise import EMAIL_MAX, PHONE_MAX
from db.core.types import utcnow
from db.models.auth import Role, User, UserRole
from db.models.cases import (
    OUTCOME_LABELS,
    REPORTER_VISIBLE,
    STATUS_LABELS,
    Case,
    CaseEvent,
    CaseExclusion,
    CaseKind,
    CaseStatus,
    ConcernCreate,
    EventKind,
    Outcome,
    Urgency,
)

# 32 symbols without 0/O and 1/I: 5 bits each, 20 symbols = 100 bits.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_GROUPS = 5
RECEIPT_GROUP_SIZE = 4
REFERENCE_PREFIX = "C-"
REFERENCE_LENGTH = 6
# What a person may type to name a case: the reference, with or without its prefix,
# spaces or dashes; and a receipt code in groups, with spaces.
REFERENCE_INPUT_MAX = 20
RECEIPT_INPUT_MAX = 60
CONTACT_NAME_MAX = 120
# Wrong receipt codes one browser session may enter in a clock hour, and wrong codes
# from everyone together in a minute beyond which a wrong code leaves a session one more.
FREE_ATTEMPTS = 5
GLOBAL_FAILURES_PER_MINUTE = 30
NOT_RECOGNISED = "That reference and receipt code do not match a case. Check both and try again."
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TooManyAttempts(DomainError):
    """Too many wrong receipt codes from this browser session: wait before trying again."""


@dataclass(frozen=True)
class Submitted:
    """What the reporter must keep: shown once, never stored in readable form."""

    reference: str
    receipt: str


@dataclass(frozen=True)
class ReporterEntry:
    """One line of the timeline as the reporter sees it."""

    occurred_at: datetime
    who: str
    what: str
    body: str | None


@dataclass(frozen=True)
class ReporterView:
    """The follow-up page's view of a case: status and the shared conversation."""

    reference: str
    category: str
    status: str
    received_at: datetime
    closed: bool
    entries: list[ReporterEntry]


# --- receipt codes ------------------------------------------------------------------


def generate_receipt() -> str:
    """A fresh receipt code: 5 groups of 4 symbols, 100 bits from `secrets`."""
    symbols = [secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_GROUPS * RECEIPT_GROUP_SIZE)]
    groups = [
        "".join(symbols[i : i + RECEIPT_GROUP_SIZE])
        for i in range(0, len(symbols), RECEIPT_GROUP_SIZE)
    ]
    return "-".join(groups)


def normalise_receipt(code: str) -> str:
    """The code as typed, reduced to its symbols: spaces, dashes and case do not matter."""
    return re.sub(r"[\s\-]", "", code.upper())


def _scrypt(code: str, salt: bytes, log2n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        normalise_receipt(code).encode("ascii", "replace"),
        salt=salt,
        n=2**log2n,
        r=r,
        p=p,
        maxmem=256 * 1024 * 1024,
        dklen=32,
    )


def hash_receipt(code: str, *, log2n: int | None = None) -> str:
    """A salted scrypt hash of the code, with its parameters, for storage."""
    log2n, r, p = log2n or case_settings().receipt_log2n, 8, 1
    salt = secrets.token_bytes(16)
    digest = _scrypt(code, salt, log2n, r, p)
    b64 = base64.b64encode
    return f"scrypt${log2n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def check_receipt(code: str, stored: str) -> bool:
    """True when `code` hashes to `stored` (compared in constant time)."""
    try:
        scheme, log2n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(code, base64.b64decode(salt), int(log2n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


# --- intake -------------------------------------------------------------------------


def normalise_reference(text: str | None) -> str:
    """A reference as typed or found in an address, in the form references are stored.

    Case does not matter and the prefix may be left out; anything that cannot be part
    of a reference (spaces, NUL, punctuation, a long string) gives a reference no case
    has, so a hostile address reads like a case one cannot open.
    """
    raw = (text or "").strip().upper()[:REFERENCE_INPUT_MAX]
    if not raw:
        return ""
    symbols = raw.removeprefix(REFERENCE_PREFIX)
    if not all(c.isascii() and c.isalnum() for c in symbols):
        return REFERENCE_PREFIX + "?"
    return REFERENCE_PREFIX + symbols


def new_reference(*, session: Session) -> str:
    """A short unused case reference (not a secret: the receipt is)."""
    while True:
        ref = REFERENCE_PREFIX + "".join(
            secrets.choice(RECEIPT_ALPHABET) for _ in range(REFERENCE_LENGTH)
        )
        if session.exec(select(Case.id).where(Case.reference == ref)).first() is None:
            return ref


def reviewers_to_exclude(*, session: Session) -> list[tuple[int, str]]:
    """Active case reviewers by name, for the reporter's optional exclusion list."""
    query = (
        select(User.id, User.display_name)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(UserRole.role == Role.reviewer.value, col(User.is_active).is_(True))
        .order_by(col(User.display_name))
    )
    return [(int(uid), name) for uid, name in session.exec(query).all() if uid is not None]


def _validate_concern(concern_in: ConcernCreate, now: datetime) -> dict[str, object]:
    what = clean_text(
        concern_in.what_happened,
        label="What happened",
        field="what_happened",
        limit=TEXT_MAX,
        required=True,
    )
    where = clean_text(
        concern_in.where_when,
        label="Where and when",
        field="where_when",
        limit=SHORT_TEXT_MAX,
        required=False,
    )
    people = clean_text(
        concern_in.people_involved,
        label="People involved",
        field="people_involved",
        limit=SHORT_TEXT_MAX,
        required=False,
    )
    if concern_in.urgency not in {u.value for u in Urgency}:
        raise ValidationError("How urgent: choose low, medium or high.", field="urgency")
    if concern_in.occurred_on is not None and concern_in.occurred_on > now.date():
        raise ValidationError("Date: the date cannot be in the future.", field="occurred_on")
    values: dict[str, object] = {
        "what_happened": what,
        "where_when": where,
        "people_involved": people,
        "occurred_on": concern_in.occurred_on,
        "urgency": concern_in.urgency,
        "anonymous": concern_in.anonymous,
    }
    if concern_in.anonymous:
        # Whatever the form sent, an anonymous case keeps no contact details.
        values.update(contact_name=None, contact_email=None, contact_phone=None)
        return values
    name = clean_text(
        concern_in.contact_name,
        label="Your name",
        field="contact_name",
        limit=CONTACT_NAME_MAX,
        required=True,
    )
    email = (concern_in.contact_email or "").strip() or None
    phone = (concern_in.contact_phone or "").strip() or None
    if email is None and phone is None:
        raise ValidationError(
            "Email or phone: give at least one way to reach you, or choose to stay anonymous.",
            field="contact_email",
        )
    if email is not None and (not EMAIL_PATTERN.match(email) or len(email) > EMAIL_MAX):
        raise ValidationError(
            "Email: enter an address like name@example.org.", field="contact_email"
        )
    if phone is not None and len(phone) > PHONE_MAX:
        raise ValidationError(f"Phone: use at most {PHONE_MAX} characters.", field="contact_phone")
    values.update(contact_name=name, contact_email=email, contact_phone=phone)
    return values


def submit_concern(
    *,
    session: Session,
    concern_in: ConcernCreate,
    evidence: list[EvidenceFile] | None = None,
    now: datetime | None = None,
    receipt_log2n: int | None = None,
    visitor: str | None = None,
) -> Submitted:
    """Record a concern from anyone (no account); returns the reference and receipt once.

    `evidence` files are cleaned of their metadata before anything is stored, and a file
    that cannot be accepted refuses the whole concern (nothing is saved, the form keeps
    what was typed). `receipt_log2n` overrides the scrypt cost; only the demo seeder
    lowers it, for receipts it throws away at once. `visitor` (the public page's browser
    session) puts the submission under the public forms' rate limits.
    """
    now = now or utcnow()
    if visitor is not None:
        check_allowance(session=session, form=PublicForm.concern, visitor=visitor, now=now)
    category = get_category(session=session, key=concern_in.category)
    values = _validate_concern(concern_in, now)
    values["answers"] = clean_answers(
        session=session, category=category.key, answers=concern_in.answers, today=now.date()
    )
    files = clean_all(list(evidence or []))
    allowed = {uid for uid, _ in reviewers_to_exclude(session=session)}
    excluded = set(concern_in.exclude_reviewer_ids)
    if not excluded <= allowed:
        raise ValidationError(
            "Reviewers to leave out: choose only from the listed reviewers.", field="exclude"
        )
    if allowed and excluded == allowed:
        raise ValidationError(
            "Reviewers to leave out: leave at least one reviewer who can read your concern.",
            field="exclude",
        )
    receipt = generate_receipt()
    case = Case(
        reference=new_reference(session=session),
        kind=CaseKind.concern.value,
        category=category.key,
        received_at=now,
        ack_due_at=ack_due(now, policy_for(session=session, category=category.key)),
        last_activity_at=now,
        receipt_hash=hash_receipt(receipt, log2n=receipt_log2n),
        **values,  # type: ignore[arg-type]
    )
    refresh_deadlines(session=session, case=case)
    session.add(case)
    session.flush()
    append_event(session, case, EventKind.received, None, now)
    store_evidence(session=session, case=case, files=files, at=now)
    for user_id in sorted(excluded):
        assert case.id is not None
        session.add(
            CaseExclusion(case_id=case.id, user_id=user_id, by_reporter=True, created_at=now)
        )
    # The audit entry says that a concern arrived, never what it says or who sent it.
    record(
        session,
        None,
        "case.received",
        "case",
        entity_id=case.reference,
        details={
            "category": category.key,
            "anonymous": case.anonymous,
            "evidence": len(files),
        },
    )
    # Only that a concern arrived, and its category: never its content or its reporter.
    record_event(
        session=session,
        kind="concern.received",
        entity="case",
        entity_id=case.id,
        data={"category": category.key},
        at=now,
    )
    if visitor is not None:
        note_submission(session=session, form=PublicForm.concern, visitor=visitor, now=now)
    session.commit()
    return Submitted(reference=case.reference, receipt=receipt)


# --- follow-up ----------------------------------------------------------------------


def _dummy_hash(log2n: int) -> str:
    """A stored-hash look-alike no code matches: checking it costs one scrypt run, as a real one."""
    b64 = base64.b64encode
    salt, digest = b64(secrets.token_bytes(16)).decode(), b64(secrets.token_bytes(32)).decode()
    return f"scrypt${log2n}$8$1${salt}${digest}"


def _receipt_gate(*, session: Session, visitor: str | None, now: datetime) -> int:
    """Refuse a browser session that has been wrong too often, before any case is looked up.

    Returns how many wrong codes the session has entered this hour. Only the session's
    own wrong codes count against it, so nobody can lock a reporter out: a stranger's
    guesses use up the stranger's allowance, never the reporter's. The words do not
    depend on the reference, which is not even read yet.
    """
    if visitor is None:
        return 0
    mine = used_by_session(
        session=session,
        form=PublicForm.receipt_failure,
        visitor=visitor,
        now=now,
        up_to=FREE_ATTEMPTS,
    )
    if mine >= FREE_ATTEMPTS:
        next_hour = hour_of(now) + timedelta(hours=1)
        raise TooManyAttempts(
            "Too many wrong receipt codes were entered in this browser this hour: try "
            f"again after {next_hour:%H:%M} UTC. Nothing was checked."
        )
    return mine


def _note_receipt_failure(*, session: Session, visitor: str, mine: int, now: datetime) -> None:
    """Count a wrong code against its browser session, and against everyone's minute.

    While many wrong codes arrive from everyone together, a wrong code leaves the
    session one more try this hour: guessing from many sessions then gets two tries per
    session, and a reporter who mistypes still has one, so the right code opens the
    case whatever others are doing.
    """
    flood = (
        used_by_everyone(session=session, form=PublicForm.receipt_failure, now=now)
        >= GLOBAL_FAILURES_PER_MINUTE
    )
    note_submission(
        session=session,
        form=PublicForm.receipt_failure,
        visitor=visitor,
        now=now,
        session_weight=FREE_ATTEMPTS - mine - 1 if flood else 1,
        up_to=FREE_ATTEMPTS,
    )


def _case_for_reporter(
    *, session: Session, reference: str, receipt: str, now: datetime, visitor: str | None
) -> Case:
    mine = _receipt_gate(session=session, visitor=visitor, now=now)
    ref = reference.strip().upper()
    if "\x00" in ref:
        ref = ""  # no reference holds NUL (nor could PostgreSQL compare one): unknown
    if ref and not ref.startswith(REFERENCE_PREFIX):
        ref = REFERENCE_PREFIX + ref
    case = session.exec(
        select(Case).where(Case.reference == ref, col(Case.kind) == CaseKind.concern.value)
    ).first()
    # Exactly one scrypt run whether or not the reference exists, at the cost new
    # receipts are stored with, so the time taken does not tell which references exist.
    stored = case.receipt_hash if case is not None and case.receipt_hash else None
    if check_receipt(receipt, stored or _dummy_hash(case_settings().receipt_log2n)):
        assert case is not None
        return case
    # The same reads and writes for a known and an unknown reference: the session's
    # counter and one audit entry, which names the case only when there is one.
    if visitor is not None:
        _note_receipt_failure(session=session, visitor=visitor, mine=mine, now=now)
    record(
        session,
        None,
        "case.receipt_failure",
        "case",
        entity_id=case.reference if stored and case is not None else None,
    )
    session.commit()
    raise NotFound(NOT_RECOGNISED)


def _reporter_view(*, session: Session, case: Case) -> ReporterView:
    from db.cases.common import category_labels

    events = session.exec(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            col(CaseEvent.kind).in_([k.value for k in REPORTER_VISIBLE]),
        )
        .order_by(col(CaseEvent.occurred_at), col(CaseEvent.id))
    ).all()
    what = {
        EventKind.received.value: "Your concern was received",
        EventKind.acknowledged.value: "The case team acknowledged your concern",
        EventKind.message_to_reporter.value: "Message from the case team",
        EventKind.message_from_reporter.value: "You wrote",
        EventKind.closed.value: "The case was closed",
        EventKind.reopened.value: "The case was reopened",
    }
    entries = [
        ReporterEntry(
            occurred_at=e.occurred_at,
            who="You" if e.actor_id is None else "Case team",
            # The closing outcome is the reporter's feedback too: they are told it.
            what=f"{what[e.kind]}: {OUTCOME_LABELS[Outcome(e.outcome)].lower()}"
            if e.kind == EventKind.closed and e.outcome
            else what[e.kind],
            # Internal reasons stay internal; only messages are shared.
            body=e.body
            if e.kind in {EventKind.message_to_reporter, EventKind.message_from_reporter}
            else None,
        )
        for e in events
    ]
    return ReporterView(
        reference=case.reference,
        category=category_labels(session=session).get(case.category, case.category),
        status=STATUS_LABELS[CaseStatus(case.status)],
        received_at=case.received_at,
        closed=case.status == CaseStatus.closed.value,
        entries=entries,
    )


def follow_up(
    *,
    session: Session,
    reference: str,
    receipt: str,
    now: datetime | None = None,
    visitor: str | None = None,
) -> ReporterView:
    """What the reporter may see of their case, given its reference and receipt code.

    `visitor` (the public page's browser session) puts wrong codes under the session's
    and everyone's limits.
    """
    now = now or utcnow()
    case = _case_for_reporter(
        session=session, reference=reference, receipt=receipt, now=now, visitor=visitor
    )
    if case.purged_at is not None:
        raise NotFound(
            "This case has been closed and its content erased under the retention rules."
        )
    return _reporter_view(session=session, case=case)


def reporter_reply(
    *,
    session: Session,
    reference: str,
    receipt: str,
    text: str,
    evidence: list[EvidenceFile] | None = None,
    now: datetime | None = None,
    visitor: str | None = None,
) -> ReporterView:
    """Add a message or more information (and evidence files) from the reporter."""
    now = now or utcnow()
    body = clean_text(text, label="Your message", field="message", limit=TEXT_MAX, required=True)
    files = clean_all(list(evidence or []))
    if visitor is not None:
        check_allowance(session=session, form=PublicForm.reporter_reply, visitor=visitor, now=now)
    case = _case_for_reporter(
        session=session, reference=reference, receipt=receipt, now=now, visitor=visitor
    )
    if case.purged_at is not None:
        raise NotFound(
            "This case has been closed and its content erased under the retention rules."
        )
    append_event(session, case, EventKind.message_from_reporter, None, now, body=body)
    store_evidence(session=session, case=case, files=files, at=now)
    case.reporter_at = now
    case.version += 1
    session.add(case)
    record(
        session,
        None,
        "case.reporter_message",
        "case",
        entity_id=case.reference,
        details={"evidence": len(files)},
    )
    record_event(
        session=session, kind="case.reporter_replied", entity="case", entity_id=case.id, at=now
    )
    if visitor is not None:
        note_submission(session=session, form=PublicForm.reporter_reply, visitor=visitor, now=now)
    session.commit()
    return _reporter_view(session=session, case=case)
