"""Sending survey links: consent at the moment of sending, international addresses, rounds."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.consent.state import ConsentState
from db.core.errors import DomainError
from db.core.types import utcnow
from db.models.consent import ConsentAction
from db.models.surveys import EmployeeCreate, SurveyInvitation
from db.surveys.distribution import (
    NOT_ASCII,
    SmtpSettings,
    describe_send,
    issue_links,
    open_survey,
    send_round,
)
from db.surveys.employees import create_employee
from db.surveys.voice import SKIP_REASONS, open_contact_survey
from tests.integration.consent_helpers import consent, purpose
from tests.integration.test_survey_voice import contact_survey, customers, hr, world
from tests.integration.test_surveys import TODAY, new_survey, staff
from tests.smtp_sink import smtp_sink

__all__ = ["world"]


def test_a_contact_who_withdrew_after_the_survey_opened_is_never_sent_its_link(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    survey_id = contact_survey(world)
    assert open_contact_survey(session=world, survey_id=survey_id, actor=hr(world)).invited == 6
    leaver = people[2]
    consent(world, leaver, feedback[0], ConsentAction.withdraw, utcnow() - timedelta(minutes=1))
    with smtp_sink() as (port, mailbox):
        smtp = SmtpSettings("127.0.0.1", port, sender="hr@example.org")
        first = send_round(session=world, survey_id=survey_id, actor=hr(world), smtp=smtp)
        again = send_round(
            session=world, survey_id=survey_id, actor=hr(world), smtp=smtp, reminder=True
        )
    addressed = [m["To"] for m in mailbox.messages]
    assert leaver.email not in addressed
    assert len(addressed) == 10
    assert first.sent == 5 and again.sent == 5
    assert first.left_out == {SKIP_REASONS[ConsentState.withdrawn]: 1}
    assert "withdrew their consent" in describe_send(first)
    # Nor does a mail-merge download hold a link for them.
    links = issue_links(
        session=world, survey_id=survey_id, actor=hr(world), everyone_unanswered=True
    )
    assert leaver.email not in {link.email for link in links} and len(links) == 5


def international_staff(session: Session) -> str:
    staff(session, {("Sales", "North"): 5})
    odd = "femi.fernández.14@example.org"
    create_employee(
        session=session,
        employee_in=EmployeeCreate(
            name="Femi Fernández",
            email=odd,
            department="Sales",
            team="North",
            location="Leeds",
            start_date=TODAY - timedelta(days=900),
        ),
        actor=OPERATOR,
    )
    return odd


def test_a_server_without_smtputf8_skips_and_names_the_address_and_sends_the_rest(
    session: Session,
) -> None:
    odd = international_staff(session)
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        report = send_round(
            session=session, survey_id=sid, actor=OPERATOR, smtp=SmtpSettings("127.0.0.1", port)
        )
    assert report.sent == 5 and len(mailbox.messages) == 5
    assert report.addresses == [odd]
    assert report.left_out == {NOT_ASCII: 1}
    assert "SMTPUTF8" in describe_send(report)


def test_a_server_offering_smtputf8_gets_the_international_address_too(session: Session) -> None:
    odd = international_staff(session)
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        mailbox.smtputf8 = True
        report = send_round(
            session=session, survey_id=sid, actor=OPERATOR, smtp=SmtpSettings("127.0.0.1", port)
        )
    assert report.sent == 6 and report.addresses == [] and report.left_out == {}
    assert [odd] in mailbox.recipients
    assert odd in {m["To"] for m in mailbox.messages}


def test_a_refused_recipient_is_skipped_and_counted_and_the_rest_still_go(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        mailbox.refuse = {"p2@example.org"}
        report = send_round(
            session=session, survey_id=sid, actor=OPERATOR, smtp=SmtpSettings("127.0.0.1", port)
        )
    assert report.sent == 5 and report.refused == 1
    assert "p2@example.org" not in {m["To"] for m in mailbox.messages}
    assert "refused" in describe_send(report)


def test_a_round_cut_short_is_resumed_without_sending_anyone_a_second_email(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 7})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        smtp = SmtpSettings("127.0.0.1", port)
        mailbox.fail_after = 3
        with pytest.raises(DomainError, match="after 3 email"):
            send_round(session=session, survey_id=sid, actor=OPERATOR, smtp=smtp)
        mailbox.fail_after = None
        resumed = send_round(session=session, survey_id=sid, actor=OPERATOR, smtp=smtp)
        addressed = [m["To"] for m in mailbox.messages]
        assert resumed.sent == 4 and resumed.already == 3
        assert len(addressed) == 7 and len(set(addressed)) == 7
        assert "3 already had" in describe_send(resumed)
        # The next send is a new round: everyone who has not answered gets one more.
        reminder = send_round(
            session=session, survey_id=sid, actor=OPERATOR, smtp=smtp, reminder=True
        )
    assert reminder.sent == 7 and reminder.already == 0
    rounds = {i.mailed_round for i in session.exec(select(SurveyInvitation)).all()}
    assert rounds == {2}
