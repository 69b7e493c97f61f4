"""The notification service: who is told what, on Home and by email.

Areas never call it directly: they record domain events (db/core/events.py) and the
worker turns each into notifications here, and scans for deadlines coming up. Each
person chooses the kinds they get and whether email comes at once or as one daily
digest. Every notification is kept, with when its email went (or why it did not).

What a notification says is written here, from identifiers: never the text of a
concern, a reply or anything else a person typed. Who may be told about a case is the
cases area's rule (`AUDIENCES["case"]`, filled by db/wiring.py); it is asked again when
the email goes and when Home shows the notification, so a reviewer excluded in between
is never told.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.events import event_data, record_event
from db.core.settings import get_settings
from db.core.types import utcnow
from db.integrations.mail import MailServer
from db.models.auth import Role, User, UserRole
from db.models.cases import Case, CaseCategory
from db.models.consent import PrivacyRequest, RequestStatus
from db.models.integrations_events import (
    DomainEvent,
    EmailStatus,
    Notification,
    NotificationPreference,
)
from db.models.people import Task

log = logging.getLogger("rapport.notifications")

STAFF = frozenset({Role.admin, Role.manager, Role.sales})


@dataclass(frozen=True)
class Kind:
    """A kind of notification a person can switch on or off."""

    label: str
    roles: frozenset[Role]


KINDS: dict[str, Kind] = {
    "new_concern": Kind("A new concern arrives", frozenset({Role.reviewer})),
    "reporter_reply": Kind("A reporter replies on a case", frozenset({Role.reviewer})),
    "case_deadline": Kind(
        "A case's acknowledgement or feedback is due in 2 days, or overdue",
        frozenset({Role.reviewer}),
    ),
    "request_deadline": Kind(
        "A data-subject request is due in 2 days, or overdue", frozenset({Role.privacy})
    ),
    "task_deadline": Kind("A task of yours is due in 2 days, or overdue", STAFF),
    "deal_assigned": Kind("Someone gives you a deal", STAFF),
}

# How far ahead a deadline is announced, and how far back a passed one still is.
AHEAD = timedelta(days=2)
PASSED_WITHIN = timedelta(days=7)
# Events older than this (a back-dated import, a demo world) notify nobody.
NOTIFY_WITHIN = timedelta(days=3)
EMAIL_ATTEMPTS = 5
EMAIL_RETRY = timedelta(minutes=10)
BATCH = 200

# Who may be told about an entity (the cases area's rule for "case"): user ids.
Audience = Callable[[Session, int], set[int]]
AUDIENCES: dict[str, Audience] = {}


def kinds_for(user: Actor) -> list[str]:
    """The kinds of notification that fit this person's roles."""
    return [key for key, kind in KINDS.items() if user.has_any(kind.roles)]


# --- preferences ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    """What one person gets: kinds switched on, and email at once or as a daily digest."""

    kinds: list[str]
    offered: list[str]
    digest: bool
    version: int


def _preference(session: Session, user_id: int) -> NotificationPreference | None:
    return session.get(NotificationPreference, user_id)


def _signed_in(actor: Actor, doing: str) -> int:
    if actor.id is None:
        raise Forbidden(f"Sign in to {doing}: notifications belong to a person.")
    return actor.id


def get_preferences(*, session: Session, actor: Actor) -> Preferences:
    """The signed-in person's notification settings (everyone)."""
    require_role(actor, *Role, doing="see notification settings")
    user_id = _signed_in(actor, "see notification settings")
    pref = _preference(session, user_id)
    offered = kinds_for(actor)
    muted = set(pref.muted.split()) if pref else set()
    return Preferences(
        kinds=[k for k in offered if k not in muted],
        offered=offered,
        digest=bool(pref and pref.digest),
        version=pref.version if pref else 0,
    )


def set_preferences(
    *, session: Session, actor: Actor, kinds: list[str], digest: bool, version: int
) -> Preferences:
    """Choose the kinds of notification one gets, and at once or as a digest (everyone)."""
    require_role(actor, *Role, doing="change notification settings")
    user_id = _signed_in(actor, "change notification settings")
    offered = kinds_for(actor)
    unknown = sorted(set(kinds) - set(offered))
    if unknown:
        raise ValidationError(
            f"Notifications: {', '.join(unknown)} is not offered to your roles.", field="kinds"
        )
    muted = " ".join(k for k in offered if k not in set(kinds))
    pref = _preference(session, user_id)
    if pref is None:
        if version != 0:
            raise Conflict("Your settings changed in another window; reload the page.")
        session.add(NotificationPreference(user_id=user_id, muted=muted, digest=digest))
    else:
        result = session.execute(
            update(NotificationPreference)
            .where(
                col(NotificationPreference.user_id) == user_id,
                col(NotificationPreference.version) == version,
            )
            .values(muted=muted, digest=digest, version=version + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise Conflict("Your settings changed in another window; reload the page.")
    record(
        session,
        actor,
        "notifications.settings",
        "app_user",
        entity_id=user_id,
        details={"muted": muted.split(), "digest": digest},
    )
    session.commit()
    session.expire_all()
    return get_preferences(session=session, actor=actor)


# --- what Home shows ------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A notification as Home lists it."""

    id: int
    kind: str
    title: str
    page: str
    query: dict[str, str]
    created_at: datetime
    unread: bool
    email: str


def split_link(link: str) -> tuple[str, dict[str, str]]:
    """`pages/deal.py?id=5` → ("pages/deal.py", {"id": "5"})."""
    parts = urlsplit(link or "app.py")
    return parts.path or "app.py", dict(parse_qsl(parts.query))


def _still_allowed(session: Session, note: Notification) -> bool:
    """Whether the person may still be told (an exclusion may have landed since)."""
    audience = AUDIENCES.get(note.entity)
    if audience is None or note.entity_id is None:
        return True
    return note.user_id in audience(session, note.entity_id)


def my_notifications(*, session: Session, actor: Actor, limit: int = 10) -> list[Shown]:
    """The signed-in person's latest notifications, newest first (everyone)."""
    require_role(actor, *Role, doing="see notifications")
    user_id = _signed_in(actor, "see notifications")
    rows = session.exec(
        select(Notification)
        .where(col(Notification.user_id) == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(min(max(limit, 1), 200) * 2)
    ).all()
    shown: list[Shown] = []
    for note in rows:
        if len(shown) >= limit or not _still_allowed(session, note):
            continue
        page, query = split_link(note.link)
        shown.append(
            Shown(
                id=note.id or 0,
                kind=note.kind,
                title=note.title,
                page=page,
                query=query,
                created_at=note.created_at,
                unread=note.read_at is None,
                email=note.email_status,
            )
        )
    return shown


def mark_all_read(*, session: Session, actor: Actor) -> int:
    """Mark every notification of the signed-in person read (everyone)."""
    require_role(actor, *Role, doing="mark notifications read")
    user_id = _signed_in(actor, "mark notifications read")
    result = session.execute(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- from events to notifications (the worker) ------------------------------------------


@dataclass(frozen=True)
class Notice:
    """What to tell whom about one event."""

    user_ids: set[int]
    kind: str
    title: str
    link: str
    entity: str = ""
    entity_id: int | None = None


def _active_with_role(session: Session, role: Role) -> set[int]:
    rows = session.exec(
        select(User.id)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(UserRole.role == role.value, col(User.is_active).is_(True))
    ).all()
    return {uid for uid in rows if uid is not None}


def _active(session: Session, user_id: int | None) -> set[int]:
    user = session.get(User, user_id) if user_id is not None else None
    return {user_id} if user is not None and user.is_active and user_id is not None else set()


def _case_audience(session: Session, case_id: int) -> set[int]:
    audience = AUDIENCES.get("case")
    return audience(session, case_id) if audience is not None else set()


def _case_notice(session: Session, event: DomainEvent, kind: str, title: str) -> list[Notice]:
    case = session.get(Case, event.entity_id) if event.entity_id is not None else None
    if case is None or case.purged_at is not None:
        return []
    return [
        Notice(
            _case_audience(session, case.id or 0),
            kind,
            title.format(reference=case.reference, **event_data(event)),
            f"pages/case.py?case={case.reference}",
            "case",
            case.id,
        )
    ]


def _concern_received(session: Session, event: DomainEvent) -> list[Notice]:
    category = session.get(CaseCategory, event_data(event).get("category", ""))
    label = category.label if category else "a category"
    # The category and the reference, which every reviewer sees in the queue; never
    # a word of what the reporter wrote.
    return _case_notice(
        session, event, "new_concern", f"A new concern arrived ({label}): case {{reference}}"
    )


def _reporter_replied(session: Session, event: DomainEvent) -> list[Notice]:
    return _case_notice(session, event, "reporter_reply", "The reporter wrote on case {reference}")


def _case_deadline(session: Session, event: DomainEvent) -> list[Notice]:
    passed = event.kind == "case.deadline_passed"
    title = (
        "Case {reference}: the {stage} was due on {due_on}"
        if passed
        else "Case {reference}: the {stage} is due on {due_on}"
    )
    return _case_notice(session, event, "case_deadline", title)


def _request_deadline(session: Session, event: DomainEvent) -> list[Notice]:
    data = event_data(event)
    verb = "was due" if event.kind == "privacy_request.overdue" else "is due"
    return [
        Notice(
            _active_with_role(session, Role.privacy),
            "request_deadline",
            f"Data-subject request #{event.entity_id} ({data.get('kind', '')}) {verb} "
            f"on {data.get('due_on', '')}",
            "pages/privacy_requests.py",
            "privacy_request",
            event.entity_id,
        )
    ]


def _task_deadline(session: Session, event: DomainEvent) -> list[Notice]:
    task = session.get(Task, event.entity_id) if event.entity_id is not None else None
    if task is None or task.done_at is not None:
        return []
    verb = "was due" if event.kind == "task.overdue" else "is due"
    link = f"pages/contact.py?id={task.contact_id}" if task.contact_id else "app.py"
    return [
        Notice(
            _active(session, task.owner_id),
            "task_deadline",
            f"Your task #{task.id} {verb} on {task.due_on:%d %b %Y}",
            link,
            "task",
            task.id,
        )
    ]


def _deal_assigned(session: Session, event: DomainEvent) -> list[Notice]:
    owner = event_data(event).get("owner_id")
    return [
        Notice(
            _active(session, owner if isinstance(owner, int) else None),
            "deal_assigned",
            f"Deal #{event.entity_id} is now yours",
            f"pages/deal.py?id={event.entity_id}",
            "deal",
            event.entity_id,
        )
    ]


NOTICES: dict[str, Callable[[Session, DomainEvent], list[Notice]]] = {
    "concern.received": _concern_received,
    "case.reporter_replied": _reporter_replied,
    "case.deadline_soon": _case_deadline,
    "case.deadline_passed": _case_deadline,
    "privacy_request.due_soon": _request_deadline,
    "privacy_request.overdue": _request_deadline,
    "task.due_soon": _task_deadline,
    "task.overdue": _task_deadline,
    "deal.assigned": _deal_assigned,
}


def notify_event(session: Session, event: DomainEvent, now: datetime) -> int:
    """Create the notifications an event calls for (the caller commits); returns how many."""
    describe = NOTICES.get(event.kind)
    if describe is None or now - event.occurred_at > NOTIFY_WITHIN:
        return 0
    made = 0
    for notice in describe(session, event):
        for user_id in sorted(notice.user_ids):
            pref = _preference(session, user_id)
            if pref is not None and notice.kind in pref.muted.split():
                continue
            session.add(
                Notification(
                    user_id=user_id,
                    kind=notice.kind,
                    title=notice.title[:200],
                    link=notice.link,
                    entity=notice.entity,
                    entity_id=notice.entity_id,
                    source_event_id=event.id,
                    created_at=now,
                    next_email_at=now,
                    email_status=EmailStatus.digest
                    if pref is not None and pref.digest
                    else EmailStatus.pending,
                )
            )
            made += 1
    return made


# --- deadlines coming up (the worker) ----------------------------------------------------


def scan_deadlines(*, session: Session, now: datetime | None = None) -> int:
    """Record an event, once each, for every deadline 2 days ahead or just passed:
    case acknowledgement and feedback, data-subject requests, tasks. Returns how many."""
    now = now or utcnow()
    found = 0
    cases = session.exec(
        select(Case).where(
            col(Case.sla_due_at).is_not(None),
            col(Case.sla_due_at) <= now + AHEAD,
            col(Case.sla_due_at) >= now - PASSED_WITHIN,
            col(Case.purged_at).is_(None),
        )
    ).all()
    for case in cases:
        assert case.sla_due_at is not None
        passed = case.sla_due_at < now
        kind = "case.deadline_passed" if passed else "case.deadline_soon"
        stage = "acknowledgement" if case.acknowledged_at is None else "feedback"
        due = case.sla_due_at
        if record_event(
            session=session,
            kind=kind,
            entity="case",
            entity_id=case.id,
            data={"stage": stage, "due_on": f"{due:%d %b %Y %H:%M} UTC"},
            once_key=f"{kind}:{case.id}:{stage}:{due:%Y%m%d%H%M}",
            at=now,
        ):
            found += 1
    today = now.date()
    requests = session.exec(
        select(PrivacyRequest).where(col(PrivacyRequest.status) == RequestStatus.open)
    ).all()
    for request in requests:
        deadline = request.deadline
        if not today - PASSED_WITHIN.days * timedelta(days=1) <= deadline <= today + AHEAD:
            continue
        kind = "privacy_request.overdue" if deadline < today else "privacy_request.due_soon"
        if record_event(
            session=session,
            kind=kind,
            entity="privacy_request",
            entity_id=request.id,
            data={"request_id": request.id, "kind": request.kind, "due_on": deadline.isoformat()},
            once_key=f"{kind}:{request.id}:{deadline.isoformat()}",
            at=now,
        ):
            found += 1
    tasks = session.exec(
        select(Task).where(
            col(Task.done_at).is_(None),
            col(Task.due_on) <= today + AHEAD,
            col(Task.due_on) >= today - timedelta(days=PASSED_WITHIN.days),
        )
    ).all()
    for task in tasks:
        kind = "task.overdue" if task.due_on < today else "task.due_soon"
        if record_event(
            session=session,
            kind=kind,
            entity="task",
            entity_id=task.id,
            data={"due_on": task.due_on.isoformat()},
            once_key=f"{kind}:{task.id}:{task.due_on.isoformat()}",
            at=now,
        ):
            found += 1
    session.commit()
    return found


# --- email (the worker) ----------------------------------------------------------------


def web_address(link: str) -> str:
    """The address of a page in the app, for an email (RAPPORT_PUBLIC_URL)."""
    page, query = split_link(link)
    base = get_settings().public_url.rstrip("/")
    name = "" if page == "app.py" else page.removeprefix("pages/").removesuffix(".py")
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{base}/{name}" + (f"?{suffix}" if suffix else "")


def _message(sender: str, user: User, notes: list[Notification], digest: bool) -> EmailMessage:
    organisation = get_settings().organisation_name
    message = EmailMessage()
    message["From"] = sender
    message["To"] = user.email
    if digest:
        message["Subject"] = f"{organisation}: {len(notes)} notification(s) today"
    else:
        message["Subject"] = f"{organisation}: {notes[0].title}"
    lines = [f"Hello {user.display_name},", ""]
    for note in notes:
        lines += [f"- {note.title}", f"  {web_address(note.link)}"]
    lines += [
        "",
        "Sign in to see the details; this email never carries what anyone wrote.",
        f"Choose what you are told on My account: {web_address('pages/account.py')}",
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


@dataclass
class EmailReport:
    """What one pass of the mailer did."""

    sent: int = 0
    unsent: int = 0
    failed: int = 0
    retrying: int = 0
    digests: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the worker's log."""
        return (
            f"{self.sent} sent, {self.digests} digest(s), {self.retrying} to retry, "
            f"{self.failed} failed, {self.unsent} not sent"
        )


def _unsent(session: Session, note: Notification, why: str) -> None:
    note.email_status = EmailStatus.unsent
    note.email_error = why
    session.add(note)
    session.commit()


def _claim(session: Session, note_id: int, now: datetime) -> bool:
    result = session.execute(
        update(Notification)
        .where(
            col(Notification.id) == note_id,
            col(Notification.email_status) == EmailStatus.pending,
            col(Notification.next_email_at) <= now,
        )
        .values(email_attempts=Notification.email_attempts + 1, next_email_at=now + EMAIL_RETRY)
    )
    session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _why_not(session: Session, note: Notification, user: User | None) -> str | None:
    """Why this notification must not be emailed now, if it must not."""
    if user is None or not user.is_active:
        return "The account is deactivated."
    if not user.email:
        return "The account has no email address."
    pref = _preference(session, user.id or 0)
    if pref is not None and note.kind in pref.muted.split():
        return "Turned off in the person's settings."
    if not _still_allowed(session, note):
        return "No longer allowed to see it."
    return None


def send_emails(
    *, session: Session, now: datetime | None = None, server: MailServer | None = None
) -> EmailReport:
    """Email each notification that waits to go at once, then the daily digests."""
    now = now or utcnow()
    report = EmailReport()
    mail = server or MailServer.from_env()
    due = session.exec(
        select(Notification.id)
        .where(
            col(Notification.email_status) == EmailStatus.pending,
            col(Notification.next_email_at) <= now,
        )
        .order_by(col(Notification.id))
        .limit(BATCH)
    ).all()
    connection: smtplib.SMTP | None = None
    opened = None
    try:
        for note_id in due:
            note = session.get(Notification, note_id, populate_existing=True)
            if note is None:
                continue
            user = session.get(User, note.user_id)
            why = _why_not(session, note, user)
            if why is None and mail is None:
                why = "Email is not configured (RAPPORT_SMTP_HOST)."
            if why is not None:
                _unsent(session, note, why)
                report.unsent += 1
                continue
            assert mail is not None and user is not None
            if not _claim(session, note.id or 0, now):
                continue
            session.refresh(note)
            try:
                if connection is None:
                    opened = mail.connect()
                    connection = opened.__enter__()
                connection.send_message(_message(mail.sender, user, [note], digest=False))
            except (OSError, smtplib.SMTPException) as err:
                connection = None
                opened = None
                note.email_error = f"{type(err).__name__}: {err}"[:300]
                if note.email_attempts >= EMAIL_ATTEMPTS:
                    note.email_status = EmailStatus.failed
                    report.failed += 1
                else:
                    note.email_status = EmailStatus.pending
                    report.retrying += 1
                session.add(note)
                session.commit()
                continue
            note.email_status = EmailStatus.sent
            note.emailed_at = now
            note.email_error = None
            session.add(note)
            session.commit()
            report.sent += 1
    finally:
        if opened is not None and connection is not None:
            try:
                opened.__exit__(None, None, None)
            except (OSError, smtplib.SMTPException):
                pass
    if mail is not None:
        report.digests = _send_digests(session, now, mail, report)
    return report


def _send_digests(session: Session, now: datetime, mail: MailServer, report: EmailReport) -> int:
    """One email a day to each person who chose the digest and has something waiting."""
    if now.hour < get_settings().digest_hour:
        return 0
    today: date = now.date()
    waiting = session.exec(
        select(NotificationPreference).where(
            col(NotificationPreference.digest).is_(True),
        )
    ).all()
    sent = 0
    for pref in waiting:
        if pref.last_digest_on == today:
            continue
        notes = list(
            session.exec(
                select(Notification)
                .where(
                    col(Notification.user_id) == pref.user_id,
                    col(Notification.email_status) == EmailStatus.digest,
                )
                .order_by(col(Notification.id))
            ).all()
        )
        if not notes:
            continue
        # Take the day's digest first, so a second worker does not send it too.
        claimed = session.execute(
            update(NotificationPreference)
            .where(
                col(NotificationPreference.user_id) == pref.user_id,
                (col(NotificationPreference.last_digest_on).is_(None))
                | (col(NotificationPreference.last_digest_on) != today),
            )
            .values(last_digest_on=today)
        )
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        user = session.get(User, pref.user_id)
        keep: list[Notification] = []
        for note in notes:
            why = _why_not(session, note, user)
            if why is None:
                keep.append(note)
            else:
                note.email_status = EmailStatus.unsent
                note.email_error = why
                session.add(note)
                report.unsent += 1
        session.commit()
        if not keep or user is None:
            continue
        try:
            with mail.connect() as connection:
                connection.send_message(_message(mail.sender, user, keep, digest=True))
        except (OSError, smtplib.SMTPException) as err:
            # Try again at the next pass: the day is given back.
            session.execute(
                update(NotificationPreference)
                .where(col(NotificationPreference.user_id) == pref.user_id)
                .values(last_digest_on=pref.last_digest_on)
            )
            session.commit()
            report.problems.append(f"digest for user {pref.user_id}: {err}")
            continue
        for note in keep:
            note.email_status = EmailStatus.sent
            note.emailed_at = now
            session.add(note)
        session.commit()
        sent += 1
    return sent
