"""Data-subject requests: register, verify identity, extend, complete (access, erasure…)."""

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

import db.models.cases as cases_models
from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.erasure import erase_contact
from db.consent.records import append_system_events
from db.core.deadlines import extended_due, request_due
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.normalise import clean_text, normalise_phone, search_text
from db.core.types import utcnow
from db.models.auth import Role
from db.models.cases import Case, CaseExclusion, CaseRelease
from db.models.consent import (
    ConsentAction,
    PrivacyRequest,
    PrivacyRequestCreate,
    RequestKind,
    RequestStatus,
)
from db.models.people import Contact
from db.people.contacts import get_contact

PAGE_SIZE_MAX = 500
NOTES_MAX = 2000
METHOD_MAX = 200
EXTEND_REASON_MAX = 1000
OUTCOME_MAX = 2000
REFUSAL_MAX = 2000


def _require_privacy(actor: Actor, doing: str) -> None:
    require_role(actor, Role.privacy, doing=doing)


def register_request(
    *, session: Session, request_in: PrivacyRequestCreate, actor: Actor
) -> PrivacyRequest:
    """Log a data-subject request; its deadline is one calendar month from receipt."""
    _require_privacy(actor, "register data-subject requests")
    contact = get_contact(session=session, contact_id=request_in.contact_id, actor=actor)
    if contact.erased_at is not None:
        raise Conflict("This person's data has already been erased.")
    if request_in.received_on > utcnow().date():
        raise ValidationError("Received on: the date cannot be in the future.", field="received_on")
    notes = clean_text(request_in.notes, field="notes", label="Notes", max_length=NOTES_MAX)
    request = PrivacyRequest(
        kind=request_in.kind,
        contact_id=contact.id or 0,
        received_on=request_in.received_on,
        notes=notes,
        due_on=request_due(request_in.received_on),
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor,
        "privacy_request.register",
        "privacy_request",
        entity_id=request.id,
        details={"kind": request.kind, "contact_id": contact.id, "due_on": str(request.due_on)},
    )
    session.commit()
    return request


def get_request(*, session: Session, request_id: int, actor: Actor) -> PrivacyRequest:
    """One request (privacy officers)."""
    _require_privacy(actor, "read data-subject requests")
    request = session.get(PrivacyRequest, request_id)
    if request is None:
        raise NotFound(f"There is no request {request_id}.")
    return request


def _open(session: Session, request_id: int, version: int, actor: Actor) -> PrivacyRequest:
    request = get_request(session=session, request_id=request_id, actor=actor)
    if request.version != version:
        raise Conflict("This request was changed by someone else since you opened it; reload.")
    if request.status != RequestStatus.open:
        raise Conflict(f"Request {request_id} is already {request.status}.")
    return request


def _save(
    session: Session, request: PrivacyRequest, actor: Actor, action: str, **details: Any
) -> PrivacyRequest:
    request.version += 1
    session.add(request)
    record(
        session,
        actor,
        f"privacy_request.{action}",
        "privacy_request",
        entity_id=request.id,
        details=details,
    )
    session.commit()
    return request


# How a privacy officer may establish who the requester is; each needs a note saying what
# was seen or checked.
VERIFICATION_METHODS = (
    "Emailed code",
    "Reply from the email address on file",
    "Call back to the phone number on file",
    "Identity document seen",
    "Signed-in customer account",
    "Known to staff in person",
)
VERIFICATION_NOTE_MAX = 1000


def verify_identity(
    *,
    session: Session,
    request_id: int,
    method: str,
    note: str,
    version: int,
    actor: Actor,
) -> PrivacyRequest:
    """Record who verified the requester's identity, how, and what was checked."""
    request = _open(session, request_id, version, actor)
    if method not in VERIFICATION_METHODS:
        raise ValidationError(
            "How identity was verified: choose one of " + ", ".join(VERIFICATION_METHODS) + ".",
            field="method",
        )
    what = clean_text(
        note, field="note", label="What was checked", max_length=VERIFICATION_NOTE_MAX
    )
    if not what or len(what) < 10:
        raise ValidationError(
            "What was checked: say in a sentence what you saw or compared (for example "
            "'passport seen, name and date of birth match the record').",
            field="note",
        )
    request.verified_at = utcnow()
    request.verified_by_id = actor.id
    request.verification_method = method
    request.verification_note = what
    return _save(session, request, actor, "verify", method=method)


def extend_request(
    *,
    session: Session,
    request_id: int,
    reason: str,
    notified_on: date,
    version: int,
    actor: Actor,
) -> PrivacyRequest:
    """Extend the deadline to three months; the person must be told within the first."""
    request = _open(session, request_id, version, actor)
    if request.extended_due_on is not None:
        raise Conflict("This request has already been extended; it cannot be extended again.")
    why = clean_text(reason, field="reason", label="Reason", max_length=EXTEND_REASON_MAX)
    if not why:
        raise ValidationError(
            "Reason: say why more time is needed (complexity or number of requests).",
            field="reason",
        )
    if notified_on < request.received_on or notified_on > utcnow().date():
        raise ValidationError(
            "Told on: give the date the person was told, between receipt and today.",
            field="notified_on",
        )
    if notified_on > request.due_on:
        raise ValidationError(
            "Told on: the person must be told within the first month "
            f"(by {request.due_on:%d %b %Y}).",
            field="notified_on",
        )
    request.extended_due_on = extended_due(request.received_on)
    request.extension_reason = why
    request.extension_notified_on = notified_on
    return _save(
        session,
        request,
        actor,
        "extend",
        due_on=str(request.extended_due_on),
        notified_on=str(notified_on),
    )


def _ready(request: PrivacyRequest, kind: RequestKind | None = None) -> None:
    if request.verified_at is None:
        raise ValidationError(
            "Identity: verify the requester's identity before completing the request.",
            field="verified",
        )
    if kind is not None and request.kind != kind:
        raise ValidationError(f"This is a {request.kind} request, not {kind}.", field="kind")


def _case_tables() -> set[str]:
    """The tables of the cases area: an access export never reads them directly."""
    return {
        str(mapper.class_.__tablename__)
        for mapper in SQLModel._sa_registry.mappers
        if mapper.class_.__module__ == cases_models.__name__
    }


def _rows_about(session: Session, contact_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that refers to the contact (deals, interactions…), but
    cases, which reach an export only through what the case reviewers release."""
    found: dict[str, list[dict[str, Any]]] = {}
    skip = {"privacy_request"} | _case_tables()
    for table in SQLModel.metadata.sorted_tables:
        if "contact_id" not in table.columns or table.name in skip:
            continue
        rows = session.execute(
            select(table).where(table.c.contact_id == contact_id)  # type: ignore[call-overload]
        ).all()
        found[table.name] = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row._mapping.items()}
            for row in rows
        ]
    return found


@dataclass(frozen=True)
class AccessExport:
    """What an access request hands over: machine-readable JSON and a readable summary."""

    json_text: str
    summary: str


@dataclass(frozen=True)
class CaseReleases:
    """Where the case records of an access request stand."""

    released: int
    awaiting: int


def _named_cases(session: Session, contact_id: int) -> list[Case]:
    # Anonymous concerns are never part of an access request, whoever they name.
    return list(
        session.exec(
            select(Case).where(
                col(Case.contact_id) == contact_id,
                col(Case.anonymous).is_(False),
                col(Case.purged_at).is_(None),
            )
        ).all()
    )


def _releases(session: Session, request_id: int) -> list[tuple[CaseRelease, Case]]:
    return list(
        session.exec(
            select(CaseRelease, Case)
            .join(Case, col(Case.id) == col(CaseRelease.case_id))
            .where(col(CaseRelease.request_id) == request_id)
            .order_by(col(Case.received_at), col(Case.id))
        ).all()
    )


def case_releases(*, session: Session, request_id: int, actor: Actor) -> CaseReleases:
    """How many named case records of this access request the case reviewers have
    released, and how many still wait for them."""
    request = get_request(session=session, request_id=request_id, actor=actor)
    released = {release.case_id for release, _case in _releases(session, request_id)}
    if request.contact_id is None:
        return CaseReleases(len(released), 0)
    waiting = [c for c in _named_cases(session, request.contact_id) if c.id not in released]
    return CaseReleases(len(released), len(waiting) if request.kind == RequestKind.access else 0)


def build_access_export(
    *, session: Session, contact: Contact, request_id: int | None = None
) -> AccessExport:
    """Everything Rapport holds about the person, as JSON and as a readable summary.

    Case records appear only as the case reviewers released them to this request."""
    person = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in contact.model_dump().items()
    }
    related = _rows_about(session, contact.id or 0)
    released = [] if request_id is None else _releases(session, request_id)
    cases = [
        {
            "case": case.reference,
            "received_on": case.received_at.date().isoformat(),
            "released_on": release.released_at.date().isoformat(),
            "what_we_hold": release.content,
        }
        for release, case in released
    ]
    data = {
        "generated_at": utcnow().isoformat(),
        "contact": person,
        "records": related,
        "released_by_case_reviewers": cases,
    }
    lines = [
        f"What we hold about {contact.full_name}",
        f"Prepared {utcnow():%d %B %Y}.",
        "",
        "Your details:",
    ]
    lines += [f"  {k.replace('_', ' ')}: {v}" for k, v in person.items() if v not in (None, "")]
    lines.append("")
    for name, rows in related.items():
        lines.append(f"{name.replace('_', ' ').capitalize()}: {len(rows)} record(s)")
    if cases:
        lines += ["", "Case records (as released by the case reviewers):"]
        for item in cases:
            lines.append(f"  {item['case']}, received {item['received_on']}:")
            lines.append(f"    {item['what_we_hold'] or 'Nothing further to release.'}")
    consent = related.get("consent_event", [])
    if consent:
        lines += ["", "Your consent history:"]
        lines += [
            f"  {r['occurred_at'][:10]} {r['action']} (channel {r['channel']}, via {r['source']})"
            for r in consent
        ]
    return AccessExport(json.dumps(data, indent=2, default=str), "\n".join(lines) + "\n")


def complete_access(
    *, session: Session, request_id: int, version: int, actor: Actor
) -> AccessExport:
    """Answer an access request: produce the export and close the request."""
    request = _open(session, request_id, version, actor)
    _ready(request, RequestKind.access)
    contact = _subject(session, request)
    state = case_releases(session=session, request_id=request_id, actor=actor)
    if state.awaiting:
        raise Conflict(
            f"{state.awaiting} case record(s) about this person wait for the case reviewers "
            "to release what the person is entitled to; complete the request once they have."
        )
    # An exclusion holds here too: someone left out of a case does not read it in an export.
    excluded = [
        case.reference
        for _release, case in _releases(session, request_id)
        if session.get(CaseExclusion, (case.id, actor.id)) is not None
    ]
    if excluded:
        raise Conflict(
            "You are excluded from a case this export includes: ask another privacy officer "
            "to complete the request."
        )
    export = build_access_export(session=session, contact=contact, request_id=request_id)
    request.status = RequestStatus.completed
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.outcome = "Export of personal data provided."
    _release(request)
    _save(session, request, actor, "complete", kind="access")
    return export


def _release(request: PrivacyRequest) -> None:
    """A request made on the public page: its requester may download the answer now."""
    if request.reference is not None:
        request.released_at = utcnow()
        if request.kind in (RequestKind.access, RequestKind.portability):
            request.outcome = (
                "Your data is ready: download it on this page (we email you a code first)."
            )


def _subject(session: Session, request: PrivacyRequest) -> Contact:
    """The person a request is about; a request nobody is linked to is refused."""
    contact = session.get(Contact, request.contact_id) if request.contact_id else None
    if contact is None:
        raise Conflict(
            "This request is not linked to a contact: link it to the person it is about, or "
            "answer that we hold nothing about the requester."
        )
    return contact


def build_portability_export(*, session: Session, contact: Contact) -> AccessExport:
    """Art. 20: the data the person provided (their details, consent choices and what they
    told us), as structured JSON, and a readable note of what the file holds."""
    provided = {
        key: getattr(contact, key)
        for key in (
            "given_name",
            "family_name",
            "email",
            "email2",
            "phone",
            "mobile",
            "street",
            "street2",
            "locality",
            "postcode",
            "region",
            "country",
            "date_of_birth",
            "preferred_channel",
        )
        if getattr(contact, key) not in (None, "")
    }
    related = _rows_about(session, contact.id or 0)
    consent = [
        {
            "purpose_id": r["purpose_id"],
            "channel": r["channel"],
            "action": r["action"],
            "occurred_at": r["occurred_at"],
            "source": r["source"],
        }
        for r in related.get("consent_event", [])
    ]
    told_us = [
        {
            "occurred_at": r["occurred_at"],
            "channel": r["channel"],
            "subject": r["subject"],
            "body": r["body"],
        }
        for r in related.get("interaction", [])
        if r.get("direction") == "inbound"
    ]
    data = {
        "format": "rapport-portability-v1",
        "generated_at": utcnow().isoformat(),
        "person": {
            k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in provided.items()
        },
        "consent_choices": consent,
        "messages_from_the_person": told_us,
    }
    summary = (
        f"Data {contact.full_name} provided, in a machine-readable file (JSON): "
        f"{len(provided)} detail(s), {len(consent)} consent choice(s), "
        f"{len(told_us)} message(s).\n"
    )
    return AccessExport(json.dumps(data, indent=2, default=str), summary)


def complete_portability(
    *, session: Session, request_id: int, version: int, actor: Actor
) -> AccessExport:
    """Answer a portability request (Art. 20): the machine-readable export, and close it."""
    request = _open(session, request_id, version, actor)
    _ready(request, RequestKind.portability)
    contact = _subject(session, request)
    export = build_portability_export(session=session, contact=contact)
    request.status = RequestStatus.completed
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.outcome = "Machine-readable export of the data the person provided."
    _release(request)
    _save(session, request, actor, "complete", kind="portability")
    return export


NOTHING_HELD = "We hold no personal data about you, other than this request."


def complete_nothing_held(
    *, session: Session, request_id: int, version: int, actor: Actor
) -> PrivacyRequest:
    """Answer a request from someone Rapport holds nothing on: "we hold nothing"."""
    request = _open(session, request_id, version, actor)
    _ready(request)
    if request.contact_id is not None:
        raise Conflict("This request is linked to a contact: answer it with what we hold.")
    request.status = RequestStatus.completed
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.outcome = NOTHING_HELD
    if request.reference is not None:
        request.released_at = utcnow()
    return _save(session, request, actor, "complete", kind=str(request.kind), nothing_held=True)


def link_contact(
    *, session: Session, request_id: int, contact_id: int, version: int, actor: Actor
) -> PrivacyRequest:
    """Say which contact a public request is about (when its address matched none or several)."""
    request = _open(session, request_id, version, actor)
    if request.contact_id is not None:
        raise Conflict("This request is already linked to a contact.")
    contact = get_contact(session=session, contact_id=contact_id, actor=actor)
    if contact.erased_at is not None:
        raise Conflict("This person's data has already been erased.")
    request.contact_id = contact.id
    return _save(session, request, actor, "link", contact_id=contact.id)


def find_subjects(*, session: Session, query: str, actor: Actor, limit: int = 20) -> list[Contact]:
    """Live contacts matching a full name, a family or given name, an email or a phone
    number, for the privacy officer to choose from (never chosen for them)."""
    _require_privacy(actor, "find the person of a request")
    text = search_text(query, label="Find the person")
    if not text:
        return []
    lowered = text.lower()
    full = func.lower(Contact.given_name + " " + Contact.family_name)
    conditions: list[Any] = [
        full.like(f"%{lowered}%"),
        func.lower(Contact.family_name).like(f"{lowered}%"),
        func.lower(Contact.given_name).like(f"{lowered}%"),
        func.lower(Contact.email) == lowered,
        func.lower(Contact.email2) == lowered,
    ]
    try:
        phone = normalise_phone(text) if any(ch.isdigit() for ch in text) else None
    except ValidationError:
        phone = None
    if phone:
        conditions += [col(Contact.phone) == phone, col(Contact.mobile) == phone]
    return list(
        session.exec(
            select(Contact)
            .where(
                or_(*conditions),
                col(Contact.merged_into_id).is_(None),
                col(Contact.erased_at).is_(None),
            )
            .order_by(col(Contact.family_name), col(Contact.given_name), col(Contact.id))
            .limit(min(max(limit, 1), 100))
        ).all()
    )


def subject_names(
    *, session: Session, requests: list[PrivacyRequest], actor: Actor
) -> dict[int, str]:
    """The name of the person of each request (by request id), for the request list."""
    _require_privacy(actor, "read data-subject requests")
    ids = {r.contact_id for r in requests if r.contact_id is not None}
    names = (
        {
            c.id: (c.full_name or "(no name)") if c.erased_at is None else "(erased)"
            for c in session.exec(select(Contact).where(col(Contact.id).in_(ids))).all()
        }
        if ids
        else {}
    )
    return {
        r.id or 0: names.get(r.contact_id, "") if r.contact_id else "(not linked to a contact)"
        for r in requests
    }


def complete_erasure(
    *, session: Session, request_id: int, version: int, actor: Actor
) -> dict[str, Any]:
    """Honour an erasure request: anonymise everywhere, suppress, prove it in the ledger."""
    request = _open(session, request_id, version, actor)
    _ready(request, RequestKind.erasure)
    contact = _subject(session, request)
    if contact.erased_at is not None:
        raise Conflict("This person has already been erased.")
    done = erase_contact(session=session, contact=contact, request=request, actor=actor)
    request.status = RequestStatus.completed
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.outcome = "Personal data erased; identifiers suppressed." + (
        f" {done['case_records_kept']} case record(s) about the person are kept under the "
        "exemptions for legal claims and whistleblowing record-keeping; their reviewers "
        "have been told."
        if done.get("case_records_kept")
        else ""
    )
    _save(session, request, actor, "complete", kind="erasure", **done)
    return done


def complete_other(
    *, session: Session, request_id: int, outcome: str, version: int, actor: Actor
) -> PrivacyRequest:
    """Close a rectification, objection or restriction request with what was done.

    An objection also records an objection on every purpose, so marketing stops."""
    request = _open(session, request_id, version, actor)
    _ready(request)
    _subject(session, request)
    if request.kind in {RequestKind.access, RequestKind.erasure, RequestKind.portability}:
        raise ValidationError(
            f"Complete a {request.kind} request with its own button.", field="kind"
        )
    text = clean_text(outcome, field="outcome", label="Outcome", max_length=OUTCOME_MAX)
    if not text:
        raise ValidationError("Outcome: say what was done.", field="outcome")
    if request.kind == RequestKind.objection:
        append_system_events(
            session=session,
            contact_id=request.contact_id or 0,
            action=ConsentAction.object,
            evidence=f"Objection request #{request.id}",
            actor=actor,
            request_id=request.id,
        )
    request.status = RequestStatus.completed
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.outcome = text
    return _save(session, request, actor, "complete", kind=str(request.kind))


def refuse_request(
    *,
    session: Session,
    request_id: int,
    reason: str,
    notified_on: date,
    told_of_right_to_complain: bool,
    version: int,
    actor: Actor,
) -> PrivacyRequest:
    """Refuse a request with reasons (Art. 12(4)): the person must be told why, and that
    they may complain to a supervisory authority and seek a judicial remedy."""
    request = _open(session, request_id, version, actor)
    why = clean_text(reason, field="reason", label="Reason for refusing", max_length=REFUSAL_MAX)
    if not why:
        raise ValidationError(
            "Reason for refusing: say why no action is taken (for example manifestly "
            "unfounded or excessive, or identity could not be verified).",
            field="reason",
        )
    if not told_of_right_to_complain:
        raise ValidationError(
            "Right to complain: the person must be told they may complain to a supervisory "
            "authority and seek a judicial remedy; tick the box once they have been.",
            field="told_of_right_to_complain",
        )
    if notified_on < request.received_on or notified_on > utcnow().date():
        raise ValidationError(
            "Told on: give the date the person was told, between receipt and today.",
            field="notified_on",
        )
    request.status = RequestStatus.refused
    request.completed_at = utcnow()
    request.completed_by_id = actor.id
    request.refusal_reason = why
    request.refusal_notified_on = notified_on
    request.outcome = "Refused; the person was told why and of their right to complain."
    return _save(
        session,
        request,
        actor,
        "refuse",
        kind=str(request.kind),
        notified_on=str(notified_on),
        late=notified_on > request.deadline,
    )


def answered_on(request: PrivacyRequest) -> date | None:
    """The day the person had their answer: the refusal notice, or the completion."""
    if request.status == RequestStatus.refused and request.refusal_notified_on is not None:
        return request.refusal_notified_on
    return request.completed_at.date() if request.completed_at else None


def list_requests(
    *,
    session: Session,
    actor: Actor,
    status: RequestStatus | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[PrivacyRequest], int]:
    """A page of requests, soonest deadline first, and the total."""
    _require_privacy(actor, "read data-subject requests")
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    conditions: list[Any] = []
    if status is not None:
        conditions.append(col(PrivacyRequest.status) == status)
    deadline = func.coalesce(PrivacyRequest.extended_due_on, PrivacyRequest.due_on)
    total = session.exec(select(func.count()).select_from(PrivacyRequest).where(*conditions)).one()
    rows = session.exec(
        select(PrivacyRequest)
        .where(*conditions)
        .order_by(deadline, col(PrivacyRequest.id))
        .offset(max(offset, 0))
        .limit(limit)
    ).all()
    return list(rows), int(total)


def overdue_requests(
    *, session: Session, actor: Actor, today: date | None = None
) -> list[PrivacyRequest]:
    """Open requests past their deadline (extended or not), oldest first."""
    _require_privacy(actor, "read data-subject requests")
    day = today or utcnow().date()
    deadline = func.coalesce(PrivacyRequest.extended_due_on, PrivacyRequest.due_on)
    return list(
        session.exec(
            select(PrivacyRequest)
            .where(col(PrivacyRequest.status) == RequestStatus.open, deadline < day)
            .order_by(deadline)
            .limit(100)
        ).all()
    )
