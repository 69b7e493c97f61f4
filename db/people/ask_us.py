"""Ask us: a member of the public asks a question and says how they want the answer.

The question becomes an inbound interaction on the person's timeline (on the channel
they want the answer on, so responsiveness and "calls not returned" count it until
someone answers there) and a task for the team that owns them, or for the configured
team (RAPPORT_ASK_US_TEAM) when they are new. An existing contact is matched by email or
phone; the page answers the same either way, so it never tells whether we knew them.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.audit import record
from db.auth.visibility import require_reader
from db.core.errors import ValidationError
from db.core.limits import PublicForm, check_allowance, note_submission
from db.core.normalise import clean_text, normalise_email, normalise_phone
from db.core.settings import get_settings
from db.core.types import utcnow
from db.models.auth import Role, User, UserRole
from db.models.people import (
    Channel,
    Contact,
    ContactKind,
    Direction,
    Interaction,
    Purpose,
    Task,
)
from db.people.contacts import CONTACT_CHECKS

QUESTION_MAX = 5000
NAME_MAX = 200
WHEN_MAX = 200
ADDRESS_MAX = 400
# How the person wants the answer, and the interaction channel it is logged on.
ANSWER_CHANNELS: dict[str, Channel] = {
    "Email": Channel.email,
    "Phone call": Channel.phone,
    "Text message": Channel.sms,
    "Post": Channel.letter,
}
TASK_PREFIX = "Answer a question from the Ask us page"


@dataclass(frozen=True)
class AskIn:
    """What the Ask us form sends."""

    question: str
    name: str
    answer_by: str
    email: str = ""
    phone: str = ""
    address: str = ""
    reachable: str = ""


def _live(*conditions: Any) -> Any:
    return select(Contact).where(
        or_(*conditions),
        col(Contact.merged_into_id).is_(None),
        col(Contact.erased_at).is_(None),
    )


def _match(session: Session, email: str | None, phone: str | None) -> Contact | None:
    """The contact with this email, else this phone number; the most recently active
    when several share it (the duplicates report finds those)."""
    order = (col(Contact.last_activity_at).desc(), col(Contact.id).desc())
    if email:
        found: Contact | None = session.exec(
            _live(func.lower(Contact.email) == email, func.lower(Contact.email2) == email)
            .order_by(*order)
            .limit(1)
        ).first()
        if found is not None:
            return found
    if phone:
        by_phone: Contact | None = session.exec(
            _live(col(Contact.phone) == phone, col(Contact.mobile) == phone)
            .order_by(*order)
            .limit(1)
        ).first()
        return by_phone
    return None


def _team_member(session: Session) -> User | None:
    """Who in the configured team (or, without one, among managers) has the fewest open
    tasks: new people's questions go to them."""
    team = get_settings().ask_us_team
    open_tasks = (
        select(func.count())
        .select_from(Task)
        .where(col(Task.owner_id) == col(User.id), col(Task.done_at).is_(None))
        .scalar_subquery()
    )
    roles = [Role.sales.value, Role.manager.value] if team else [Role.manager.value]
    query = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == col(User.id))
        .where(col(User.is_active), col(UserRole.role).in_(roles))
        .order_by(open_tasks, col(User.id))
        .limit(1)
    )
    if team:
        query = query.where(col(User.team) == team)
    return session.exec(query).first()


def _split_name(name: str) -> tuple[str, str]:
    parts = name.split()
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


def _allowed(session: Session, field: str, value: str | None) -> str | None:
    """The value unless it is an erased person's identifier (then it is not kept)."""
    if value and any(check(session, {field: value}) for check in CONTACT_CHECKS):
        return None
    return value


def ask(*, session: Session, ask_in: AskIn, visitor: str) -> None:
    """Take a question from the public page: contact, inbound interaction and task."""
    now = utcnow()
    question = clean_text(
        ask_in.question, field="question", label="Your question", max_length=QUESTION_MAX
    )
    if not question:
        raise ValidationError("Your question: say what you would like to know.", field="question")
    name = clean_text(ask_in.name, field="name", label="Your name", max_length=NAME_MAX)
    if not name:
        raise ValidationError("Your name: tell us what to call you.", field="name")
    if ask_in.answer_by not in ANSWER_CHANNELS:
        raise ValidationError(
            "How to answer: choose " + ", ".join(ANSWER_CHANNELS) + ".", field="answer_by"
        )
    channel = ANSWER_CHANNELS[ask_in.answer_by]
    email = normalise_email(ask_in.email, label="Your email address")
    phone = normalise_phone(ask_in.phone, label="Your phone number")
    address = clean_text(
        ask_in.address, field="address", label="Your address", max_length=ADDRESS_MAX
    )
    reachable = clean_text(
        ask_in.reachable, field="reachable", label="When we can reach you", max_length=WHEN_MAX
    )
    needed = {
        Channel.email: (email, "email", "Your email address: we need it to answer by email."),
        Channel.phone: (phone, "phone", "Your phone number: we need it to call you back."),
        Channel.sms: (phone, "phone", "Your phone number: we need it to text you."),
        Channel.letter: (address, "address", "Your address: we need it to write to you."),
    }[channel]
    if not needed[0]:
        raise ValidationError(needed[2], field=needed[1])
    check_allowance(session=session, form=PublicForm.ask_us, visitor=visitor, now=now)
    email = _allowed(session, "email", email)
    phone = _allowed(session, "phone", phone)
    contact = _match(session, email, phone)
    new = contact is None
    if contact is None:
        owner = _team_member(session)
        given, family = _split_name(name)
        contact = Contact(
            kind=ContactKind.citizen,
            given_name=given[:100],
            family_name=family[:100],
            email=email,
            phone=phone,
            street=(address or None) and address[:200],
            owner_id=owner.id if owner else None,
            notes="Added from a question on the Ask us page.",
        )
    contact.preferred_channel = channel
    contact.last_activity_at = now
    contact.updated_at = now
    session.add(contact)
    session.flush()
    lines = [question, "", f"Answer by: {ask_in.answer_by.lower()}"]
    if reachable:
        lines.append(f"When they can be reached: {reachable}")
    if channel == Channel.letter and address:
        lines.append(f"Address given: {address}")
    if not new:
        lines.append(f"Name given: {name}")
    interaction = Interaction(
        contact_id=contact.id or 0,
        channel=channel,
        direction=Direction.inbound,
        purpose=Purpose.service,
        subject="Question from the Ask us page",
        body="\n".join(lines),
        occurred_at=now,
    )
    session.add(interaction)
    owner_id = contact.owner_id
    if owner_id is None:
        fallback = _team_member(session)
        owner_id = fallback.id if fallback else None
    if owner_id is not None:
        when = f", {reachable}" if reachable else ""
        session.add(
            Task(
                title=f"{TASK_PREFIX}: {ask_in.answer_by.lower()}{when}"[:200],
                due_on=(now + timedelta(days=1)).date(),
                contact_id=contact.id,
                owner_id=owner_id,
            )
        )
    note_submission(session=session, form=PublicForm.ask_us, visitor=visitor, now=now)
    session.flush()
    record(
        session,
        None,
        "ask_us.question",
        "interaction",
        entity_id=interaction.id,
        details={"contact_id": contact.id, "new_contact": new, "channel": channel.value},
    )
    session.commit()


@dataclass(frozen=True)
class Question:
    """An open Ask us task and the person waiting for the answer."""

    task: Task
    name: str


def open_questions(*, session: Session, actor: Actor, limit: int = 10) -> list[Question]:
    """The actor's own open tasks to answer Ask us questions, oldest first, with the
    name of the person who asked."""
    require_reader(actor, what="tasks")
    rows = session.exec(
        select(Task, Contact)
        .join(Contact, col(Contact.id) == col(Task.contact_id))
        .where(
            col(Task.owner_id) == actor.id,
            col(Task.done_at).is_(None),
            col(Task.title).startswith(TASK_PREFIX),
        )
        .order_by(col(Task.created_at))
        .limit(limit)
    ).all()
    return [Question(task, contact.full_name or "(no name)") for task, contact in rows]
