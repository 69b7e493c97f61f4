"""Data-subject requests made by the people themselves, on a public page.

Anyone gives an email address and what they ask; a code goes to that address, and
entering it registers the request in the privacy officers' queue with its legal
deadline, identity verified by that step ("controls the address"). Whether Rapport
knows the address is never told: every address gets the same answer and the same
email, and someone Rapport holds nothing on is registered too (and answered so).
The person follows the request by its reference, and downloads the answer once a
privacy officer has released it, behind a new emailed code.

Codes are 8 digits, kept only as a SHA-256 with the browser session's ticket (so a code
works only in the session that asked for it), expire after 30 minutes and allow five
tries; the address and the question are deleted with the code once it is used.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from db.auth.audit import record
from db.consent.requests import AccessExport, build_access_export, build_portability_export
from db.core.deadlines import request_due
from db.core.errors import DomainError, NotFound, ValidationError
from db.core.limits import PublicForm, check_allowance, note_submission
from db.core.mail import new_message, send_message
from db.core.normalise import clean_text, normalise_email
from db.core.settings import get_settings
from db.core.types import utcnow
from db.models.consent import PrivacyRequest, RequestKind, RequestStatus
from db.models.people import Contact
from db.models.self_service import EmailedCode

CODE_MINUTES = 30
CODE_TRIES = 5
DETAILS_MAX = 2000
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
REFERENCE_INPUT_MAX = 20
CODE_INPUT_MAX = 20
TICKET_MAX = 100
KIND_WORDS: dict[RequestKind, str] = {
    RequestKind.access: "Tell me what you hold on me (a copy of my data)",
    RequestKind.portability: "Give me my data in a machine-readable file, to take elsewhere",
    RequestKind.rectification: "Correct something you hold about me",
    RequestKind.erasure: "Erase my data",
    RequestKind.objection: "Stop using my data for marketing or profiling",
    RequestKind.restriction: "Stop using my data while a question is settled",
}
PURPOSE_REQUEST = "request"
PURPOSE_DOWNLOAD = "download"


class WrongCode(DomainError):
    """The code entered is not the one emailed (or it expired)."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def normalise_code(code: str) -> str:
    """The digits of a code as typed (spaces and dashes ignored)."""
    return "".join(ch for ch in (code or "")[:CODE_INPUT_MAX] if ch.isdigit())


def _forget_expired(session: Session, now: datetime) -> None:
    session.execute(delete(EmailedCode).where(col(EmailedCode.expires_at) <= now))


def _organisation() -> str:
    return get_settings().organisation_name


def _code_email(to: str, code: str, what: str) -> None:
    organisation = _organisation()
    send_message(
        new_message(
            to=to,
            subject=f"Your code for {organisation}: {code[:4]} {code[4:]}",
            body=(
                f"Hello,\n\nSomeone, probably you, asked {organisation} to {what} for this "
                f"address. To go on, enter this code on the page where you asked:\n\n"
                f"    {code[:4]} {code[4:]}\n\nIt works for {CODE_MINUTES} minutes. If it "
                "was not you, ignore this email: nothing happens without the code.\n"
            ),
        )
    )


def start_request(
    *, session: Session, kind: RequestKind, email: str, details: str | None, visitor: str
) -> str:
    """Email a code to `email` to confirm a request; returns the browser session's ticket.

    The answer is the same whether or not Rapport knows the address."""
    now = utcnow()
    try:
        kind = RequestKind(str(kind))
    except ValueError:
        raise ValidationError("What you ask: choose one of the kinds.", field="kind") from None
    address = normalise_email(email, label="Your email address")
    if not address:
        raise ValidationError(
            "Your email address: enter it, so we can send you a code.", field="email"
        )
    text = clean_text(details, field="details", label="Details", max_length=DETAILS_MAX)
    check_allowance(session=session, form=PublicForm.privacy_request, visitor=visitor, now=now)
    _forget_expired(session, now)
    ticket = secrets.token_urlsafe(24)
    code = _new_code()
    session.add(
        EmailedCode(
            purpose=PURPOSE_REQUEST,
            ticket_hash=_digest(ticket),
            code_hash=_digest(ticket, code),
            email=address,
            kind=kind.value,
            details=text,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    note_submission(session=session, form=PublicForm.privacy_request, visitor=visitor, now=now)
    session.flush()
    # Sent before the commit: if the mail server refuses, nothing is kept.
    _code_email(address, code, "register a request about their personal data")
    session.commit()
    return ticket


def _check_code(
    session: Session, ticket: str, code: str, purpose: str, visitor: str
) -> EmailedCode:
    now = utcnow()
    ticket = (ticket or "")[:TICKET_MAX]
    pending = session.exec(
        select(EmailedCode).where(
            col(EmailedCode.ticket_hash) == _digest(ticket),
            col(EmailedCode.purpose) == purpose,
        )
    ).first()
    if pending is None or pending.expires_at <= now:
        raise WrongCode(
            "This code has expired or was already used. Ask for a new one: it is sent to "
            "the same address."
        )
    check_allowance(session=session, form=PublicForm.code_failure, visitor=visitor, now=now)
    if not secrets.compare_digest(pending.code_hash, _digest(ticket, normalise_code(code))):
        pending.attempts += 1
        left = CODE_TRIES - pending.attempts
        if left <= 0:
            session.delete(pending)
        else:
            session.add(pending)
        note_submission(session=session, form=PublicForm.code_failure, visitor=visitor, now=now)
        session.commit()
        raise WrongCode(
            f"That is not the code we sent; {left} tr{'y' if left == 1 else 'ies'} left."
            if left > 0
            else "That is not the code we sent, five times: ask for a new code."
        )
    return pending


def _new_reference(session: Session) -> str:
    while True:
        body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
        reference = f"R-{body[:5]}-{body[5:]}"
        taken = session.exec(
            select(PrivacyRequest.id).where(col(PrivacyRequest.reference) == reference)
        ).first()
        if taken is None:
            return reference


def _contacts_with(session: Session, address: str) -> list[int]:
    """Live contacts whose email (either one) is `address`."""
    found = session.exec(
        select(Contact.id).where(
            or_(
                func.lower(Contact.email) == address,
                func.lower(Contact.email2) == address,
            ),
            col(Contact.merged_into_id).is_(None),
            col(Contact.erased_at).is_(None),
        )
    ).all()
    return [int(i) for i in found if i is not None]


@dataclass(frozen=True)
class Registered:
    """What the person is told once the request is registered."""

    reference: str
    kind: RequestKind
    due_on: date


def confirm_request(*, session: Session, ticket: str, code: str, visitor: str) -> Registered:
    """Register the request once the emailed code is entered."""
    pending = _check_code(session, ticket, code, PURPOSE_REQUEST, visitor)
    address = pending.email or ""
    matches = _contacts_with(session, address)
    today = utcnow().date()
    note = f"The requester entered the code emailed to {address}."
    if len(matches) > 1:
        note += f" {len(matches)} contacts have this address: choose which one it is."
    elif not matches:
        note += " No contact has this address."
    request = PrivacyRequest(
        kind=RequestKind(pending.kind or RequestKind.access.value),
        contact_id=matches[0] if len(matches) == 1 else None,
        received_on=today,
        notes=pending.details,
        verified_at=utcnow(),
        verification_method="Emailed code",
        verification_note=note,
        reference=_new_reference(session),
        requester_email=address,
        due_on=request_due(today),
    )
    session.add(request)
    session.delete(pending)
    session.flush()
    record(
        session,
        None,
        "privacy_request.public",
        "privacy_request",
        entity_id=request.id,
        details={"kind": request.kind, "due_on": str(request.due_on)},
    )
    reference = request.reference or ""
    organisation = _organisation()
    send_message(
        new_message(
            to=address,
            subject=f"Your request to {organisation}: {reference}",
            body=(
                f"Hello,\n\nWe have registered your request ({KIND_WORDS[request.kind]}). "
                f"Its reference is {reference}; we answer by {request.due_on:%d %B %Y}.\n"
                "Follow it on the page where you made it, with this reference.\n"
            ),
        )
    )
    session.commit()
    return Registered(reference, request.kind, request.due_on)


@dataclass(frozen=True)
class Status:
    """Where a request stands, as its requester sees it."""

    reference: str
    kind: RequestKind
    received_on: date
    deadline: date
    state: str
    answer: str | None
    downloadable: bool


NO_SUCH_REFERENCE = "There is no request with this reference. Check it against our email."


def normalise_reference(reference: str) -> str:
    """A reference as typed, upper-cased, with the dashes where they belong."""
    raw = "".join(ch for ch in (reference or "")[:REFERENCE_INPUT_MAX].upper() if ch.isalnum())
    if raw.startswith("R"):
        raw = raw[1:]
    return f"R-{raw[:5]}-{raw[5:]}" if len(raw) == 10 else ""


def _by_reference(session: Session, reference: str) -> PrivacyRequest:
    ref = normalise_reference(reference)
    request = (
        session.exec(select(PrivacyRequest).where(col(PrivacyRequest.reference) == ref)).first()
        if ref
        else None
    )
    if request is None:
        raise NotFound(NO_SUCH_REFERENCE)
    return request


def request_status(*, session: Session, reference: str) -> Status:
    """A public request's status by its reference."""
    request = _by_reference(session, reference)
    if request.status == RequestStatus.open:
        state = "Being handled" if request.deadline >= utcnow().date() else "Late: we are sorry"
        if request.extended_due_on is not None:
            state += " (extended: we wrote to you why)"
    elif request.status == RequestStatus.refused:
        state = "Refused: we wrote to you with the reasons and your right to complain"
    else:
        state = "Answered"
    answer = request.outcome if request.status == RequestStatus.completed else None
    downloadable = request.released_at is not None and request.kind in (
        RequestKind.access,
        RequestKind.portability,
    )
    return Status(
        reference=request.reference or "",
        kind=request.kind,
        received_on=request.received_on,
        deadline=request.deadline,
        state=state,
        answer=answer,
        downloadable=downloadable,
    )


def start_download(*, session: Session, reference: str, visitor: str) -> str:
    """Email a code to the requester's address to download a released answer."""
    now = utcnow()
    request = _by_reference(session, reference)
    if request.released_at is None or not request.requester_email:
        raise ValidationError("The answer to this request is not ready to download yet.")
    check_allowance(session=session, form=PublicForm.privacy_request, visitor=visitor, now=now)
    _forget_expired(session, now)
    ticket = secrets.token_urlsafe(24)
    code = _new_code()
    session.add(
        EmailedCode(
            purpose=PURPOSE_DOWNLOAD,
            ticket_hash=_digest(ticket),
            code_hash=_digest(ticket, code),
            request_id=request.id,
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
    )
    note_submission(session=session, form=PublicForm.privacy_request, visitor=visitor, now=now)
    session.flush()
    _code_email(
        request.requester_email, code, f"download the answer to request {request.reference}"
    )
    session.commit()
    return ticket


def download_answer(*, session: Session, ticket: str, code: str, visitor: str) -> AccessExport:
    """The released answer, once the emailed code is entered."""
    pending = _check_code(session, ticket, code, PURPOSE_DOWNLOAD, visitor)
    request = session.get(PrivacyRequest, pending.request_id)
    if request is None or request.released_at is None:
        raise NotFound("The answer to this request is not available.")
    contact = session.get(Contact, request.contact_id) if request.contact_id else None
    if contact is None or contact.erased_at is not None:
        export = nothing_held_export(request)
    elif request.kind == RequestKind.portability:
        export = build_portability_export(session=session, contact=contact)
    else:
        export = build_access_export(session=session, contact=contact, request_id=request.id)
    session.delete(pending)
    record(session, None, "privacy_request.download", "privacy_request", entity_id=request.id)
    session.commit()
    return export


def nothing_held_export(request: PrivacyRequest) -> AccessExport:
    """The answer to someone Rapport holds no data on."""
    text = (
        f"{_organisation()} holds no personal data about the address that made request "
        f"{request.reference}, other than this request itself.\n"
    )
    data: dict[str, object] = {
        "generated_at": utcnow().isoformat(),
        "contact": None,
        "records": {},
        "note": "No personal data is held about this address.",
    }
    return AccessExport(json.dumps(data, indent=2), text)


def forget_expired_codes(session: Session, now: datetime) -> str:
    """The worker's job: emailed codes past their time are deleted with their addresses,
    even when nobody asks for another code."""
    expired = session.exec(
        select(func.count()).select_from(EmailedCode).where(col(EmailedCode.expires_at) <= now)
    ).one()
    _forget_expired(session, now)
    session.commit()
    return f"{expired} expired emailed code(s) forgotten"
