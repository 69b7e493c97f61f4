"""Purposes, notices and the consent ledger: record events, derive current state."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.auth.visibility import can_change
from db.consent.ledger import append
from db.consent.state import ConsentState, LedgerEntry, state_grid
from db.core.deadlines import add_months
from db.core.errors import Conflict, Forbidden, NotFound, ValidationError
from db.core.normalise import clean_text
from db.core.types import utcnow
from db.core.validation import parse_model
from db.models.auth import Role
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentPurposeCreate,
    ConsentPurposeUpdate,
    ConsentSource,
    LawfulBasis,
    Notice,
)
from db.models.people import Contact
from db.people.contacts import get_contact

# Who may record what a person said: privacy officers, and the staff who hear it.
RECORDERS = (Role.privacy, Role.admin, Role.manager, Role.sales)
# Who may record a grant. A grant is what lets marketing past the check, so the people
# who send marketing (sales, their managers) may not write one for their own contacts:
# grants come from a privacy officer (with the evidence), from the person themselves
# (self-service) or from a privacy officer's import of a consent history. Anyone who may
# change the contact records a withdrawal or an objection at once: saying "stop" must
# never wait for a privacy officer.
GRANT_RECORDERS = frozenset({Role.privacy})


def may_record(actor: Actor, action: ConsentAction) -> bool:
    """Whether this person's role lets them record this action (the page offers only these)."""
    if action == ConsentAction.grant:
        return actor.has_any(GRANT_RECORDERS)
    return actor.has_any(set(RECORDERS))


PURPOSE_CODE_MAX = 40
PURPOSE_NAME_MAX = 120
DESCRIPTION_MAX = 2000
WORDING_MAX = 10_000
EVIDENCE_MAX = 2000


def _wording(wording: str | None) -> str:
    text = (wording or "").strip()
    if not text:
        raise ValidationError("Wording: enter what people are told.", field="wording")
    if len(text) > WORDING_MAX:
        raise ValidationError(f"Wording: use at most {WORDING_MAX:,} characters.", field="wording")
    return text


# --- purposes and notices ---------------------------------------------------------


def list_purposes(*, session: Session) -> list[ConsentPurpose]:
    """Every purpose, by code."""
    return list(session.exec(select(ConsentPurpose).order_by(col(ConsentPurpose.code))).all())


def get_purpose(*, session: Session, purpose_id: int) -> ConsentPurpose:
    """One purpose, or NotFound."""
    purpose = session.get(ConsentPurpose, purpose_id)
    if purpose is None:
        raise NotFound(f"There is no purpose {purpose_id}.")
    return purpose


def create_purpose(
    *, session: Session, purpose_in: ConsentPurposeCreate, actor: Actor
) -> ConsentPurpose:
    """Define a purpose people can consent to (privacy officers)."""
    require_role(actor, Role.privacy, doing="define purposes")
    code = (purpose_in.code or "").strip().lower()
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationError(
            "Code: use letters, digits and dashes, e.g. newsletter.", field="code"
        )
    if len(code) > PURPOSE_CODE_MAX:
        raise ValidationError(f"Code: use at most {PURPOSE_CODE_MAX} characters.", field="code")
    name = clean_text(purpose_in.name, field="name", label="Name", max_length=PURPOSE_NAME_MAX)
    if not name:
        raise ValidationError("Name: say what the purpose is called.", field="name")
    description = (
        clean_text(
            purpose_in.description,
            field="description",
            label="Description",
            max_length=DESCRIPTION_MAX,
        )
        or ""
    )
    if not 1 <= purpose_in.refresh_months <= 120:
        raise ValidationError("Refresh period: use 1 to 120 months.", field="refresh_months")
    if session.exec(select(ConsentPurpose).where(ConsentPurpose.code == code)).first():
        raise Conflict(f"A purpose with the code {code!r} already exists.")
    purpose = ConsentPurpose.model_validate(
        purpose_in.model_dump() | {"code": code, "name": name, "description": description}
    )
    session.add(purpose)
    session.flush()
    record(
        session,
        actor,
        "purpose.create",
        "consent_purpose",
        entity_id=purpose.id,
        details={"code": code, "lawful_basis": purpose.lawful_basis},
    )
    session.commit()
    return purpose


def update_purpose(
    *,
    session: Session,
    purpose_id: int,
    patch: ConsentPurposeUpdate,
    version: int,
    actor: Actor,
) -> ConsentPurpose:
    """Change a purpose's name, description, basis or refresh period (privacy officers).

    Grants already recorded keep the expiry fixed when they were given; the audit log
    keeps each changed field's old and new value."""
    require_role(actor, Role.privacy, doing="change purposes")
    purpose = get_purpose(session=session, purpose_id=purpose_id)
    if purpose.version != version:
        raise Conflict(f"{purpose.name} was changed by someone else since you opened it; reload.")
    changes = patch.model_dump(exclude_unset=True)
    if "name" in changes:
        changes["name"] = clean_text(
            changes["name"], field="name", label="Name", max_length=PURPOSE_NAME_MAX
        )
        if not changes["name"]:
            raise ValidationError("Name: say what the purpose is called.", field="name")
    if "description" in changes:
        changes["description"] = (
            clean_text(
                changes["description"],
                field="description",
                label="Description",
                max_length=DESCRIPTION_MAX,
            )
            or ""
        )
    if "lawful_basis" in changes:
        try:
            changes["lawful_basis"] = LawfulBasis(str(changes["lawful_basis"]))
        except ValueError:
            raise ValidationError(
                "Lawful basis: choose one of " + ", ".join(b.value for b in LawfulBasis) + ".",
                field="lawful_basis",
            ) from None
    if "refresh_months" in changes and not 1 <= (changes["refresh_months"] or 0) <= 120:
        raise ValidationError("Refresh period: use 1 to 120 months.", field="refresh_months")
    if "covers_marketing" in changes and changes["covers_marketing"] is None:
        del changes["covers_marketing"]
    # Check the purpose as it would be after the change, so a bad value is refused
    # with a sentence instead of failing at the database.
    merged = parse_model(
        ConsentPurposeCreate,
        {**purpose.model_dump(include=set(ConsentPurposeCreate.model_fields)), **changes},
        labels={"covers_marketing": "Covers marketing", "lawful_basis": "Lawful basis"},
    )
    diff = {
        key: {"from": str(getattr(purpose, key)), "to": str(getattr(merged, key))}
        for key in changes
        if getattr(purpose, key) != getattr(merged, key)
    }
    if not diff:
        return purpose  # nothing changed: no new version, nothing to audit
    purpose.sqlmodel_update({key: getattr(merged, key) for key in diff})
    purpose.version += 1
    session.add(purpose)
    record(
        session,
        actor,
        "purpose.update",
        "consent_purpose",
        entity_id=purpose.id,
        details={"code": purpose.code, "version": purpose.version, "changes": diff},
    )
    session.commit()
    return purpose


def list_notices(*, session: Session, purpose_id: int) -> list[Notice]:
    """A purpose's notice versions, newest first."""
    return list(
        session.exec(
            select(Notice)
            .where(Notice.purpose_id == purpose_id)
            .order_by(col(Notice.version).desc())
        ).all()
    )


def latest_notice(*, session: Session, purpose_id: int) -> Notice | None:
    """The wording currently shown for a purpose."""
    notices = list_notices(session=session, purpose_id=purpose_id)
    return notices[0] if notices else None


def publish_notice(
    *,
    session: Session,
    purpose_id: int,
    wording: str,
    actor: Actor,
    published_at: datetime | None = None,
) -> Notice:
    """Publish a new version of a purpose's wording; old versions stay as they were."""
    require_role(actor, Role.privacy, doing="publish notices")
    purpose = get_purpose(session=session, purpose_id=purpose_id)
    text = _wording(wording)
    current = session.exec(
        select(func.max(Notice.version)).where(Notice.purpose_id == purpose.id)
    ).one()
    notice = Notice(
        purpose_id=purpose.id or 0,
        version=int(current or 0) + 1,
        wording=text,
        published_at=published_at or utcnow(),
        created_by_id=actor.id,
    )
    session.add(notice)
    session.flush()
    record(
        session,
        actor,
        "notice.publish",
        "consent_notice",
        entity_id=notice.id,
        details={"purpose": purpose.code, "version": notice.version},
    )
    session.commit()
    return notice


def notice_in_use(*, session: Session, notice_id: int) -> bool:
    """True once any ledger event cites this notice (it can then never change)."""
    used = session.exec(
        select(ConsentEvent.id).where(ConsentEvent.notice_id == notice_id).limit(1)
    ).first()
    return used is not None


def revise_notice(*, session: Session, notice_id: int, wording: str, actor: Actor) -> Notice:
    """Correct an unused notice's wording; a used notice is refused (publish a new one)."""
    require_role(actor, Role.privacy, doing="revise notices")
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"There is no notice {notice_id}.")
    if notice_in_use(session=session, notice_id=notice_id):
        raise Conflict(
            f"Version {notice.version} has been shown to people and is evidence now; "
            "publish a new version instead."
        )
    text = _wording(wording)
    notice.wording = text
    session.add(notice)
    record(session, actor, "notice.revise", "consent_notice", entity_id=notice.id)
    session.commit()
    return notice


# --- the ledger ---------------------------------------------------------------------


def validated_event(
    *, session: Session, event_in: ConsentEventCreate
) -> tuple[ConsentPurpose, ConsentEvent]:
    """Check a new ledger event and build it (not yet chained or added)."""
    purpose = get_purpose(session=session, purpose_id=event_in.purpose_id)
    when = event_in.occurred_at
    if when.tzinfo is None:
        raise ValidationError("When: give a time with its time zone.", field="occurred_at")
    when = when.astimezone(UTC)
    if when > utcnow():
        raise ValidationError(
            "When: the consent event cannot be in the future.", field="occurred_at"
        )
    notice_id = event_in.notice_id
    if notice_id is not None:
        notice = session.get(Notice, notice_id)
        if notice is None or notice.purpose_id != purpose.id:
            raise ValidationError(
                "Notice: choose a version of this purpose's wording.", field="notice_id"
            )
        if event_in.action == ConsentAction.grant and notice.published_at > when:
            raise ValidationError(
                f"Notice: version {notice.version} was published after this grant.",
                field="notice_id",
            )
    elif event_in.action == ConsentAction.grant:
        raise ValidationError(
            "Notice: a grant must say which wording the person agreed to.", field="notice_id"
        )
    evidence = clean_text(
        event_in.evidence, field="evidence", label="Evidence", max_length=EVIDENCE_MAX
    )
    expires = (
        add_months_dt(when, purpose.refresh_months)
        if event_in.action == ConsentAction.grant
        else None
    )
    event = ConsentEvent(
        seq=0,
        contact_id=event_in.contact_id,
        purpose_id=purpose.id or 0,
        channel=event_in.channel,
        action=event_in.action,
        notice_id=notice_id,
        source=event_in.source,
        evidence=evidence,
        evidence_digest="",
        recorded_by_name="",
        occurred_at=when,
        expires_at=expires,
        prev_hash="",
        hash="",
    )
    return purpose, event


def add_months_dt(when: datetime, months: int) -> datetime:
    """The same instant `months` calendar months later (clamped to month ends)."""
    day = add_months(when.date(), months)
    return when.replace(year=day.year, month=day.month, day=day.day)


def record_consent(
    *, session: Session, event_in: ConsentEventCreate, actor: Actor, request_id: int | None = None
) -> ConsentEvent:
    """Append a grant, withdrawal or objection to the ledger (one step, whichever it is)."""
    require_role(actor, *RECORDERS, doing="record consent")
    contact = get_contact(session=session, contact_id=event_in.contact_id, actor=actor)
    # Reading a contact is not enough: a record in the ledger changes what may be sent to
    # the person, so it takes the right to change the contact (privacy officers keep
    # consent for everyone).
    if not actor.has_any({Role.privacy}) and not can_change(
        session=session, actor=actor, owner_id=contact.owner_id
    ):
        raise Forbidden(
            "You can't record consent for this person: their record belongs to someone "
            "outside what your role allows (sales change their own contacts, managers "
            "their team's). Ask the contact's owner or a privacy officer."
        )
    if not may_record(actor, event_in.action):
        raise Forbidden(
            "Only a privacy officer records that a person agreed to something, with the "
            "evidence; the person can also say so themselves. You can record a withdrawal "
            "or an objection. Send the privacy office what the person agreed to and how."
        )
    if contact.erased_at is not None:
        raise Conflict("This person's data was erased; consent cannot be recorded for them.")
    purpose, event = validated_event(
        session=session, event_in=event_in.model_copy(update={"contact_id": contact.id})
    )
    event.recorded_by_id = actor.id
    event.recorded_by_name = actor.username
    event.request_id = request_id
    append(session=session, event=event)
    session.flush()
    record(
        session,
        actor,
        f"consent.{event.action}",
        "consent_event",
        entity_id=event.id,
        details={
            "contact_id": contact.id,
            "purpose": purpose.code,
            "channel": event.channel,
            "source": event.source,
        },
    )
    session.commit()
    return event


def append_system_events(
    *,
    session: Session,
    contact_id: int,
    action: ConsentAction,
    evidence: str,
    actor: Actor,
    request_id: int | None,
) -> int:
    """Append `action` on every purpose's `any` channel (used by erasure and objection
    requests, in the caller's transaction); returns how many were appended."""
    require_role(actor, Role.privacy, doing="record consent on a request's behalf")
    now = utcnow()
    count = 0
    for purpose in list_purposes(session=session):
        event = ConsentEvent(
            seq=0,
            contact_id=contact_id,
            purpose_id=purpose.id or 0,
            channel=ConsentChannel.any,
            action=action,
            source=ConsentSource.self_service,
            evidence=evidence,
            evidence_digest="",
            recorded_by_id=actor.id,
            recorded_by_name=actor.username,
            occurred_at=now,
            request_id=request_id,
            prev_hash="",
            hash="",
        )
        append(session=session, event=event)
        count += 1
    return count


def contact_history(*, session: Session, contact_id: int, actor: Actor) -> list[ConsentEvent]:
    """Every ledger event of a contact, newest first."""
    require_role(actor, *RECORDERS, doing="read consent")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    return list(
        session.exec(
            select(ConsentEvent)
            .where(ConsentEvent.contact_id == contact.id)
            .order_by(col(ConsentEvent.occurred_at).desc(), col(ConsentEvent.seq).desc())
        ).all()
    )


@dataclass(frozen=True)
class PurposeState:
    """A contact's derived state for one purpose on every channel."""

    purpose: ConsentPurpose
    states: dict[ConsentChannel, ConsentState]


def _entries(events: list[ConsentEvent]) -> list[LedgerEntry]:
    return [LedgerEntry(e.seq, e.channel, e.action, e.occurred_at, e.expires_at) for e in events]


def contact_states(
    *, session: Session, contact_id: int, actor: Actor, at: datetime | None = None
) -> list[PurposeState]:
    """The contact's consent per purpose × channel, derived from the ledger."""
    history = contact_history(session=session, contact_id=contact_id, actor=actor)
    moment = at or utcnow()
    result = []
    for purpose in list_purposes(session=session):
        mine = [e for e in history if e.purpose_id == purpose.id]
        grid = state_grid(_entries(mine), moment, marketing=purpose.covers_marketing)
        result.append(PurposeState(purpose, grid))
    return result


def marketing_events(
    *, session: Session, contact: Contact
) -> list[tuple[ConsentPurpose, ConsentEvent]]:
    """The contact's ledger events under purposes that permit direct marketing."""
    rows = session.exec(
        select(ConsentPurpose, ConsentEvent)
        .join(ConsentEvent, col(ConsentEvent.purpose_id) == col(ConsentPurpose.id))
        .where(ConsentEvent.contact_id == contact.id, col(ConsentPurpose.covers_marketing))
    ).all()
    return [(p, e) for p, e in rows]
