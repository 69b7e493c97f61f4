"""Distribution: invite the audience, issue single-use links, email them, export them.

A link's token is shown once (in the email or the CSV) and stored only as its
SHA-256, so a copy of the database cannot be used to answer for someone.

Rapport sends links and reminders itself, by email, so HR never sees who has not
answered yet. The mail-merge download holds only people who have never been sent a
link: a second download holds nobody who was in the first, so comparing downloads
tells nothing. A download of everyone who has not answered exists for when email
cannot be used; it says in its first line that it breaks confidentiality and is
recorded in the audit log. Every invitation whose link went into a download is
marked, and answers from those people are counted apart in participation, so answers
HR could have given itself with the links it held can be seen.
"""

import secrets
import smtplib
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.preferences import new_link, preferences_url, unsubscribe_headers
from db.core.errors import Conflict, DomainError, ValidationError
from db.core.mail import from_header, local_sender
from db.core.settings import get_settings
from db.core.small_groups import big_enough
from db.core.spreadsheets import rows_csv
from db.core.types import utcnow
from db.models.auth import Role
from db.models.people import Contact
from db.models.surveys import (
    AudienceKind,
    Employee,
    Survey,
    SurveyInvitation,
    SurveyLink,
    SurveyStatus,
)
from db.surveys.builder import get_survey, list_questions
from db.surveys.languages import check_language
from db.surveys.tallies import current_release
from db.surveys.tokens import TOKEN_BYTES, hash_token
from db.surveys.voice import FEEDBACK_PURPOSE, feedback_withdrawn
from db.surveys.wording import (
    LOGO_CID,
    Draft,
    Letter,
    Mail,
    Preview,
    check_wording,
    framed,
    letter,
    sample_letter,
)


def public_url() -> str:
    """Where people reach Rapport, for the links (RAPPORT_PUBLIC_URL)."""
    return get_settings().public_url.rstrip("/") or "http://localhost:8501"


def answer_url(token: str, language: str | None = None) -> str:
    """The personal link that opens the answering page (in `language`, when given)."""
    shown = f"&lang={language}" if language else ""
    return f"{public_url()}/answer_survey?token={token}{shown}"


def _audience(survey: Survey) -> list[Any]:
    conditions: list[Any] = [col(Employee.left_on).is_(None)]
    if survey.audience_department:
        conditions.append(col(Employee.department) == survey.audience_department)
    if survey.audience_team:
        conditions.append(col(Employee.team) == survey.audience_team)
    if survey.audience_location:
        conditions.append(col(Employee.location) == survey.audience_location)
    return conditions


def open_survey(*, session: Session, survey_id: int, actor: Actor) -> int:
    """Open a draft survey and invite its audience; returns how many were invited (HR)."""
    require_role(actor, Role.hr, doing="open surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    if survey.audience_kind == AudienceKind.contacts.value:
        raise Conflict("This survey asks contacts; open it as a contact survey.")
    if survey.status != SurveyStatus.draft.value:
        raise Conflict("This survey has already been opened.")
    questions = list_questions(session=session, survey_id=survey_id)
    if not any(q.kind != "text" for q in questions):
        raise ValidationError("Questions: add at least one scaled or choice question first.")
    people = session.exec(
        select(Employee.id, Employee.department, Employee.team).where(*_audience(survey))
    ).all()
    if not big_enough(len(people), survey.min_group):
        raise ValidationError(
            f"Audience: only {len(people)} people match; a confidential survey needs at "
            f"least {survey.min_group}. Widen the audience.",
            field="audience",
        )
    for employee_id, department, team in people:
        assert employee_id is not None
        session.add(
            SurveyInvitation(
                survey_id=survey_id, employee_id=employee_id, department=department, team=team
            )
        )
    survey.status = SurveyStatus.open.value
    survey.opened_at = survey.opened_at or utcnow()
    survey.version += 1
    session.add(survey)
    record(
        session=session,
        actor=actor,
        action="survey.open",
        entity="survey",
        entity_id=survey_id,
        details={"invited": len(people)},
    )
    session.commit()
    return len(people)


@dataclass(frozen=True)
class IssuedLink:
    """A freshly issued personal link (the only time its token exists in clear)."""

    name: str
    email: str
    url: str


@dataclass(frozen=True)
class Invitee:
    """Who a link goes to, employee or contact (a contact's row, for its unsubscribe link)."""

    name: str
    email: str
    first_name: str = ""
    contact: Contact | None = None


def _pending(
    session: Session, survey_id: int, *, never_sent: bool = False
) -> list[tuple[SurveyInvitation, Invitee]]:
    unanswered: tuple[Any, ...] = (
        SurveyInvitation.survey_id == survey_id,
        col(SurveyInvitation.answered).is_(False),
    )
    if never_sent:
        unanswered += (col(SurveyInvitation.sent_count) == 0,)
    staff = session.exec(
        select(SurveyInvitation, Employee)
        .join(Employee, col(Employee.id) == col(SurveyInvitation.employee_id))
        .where(*unanswered)
        .order_by(col(Employee.name))
    ).all()
    pending = [
        (inv, Invitee(emp.name, emp.email, (emp.name.split() or [""])[0])) for inv, emp in staff
    ]
    contacts = session.exec(
        select(SurveyInvitation, Contact)
        .join(Contact, col(Contact.id) == col(SurveyInvitation.contact_id))
        .where(*unanswered, col(Contact.erased_at).is_(None))
        .order_by(col(Contact.family_name), col(Contact.given_name))
    ).all()
    pending += [
        (inv, Invitee(c.full_name, c.email or "", c.given_name or c.full_name, c))
        for inv, c in contacts
        if c.email
    ]
    return pending


def _new_link(session: Session, invitation: SurveyInvitation) -> str:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(SurveyLink(token_hash=hash_token(token), invitation_id=invitation.id))  # type: ignore[arg-type]
    invitation.sent_count += 1
    session.add(invitation)
    return token


def _require_open(survey: Survey) -> None:
    if survey.status != SurveyStatus.open.value:
        raise Conflict("Open the survey before issuing links; a closed survey takes no answers.")


BREAKS_CONFIDENTIALITY = (
    "# BREAKS CONFIDENTIALITY: this list names everyone who had not answered when it was "
    "made; comparing it with another shows who answered in between. Its download is "
    "recorded in the audit log, and answers through these links are counted apart."
)


def issue_links(
    *, session: Session, survey_id: int, actor: Actor, everyone_unanswered: bool = False
) -> list[IssuedLink]:
    """Links for a mail merge: everyone never sent a link, or (audited) all who have not answered.

    Without `everyone_unanswered` the list holds only people who have never been sent a
    link, which does not depend on who has answered. With it, everyone who has not
    answered gets a fresh link (earlier links keep working): that list tells who has
    not answered, so the audit log records it as breaking confidentiality (HR).
    """
    require_role(actor, Role.hr, doing="distribute surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    _require_open(survey)
    issued = []
    withdrawn = feedback_withdrawn(session, survey)
    for invitation, invitee in _pending(session, survey_id, never_sent=not everyone_unanswered):
        if invitation.contact_id in withdrawn:
            # Consent is checked when links are made, not only when the survey opened.
            continue
        token = _new_link(session, invitation)
        # HR now holds a working link for this person.
        invitation.link_downloaded = True
        issued.append(IssuedLink(invitee.name, invitee.email, answer_url(token)))
    record(
        session=session,
        actor=actor,
        action="survey.links.unanswered" if everyone_unanswered else "survey.links",
        entity="survey",
        entity_id=survey_id,
        details=(
            {"issued": len(issued), "breaks_confidentiality": True}
            if everyone_unanswered
            else {"issued": len(issued)}
        ),
    )
    session.commit()
    return issued


def links_csv(links: list[IssuedLink], *, breaks_confidentiality: bool = False) -> str:
    """Mail-merge CSV: name, email, link; a list of non-respondents says so first."""
    body = rows_csv(["name", "email", "link"], ([k.name, k.email, k.url] for k in links))
    return f"{BREAKS_CONFIDENTIALITY}\r\n{body}" if breaks_confidentiality else body


def _smtp_password() -> str | None:
    """RAPPORT_SMTP_PASSWORD, or the file RAPPORT_SMTP_PASSWORD_FILE names (a mounted secret)."""
    settings = get_settings()
    path = settings.smtp_password_file
    if path:
        try:
            with open(path, encoding="utf-8") as secret:
                return secret.read().strip() or None
        except OSError as err:
            raise RuntimeError(
                f"RAPPORT_SMTP_PASSWORD_FILE: cannot read {path!r} ({err})."
            ) from err
    return settings.smtp_password or None


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server (RAPPORT_SMTP_* environment variables)."""

    host: str
    port: int = 25
    sender: str = "surveys@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls) -> "SmtpSettings | None":
        """The configured server, or None when RAPPORT_SMTP_HOST is unset."""
        settings = get_settings()
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_user or None,
            password=_smtp_password(),
            starttls=settings.smtp_starttls,
        )


class MailNotConfigured(DomainError):
    """No SMTP server is configured."""


def survey_email(mail: Mail, *, to: str, sender: str, headers: dict[str, str]) -> EmailMessage:
    """One survey email: plain text and HTML alternatives, the logo inline beside the HTML."""
    message = EmailMessage()
    message["From"] = from_header(sender)
    message["To"] = to
    message["Subject"] = mail.subject
    for name, value in headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    if mail.logo:
        page = message.get_body(("html",))
        assert isinstance(page, EmailMessage)
        page.add_related(
            mail.logo.data,
            "image",
            mail.logo.subtype,
            cid=f"<{LOGO_CID}>",
            disposition="inline",
            filename=f"logo.{mail.logo.subtype}",
        )
    return message


def _write(
    session: Session, letter_: Letter, invitee: Invitee, token: str
) -> tuple[Mail, dict[str, str]]:
    """The email to one invitee, with a customer's unsubscribe link (a preference link)."""
    stop_url, headers = None, {}
    if invitee.contact is not None:
        # A customer survey's email can be stopped in one click (RFC 8058): the
        # unsubscribe route withdraws email for the feedback purpose.
        preference = new_link(session=session, contact=invitee.contact)
        stop_url = preference.url
        headers = unsubscribe_headers(preference.token, FEEDBACK_PURPOSE)
    mail = letter_.write(
        invitee.first_name or invitee.name,
        lambda language: answer_url(token, language),
        stop_url,
    )
    return mail, headers


def require_real_sender(sender: str) -> None:
    """Refuse a sender no one can answer (surveys@localhost) outside the demo.

    Mail from a localhost address is rejected or binned as spam by most receiving
    servers, and replies go nowhere: people would simply never see their link. The
    demo keeps the default so that it can send to a local test server.
    """
    if local_sender(sender) and not get_settings().demo:
        raise MailNotConfigured(
            f"The sender address is {sender!r}, which no one outside this server can answer, "
            "and most mail servers refuse or bin such mail. Set RAPPORT_SMTP_FROM to an "
            "address of your organisation (e.g. surveys@your-organisation.org) first."
        )


SAMPLE_NAME = "Alex"


def preview_mail(*, session: Session, actor: Actor, survey_id: int, draft: Draft) -> Preview:
    """The email HR's `draft` would make, for a sample person (HR).

    The wording is checked as saving checks it; nothing is saved or sent.
    """
    require_role(actor, Role.hr, doing="word survey emails")
    survey = get_survey(session=session, survey_id=survey_id)
    sample = sample_letter(
        session=session,
        survey_id=survey_id,
        language=check_language(draft.language),
        wording=check_wording(draft.kind, draft.subject, draft.body),
    )
    contacts = survey.audience_kind == AudienceKind.contacts.value
    mail = sample.write(
        SAMPLE_NAME,
        lambda shown: answer_url("SAMPLE-LINK", shown),
        preferences_url("SAMPLE-LINK") if contacts else None,
    )
    return framed(mail)


NOT_ASCII = "need an international (SMTPUTF8) mail server, which this one is not"
REFUSED = "were refused by the mail server"


@dataclass(frozen=True)
class SendReport:
    """What one send did: how many emails went, and who could not be sent, and why.

    `left_out` counts invited people who were not sent to for a reason that does not
    depend on whether they answered (consent withdrawn, an address the server cannot
    take), counted over everyone invited, so the figure never tells who has answered.
    `addresses` lists the addresses the server cannot take, over the whole audience.
    """

    sent: int
    already: int
    left_out: dict[str, int]
    addresses: list[str]
    refused: int


def _audience_addresses(session: Session, survey: Survey) -> list[str]:
    """Every invited person's address (answered or not), for checks that must not tell which."""
    staff = session.exec(
        select(Employee.email)
        .join(SurveyInvitation, col(SurveyInvitation.employee_id) == col(Employee.id))
        .where(SurveyInvitation.survey_id == survey.id)
    ).all()
    contacts = session.exec(
        select(Contact.email)
        .join(SurveyInvitation, col(SurveyInvitation.contact_id) == col(Contact.id))
        .where(SurveyInvitation.survey_id == survey.id)
    ).all()
    return sorted({e for e in [*staff, *contacts] if e})


def _start_or_resume_round(session: Session, survey: Survey) -> int:
    """The round this send belongs to: the unfinished one, or a new one."""
    if survey.mail_round_done or survey.mail_round == 0:
        survey.mail_round += 1
        survey.mail_round_done = False
        session.add(survey)
        session.commit()
    return survey.mail_round


def send_round(
    *,
    session: Session,
    survey_id: int,
    actor: Actor,
    smtp: SmtpSettings | None = None,
    reminder: bool = False,
) -> SendReport:
    """Email a personal link to everyone who has not answered, once per round (HR).

    Consent is checked now, at the moment of sending, not only when the survey opened:
    a contact who has since withdrawn is not sent to. An address the server cannot take
    (non-ASCII without SMTPUTF8, or refused) is skipped and reported, and the rest still
    go. A round the mail server cut short is resumed by the next send, which skips
    whoever this round already reached, so nobody gets two emails for one round.
    """
    require_role(actor, Role.hr, doing="distribute surveys")
    settings = smtp or SmtpSettings.from_env()
    if settings is None:
        raise MailNotConfigured(
            "Email is not configured: set RAPPORT_SMTP_HOST (see the README), "
            "or download the links as CSV for a mail merge."
        )
    require_real_sender(settings.sender)
    survey = get_survey(session=session, survey_id=survey_id)
    _require_open(survey)
    # Written once per send, in every language the survey offers; a bad logo stops the
    # send here, before anyone is emailed.
    words = letter(
        session=session, survey_id=survey_id, kind="reminder" if reminder else "invitation"
    )
    withdrawn = feedback_withdrawn(session, survey)
    left_out = dict(Counter(withdrawn.values()))
    sent = refused = 0
    addresses: list[str] = []
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=20) as server:
            server.ehlo_or_helo_if_needed()
            if settings.starttls:
                server.starttls()
                server.ehlo()
            if settings.username and settings.password:
                server.login(settings.username, settings.password)
            international = server.has_extn("smtputf8")
            if not international:
                addresses = [a for a in _audience_addresses(session, survey) if not a.isascii()]
                if addresses:
                    left_out[NOT_ASCII] = len(addresses)
            number = _start_or_resume_round(session, survey)
            # Counted over everyone invited, answered or not, so it tells nothing of who
            # answered between a cut-short round and its resumption.
            already = session.exec(
                select(func.count()).where(
                    SurveyInvitation.survey_id == survey_id,
                    col(SurveyInvitation.mailed_round) >= number,
                )
            ).one()
            for invitation, invitee in _pending(session, survey_id):
                if invitation.mailed_round >= number:
                    continue
                if invitation.contact_id in withdrawn:
                    continue
                if not international and not invitee.email.isascii():
                    continue
                token = _new_link(session, invitation)
                mail, headers = _write(session, words, invitee, token)
                try:
                    server.send_message(
                        survey_email(
                            mail, to=invitee.email, sender=settings.sender, headers=headers
                        )
                    )
                except smtplib.SMTPRecipientsRefused:
                    session.rollback()
                    refused += 1
                    continue
                invitation.mailed_round = number
                session.add(invitation)
                # Keep each link whose email went out, even if a later one fails.
                session.commit()
                sent += 1
            survey.mail_round_done = True
            session.add(survey)
            session.commit()
    except (OSError, smtplib.SMTPException) as err:
        session.rollback()
        _record_sent(session, actor, survey_id, sent, reminder)
        raise DomainError(
            f"The mail server refused or could not be reached after {sent} email(s) this "
            f"time: {err}. Those already sent stay valid; send again to reach the rest — "
            "nobody already sent this round is sent to twice."
        ) from err
    _record_sent(session, actor, survey_id, sent, reminder)
    return SendReport(sent, int(already), left_out, addresses, refused)


def send_links(
    *,
    session: Session,
    survey_id: int,
    actor: Actor,
    smtp: SmtpSettings | None = None,
    reminder: bool = False,
) -> int:
    """Email a personal link to everyone who has not answered; returns how many went (HR)."""
    return send_round(
        session=session, survey_id=survey_id, actor=actor, smtp=smtp, reminder=reminder
    ).sent


def describe_send(report: SendReport) -> str:
    """The send in plain words: what went, what did not and why."""
    parts = [f"Sent {report.sent:,} email{'s' if report.sent != 1 else ''}."]
    if report.already:
        parts.append(
            f"{report.already:,} already had this round's email and were not sent it again."
        )
    for why, n in sorted(report.left_out.items()):
        parts.append(f"{n:,} invited {'person' if n == 1 else 'people'} {why}: not sent.")
    if report.refused:
        parts.append(f"{report.refused:,} {REFUSED}: not sent.")
    return " ".join(parts)


def _record_sent(session: Session, actor: Actor, survey_id: int, sent: int, reminder: bool) -> None:
    # Not how many went: emails go to those who have not answered, so counts logged
    # one reminder after another would tick down with each answer.
    record(
        session=session,
        actor=actor,
        action="survey.remind" if reminder else "survey.send",
        entity="survey",
        entity_id=survey_id,
    )
    session.commit()


@dataclass(frozen=True)
class Progress:
    """Invited and released answered counts; answered is None while below the threshold."""

    invited: int
    answered: int | None
    min_group: int


def progress(*, session: Session, survey_id: int, actor: Actor) -> Progress:
    """How many were invited and, once at the threshold, how many answers are released (HR).

    The answered count is the survey's release (see `db.surveys.tallies.release`): it
    moves in steps of the threshold or more per group, never one answer at a time.
    """
    require_role(actor, Role.hr, doing="follow surveys")
    survey = get_survey(session=session, survey_id=survey_id)
    invited = session.exec(
        select(func.count()).where(SurveyInvitation.survey_id == survey_id)
    ).one()
    answered = sum(r.responses for r in current_release(session, survey).values())
    return Progress(
        int(invited),
        answered if big_enough(answered, survey.min_group) else None,
        survey.min_group,
    )
