"""Self-service: the preference centre, one-click unsubscribe, public data-subject
requests by emailed code, Ask us, and the privacy officer's request search."""

import base64
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR
from db.consent.ledger import verify_ledger
from db.consent.preferences import (
    issue_link,
    marketing_email,
    my_receipt,
    one_click_unsubscribe,
    open_preferences,
    send_preference_link,
    set_choice,
    set_preferred_channel,
    stop_everything,
    token_digest,
)
from db.consent.requests import (
    NOTHING_HELD,
    complete_access,
    complete_nothing_held,
    complete_portability,
    find_subjects,
    link_contact,
    subject_names,
    verify_identity,
)
from db.consent.self_service import (
    WrongCode,
    confirm_request,
    download_answer,
    request_status,
    start_download,
    start_request,
)
from db.consent.state import ConsentState
from db.core.errors import NotFound, ValidationError
from db.core.limits import TooManySubmissions
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.experience.channel_choice import channel_share
from db.experience.responsiveness import unanswered_contacts
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    Notice,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from db.models.people import Channel, Contact, Direction, Interaction, Task
from db.models.self_service import EmailedCode, PreferenceLink
from db.people.ask_us import AskIn, ask, open_questions
from tests.integration.consent_helpers import consent, person, purpose, user
from tests.smtp_sink import Mailbox, smtp_sink


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with smtp_sink() as (port, box):
        monkeypatch.setenv("RAPPORT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("RAPPORT_SMTP_PORT", str(port))
        monkeypatch.setenv("RAPPORT_SMTP_FROM", "privacy@example.org")
        yield box


def _code(box: Mailbox) -> str:
    body = box.messages[-1].get_content()  # type: ignore[attr-defined]
    found = re.search(r"(\d{4}) (\d{4})", body)
    assert found is not None, body
    return found.group(1) + found.group(2)


def _granted_person(world: Session) -> tuple[Contact, int, int]:
    marketing, notice = purpose(world, "newsletter")
    contact = person(world, "Ada", "Lovelace", email="ada@example.org")
    consent(
        world,
        contact,
        marketing,
        ConsentAction.grant,
        utcnow() - timedelta(days=3),
        notice=notice,
    )
    return contact, marketing.id or 0, notice.id or 0


def test_a_preference_link_names_the_contact_only_through_its_stored_hash(world: Session) -> None:
    contact, _purpose_id, _notice = _granted_person(world)
    link = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    stored = world.exec(select(PreferenceLink)).one()
    assert stored.token_hash == token_digest(link.token)
    assert link.token not in stored.token_hash
    # What the token carries is a random value: nothing about the person.
    payload = link.token.split(".")[0]
    carried = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(carried, str) and len(carried) == 24
    again = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    assert again.token.split(".")[0] != payload
    prefs = open_preferences(session=world, token=link.token)
    assert prefs.choices[0].agreed(ConsentChannel.email)
    # A forged or altered token, or an expired link, opens nothing, with one message.
    for bad in (link.token[:-2] + "xx", "nonsense", ""):
        with pytest.raises(NotFound, match="does not work"):
            open_preferences(session=world, token=bad)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    world.add(stored)
    world.commit()
    with pytest.raises(NotFound, match="does not work"):
        open_preferences(session=world, token=link.token)


def test_each_choice_is_a_self_service_ledger_event_with_the_notice_and_the_link(
    world: Session,
) -> None:
    contact, purpose_id, notice_id = _granted_person(world)
    link = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    assert set_choice(
        session=world,
        token=link.token,
        purpose_id=purpose_id,
        channel=ConsentChannel.email,
        agree=False,
        notice_id=notice_id,
    )
    # The same choice again changes nothing.
    assert not set_choice(
        session=world,
        token=link.token,
        purpose_id=purpose_id,
        channel=ConsentChannel.email,
        agree=False,
        notice_id=notice_id,
    )
    assert set_choice(
        session=world,
        token=link.token,
        purpose_id=purpose_id,
        channel=ConsentChannel.sms,
        agree=True,
        notice_id=notice_id,
    )
    events = world.exec(
        select(ConsentEvent).where(col(ConsentEvent.source) == ConsentSource.self_service)
    ).all()
    assert [(e.channel, e.action) for e in events] == [
        (ConsentChannel.email, ConsentAction.withdraw),
        (ConsentChannel.sms, ConsentAction.grant),
    ]
    assert all(e.notice_id == notice_id for e in events)
    assert all(f"preference link #{link.link_id}" in (e.evidence or "") for e in events)
    assert verify_ledger(session=world).ok
    prefs = open_preferences(session=world, token=link.token)
    assert prefs.choices[0].states[ConsentChannel.email] == ConsentState.withdrawn
    sms_grant = prefs.choices[0].grants[ConsentChannel.sms]
    receipt = my_receipt(session=world, token=link.token, event_id=sms_grant)
    assert receipt["collectionMethod"] == "self_service"
    assert receipt["version"] == "KI-CR-v1.1.0"
    # Another person's agreement is not reachable through this link.
    other = person(world, "Bob", "Other", email="bob@example.org")
    theirs = consent(
        world,
        other,
        world.exec(select(ConsentPurpose)).one(),
        ConsentAction.grant,
        utcnow() - timedelta(days=1),
        notice=world.exec(select(Notice)).one(),
    )
    with pytest.raises(NotFound):
        my_receipt(session=world, token=link.token, event_id=theirs.id or 0)


def test_a_grant_against_wording_that_changed_since_the_page_was_shown_is_refused(
    world: Session,
) -> None:
    contact, purpose_id, notice_id = _granted_person(world)
    link = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    from db.consent.records import publish_notice

    publish_notice(
        session=world, purpose_id=purpose_id, wording="New words", actor=user(world, "privacy")
    )
    with pytest.raises(ValidationError, match="wording"):
        set_choice(
            session=world,
            token=link.token,
            purpose_id=purpose_id,
            channel=ConsentChannel.sms,
            agree=True,
            notice_id=notice_id,
        )


def test_stop_everything_withdraws_all_and_preferred_channel_is_counted(world: Session) -> None:
    contact, purpose_id, _notice = _granted_person(world)
    link = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    assert stop_everything(session=world, token=link.token) == 1
    assert stop_everything(session=world, token=link.token) == 0
    prefs = open_preferences(session=world, token=link.token)
    assert not any(prefs.choices[0].agreed(c) for c in ConsentChannel if c != ConsentChannel.any)
    set_preferred_channel(session=world, token=link.token, preferred="Phone")
    world.refresh(contact)
    assert contact.preferred_channel == Channel.phone
    # Customer experience's channel-of-choice figure counts the person once reached.
    world.add(
        Interaction(
            contact_id=contact.id or 0,
            channel=Channel.phone,
            direction=Direction.outbound,
            purpose="service",
            occurred_at=utcnow() - timedelta(minutes=1),
        )
    )
    world.commit()
    share = channel_share(
        session=world,
        actor=OPERATOR,
        since=utcnow() - timedelta(days=1),
        until=utcnow() + timedelta(days=1),
    )
    assert share.reached == 1 and share.on_preferred == 1


def test_one_click_unsubscribe_withdraws_once_and_repeats_change_nothing(world: Session) -> None:
    contact, _purpose_id, _notice = _granted_person(world)
    link = issue_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    assert one_click_unsubscribe(session=world, token=link.token, purpose_code="newsletter")
    assert not one_click_unsubscribe(session=world, token=link.token, purpose_code="newsletter")
    withdrawals = world.exec(
        select(ConsentEvent).where(col(ConsentEvent.action) == ConsentAction.withdraw)
    ).all()
    assert len(withdrawals) == 1
    assert "One-click unsubscribe" in (withdrawals[0].evidence or "")
    assert withdrawals[0].source == ConsentSource.self_service


def test_marketing_email_carries_the_rfc_8058_headers_and_the_personal_link(
    world: Session,
) -> None:
    contact, _purpose_id, _notice = _granted_person(world)
    message = marketing_email(
        session=world,
        contact_id=contact.id or 0,
        purpose_code="newsletter",
        subject="Spring news",
        body="Hello",
        actor=user(world, "privacy"),
    )
    world.commit()
    header = message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    urls = re.findall(r"<([^>]+)>", header)
    assert len(urls) == 2
    assert "/unsubscribe/" in urls[0] and "purpose=newsletter" in urls[0]
    assert "/preferences?token=" in urls[1]
    assert urls[1] in message.get_content()
    token = urls[1].split("token=")[1]
    assert open_preferences(session=world, token=token).choices


def test_a_preference_link_goes_by_email(world: Session, mailbox: Mailbox) -> None:
    contact, _purpose_id, _notice = _granted_person(world)
    send_preference_link(session=world, contact_id=contact.id or 0, actor=user(world, "privacy"))
    sent = mailbox.messages[-1]
    assert sent["To"] == "ada@example.org"
    assert "/preferences?token=" in sent.get_content()  # type: ignore[attr-defined]


def test_a_public_request_is_registered_verified_and_answered_behind_emailed_codes(
    world: Session, mailbox: Mailbox
) -> None:
    contact = person(world, "Ada", "Lovelace", email="ada@example.org")
    ticket = start_request(
        session=world,
        kind=RequestKind.access,
        email="Ada@Example.org",
        details="What do you hold on me?",
        visitor="v1",
    )
    code = _code(mailbox)
    with pytest.raises(WrongCode, match="4 tries left"):
        confirm_request(session=world, ticket=ticket, code="00000000", visitor="v1")
    # A code works only with the ticket of the browser session that asked for it.
    with pytest.raises(WrongCode):
        confirm_request(session=world, ticket="another-ticket", code=code, visitor="v1")
    made = confirm_request(session=world, ticket=ticket, code=code, visitor="v1")
    assert world.exec(select(EmailedCode)).all() == []  # the address and code are gone
    request = world.exec(select(PrivacyRequest)).one()
    assert request.contact_id == contact.id
    assert request.verified_at is not None and request.verification_method == "Emailed code"
    assert request.due_on > utcnow().date()
    assert made.reference in mailbox.messages[-1].get_content()  # type: ignore[attr-defined]
    status = request_status(session=world, reference=made.reference.lower())
    assert status.state.startswith("Being handled") and not status.downloadable
    with pytest.raises(ValidationError, match="not ready"):
        start_download(session=world, reference=made.reference, visitor="v1")
    officer = user(world, "privacy")
    complete_access(
        session=world, request_id=request.id or 0, version=request.version, actor=officer
    )
    assert request_status(session=world, reference=made.reference).downloadable
    download_ticket = start_download(session=world, reference=made.reference, visitor="v1")
    assert mailbox.messages[-1]["To"] == "ada@example.org"
    export = download_answer(
        session=world, ticket=download_ticket, code=_code(mailbox), visitor="v1"
    )
    data = json.loads(export.json_text)
    assert data["contact"]["email"] == "ada@example.org"
    # The code is single-use.
    with pytest.raises(WrongCode):
        download_answer(session=world, ticket=download_ticket, code="1", visitor="v1")


def test_an_unknown_address_gets_the_same_answer_and_is_told_we_hold_nothing(
    world: Session, mailbox: Mailbox
) -> None:
    person(world, "Ada", "Lovelace", email="ada@example.org")
    known = start_request(
        session=world, kind=RequestKind.access, email="ada@example.org", details=None, visitor="a"
    )
    known_mail = mailbox.messages[-1]
    unknown = start_request(
        session=world,
        kind=RequestKind.access,
        email="nobody@example.org",
        details=None,
        visitor="b",
    )
    unknown_mail = mailbox.messages[-1]
    # The same email, but the code and address: nothing tells the two apart.
    strip = re.compile(r"\d{4} \d{4}")
    assert strip.sub("", known_mail.get_content()) == strip.sub("", unknown_mail.get_content())  # type: ignore[attr-defined]
    assert type(known) is type(unknown) and len(known) == len(unknown)
    made = confirm_request(session=world, ticket=unknown, code=_code(mailbox), visitor="b")
    request = world.exec(
        select(PrivacyRequest).where(col(PrivacyRequest.reference) == made.reference)
    ).one()
    assert request.contact_id is None
    officer = user(world, "privacy")
    names = subject_names(session=world, requests=[request], actor=officer)
    assert names[request.id or 0] == "(not linked to a contact)"
    with pytest.raises(Exception, match="not linked"):
        complete_access(
            session=world, request_id=request.id or 0, version=request.version, actor=officer
        )
    complete_nothing_held(
        session=world, request_id=request.id or 0, version=request.version, actor=officer
    )
    status = request_status(session=world, reference=made.reference)
    assert status.answer == NOTHING_HELD and status.state == "Answered"
    assert status.deadline >= request.received_on


def test_public_requests_are_rate_limited_per_browser_session(
    world: Session, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_SESSION", "2")
    for _ in range(2):
        start_request(
            session=world, kind=RequestKind.access, email="x@example.org", details=None, visitor="v"
        )
    with pytest.raises(TooManySubmissions):
        start_request(
            session=world, kind=RequestKind.access, email="x@example.org", details=None, visitor="v"
        )
    assert len(mailbox.messages) == 2


def test_portability_gives_a_machine_readable_export_of_what_the_person_provided(
    world: Session, mailbox: Mailbox
) -> None:
    contact = person(world, "Ada", "Lovelace", email="ada@example.org", phone="+442079460018")
    ticket = start_request(
        session=world,
        kind=RequestKind.portability,
        email="ada@example.org",
        details=None,
        visitor="p",
    )
    made = confirm_request(session=world, ticket=ticket, code=_code(mailbox), visitor="p")
    request = world.exec(select(PrivacyRequest)).one()
    export = complete_portability(
        session=world,
        request_id=request.id or 0,
        version=request.version,
        actor=user(world, "privacy"),
    )
    data = json.loads(export.json_text)
    assert data["format"] == "rapport-portability-v1"
    assert data["person"]["email"] == "ada@example.org"
    assert data["person"]["phone"] == "+442079460018"
    assert request_status(session=world, reference=made.reference).downloadable
    assert contact.id == request.contact_id


def test_request_search_finds_full_names_emails_and_phones_and_never_picks_silently(
    world: Session,
) -> None:
    officer = user(world, "privacy")
    for given in ("Ann", "Bea", "Cat"):
        person(world, given, "Smith", email=f"{given.lower()}@example.org")
    target = person(world, "Dora", "Smith", email="dora@example.org", phone="+442079460099")
    assert len(find_subjects(session=world, query="Smith", actor=officer)) == 4
    assert [c.id for c in find_subjects(session=world, query="Dora Smith", actor=officer)] == [
        target.id
    ]
    assert [
        c.id for c in find_subjects(session=world, query="DORA@example.org", actor=officer)
    ] == [target.id]
    assert [c.id for c in find_subjects(session=world, query="020 7946 0099", actor=officer)] == [
        target.id
    ]
    with pytest.raises(Exception, match="privacy"):
        find_subjects(session=world, query="Smith", actor=user(world, "sales"))


def test_identity_verification_needs_a_method_from_the_list_and_a_note(
    world: Session, mailbox: Mailbox
) -> None:
    person(world, "Ann", "Smith", email="shared@example.org")
    second = person(world, "Bea", "Smith", email="shared@example.org")
    ticket = start_request(
        session=world,
        kind=RequestKind.erasure,
        email="shared@example.org",
        details=None,
        visitor="s",
    )
    confirm_request(session=world, ticket=ticket, code=_code(mailbox), visitor="s")
    request = world.exec(select(PrivacyRequest)).one()
    # Two contacts share the address: the request waits for the officer to choose.
    assert request.contact_id is None
    assert "2 contacts have this address" in (request.verification_note or "")
    officer = user(world, "privacy")
    linked = link_contact(
        session=world,
        request_id=request.id or 0,
        contact_id=second.id or 0,
        version=request.version,
        actor=officer,
    )
    assert linked.contact_id == second.id
    with pytest.raises(ValidationError, match="choose one of"):
        verify_identity(
            session=world,
            request_id=request.id or 0,
            method="x",
            note="Passport seen and matched.",
            version=linked.version,
            actor=officer,
        )
    with pytest.raises(ValidationError, match="What was checked"):
        verify_identity(
            session=world,
            request_id=request.id or 0,
            method="Identity document seen",
            note="x",
            version=linked.version,
            actor=officer,
        )
    done = verify_identity(
        session=world,
        request_id=request.id or 0,
        method="Identity document seen",
        note="Passport seen; name matches the record.",
        version=linked.version,
        actor=officer,
    )
    assert done.verification_note == "Passport seen; name matches the record."
    assert done.status == RequestStatus.open


def test_ask_us_matches_or_creates_the_contact_logs_the_question_and_gives_a_task(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_ASK_US_TEAM", "North")
    known = person(world, "Ada", "Lovelace", email="ada@example.org", owner="sales")
    ask(
        session=world,
        ask_in=AskIn(
            question="When do you open?",
            name="Ada L.",
            answer_by="Phone call",
            email="ADA@example.org",
            phone="+442079460018",
            reachable="weekdays after 5 pm",
        ),
        visitor="q1",
    )
    ask(
        session=world,
        ask_in=AskIn(
            question="Can I get a form by post?",
            name="Grace Hopper",
            answer_by="Post",
            address="1 High Street, Oxford",
        ),
        visitor="q2",
    )
    contacts = world.exec(select(Contact).order_by(col(Contact.id))).all()
    assert len(contacts) == 2  # the first matched, the second is new
    world.refresh(known)
    assert known.preferred_channel == Channel.phone
    grace = contacts[1]
    assert grace.family_name == "Hopper" and grace.preferred_channel == Channel.letter
    interactions = world.exec(select(Interaction).order_by(col(Interaction.id))).all()
    assert [(i.direction, i.channel) for i in interactions] == [
        (Direction.inbound, Channel.phone),
        (Direction.inbound, Channel.letter),
    ]
    tasks = world.exec(select(Task).order_by(col(Task.id))).all()
    sales = user(world, "sales")
    assert tasks[0].owner_id == sales.id  # the contact's owner
    assert tasks[0].contact_id == known.id
    assert "weekdays after 5 pm" in tasks[0].title
    assert tasks[1].owner_id is not None
    assert any(
        q.task.id == tasks[0].id and q.name == "Ada Lovelace"
        for q in open_questions(session=world, actor=sales)
    )
    waiting, total = unanswered_contacts(session=world, actor=sales)
    assert known.id in {w.contact_id for w in waiting} and total >= 1


def test_ask_us_says_which_detail_is_missing_and_is_rate_limited(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError, match="phone number"):
        ask(
            session=world,
            ask_in=AskIn(question="Hi", name="Ann", answer_by="Phone call"),
            visitor="r",
        )
    monkeypatch.setenv("RAPPORT_PUBLIC_PER_SESSION", "1")
    ask(
        session=world,
        ask_in=AskIn(question="Hi", name="Ann", answer_by="Email", email="ann@example.org"),
        visitor="r",
    )
    with pytest.raises(TooManySubmissions):
        ask(
            session=world,
            ask_in=AskIn(question="Hi", name="Ann", answer_by="Email", email="ann@example.org"),
            visitor="r",
        )


def test_erasure_removes_the_persons_links_codes_and_requester_address(
    world: Session, mailbox: Mailbox
) -> None:
    from db.consent.requests import complete_erasure
    from tests.integration.test_privacy_requests import request_for

    contact, _purpose_id, _notice = _granted_person(world)
    privacy = user(world, "privacy")
    link = issue_link(session=world, contact_id=contact.id or 0, actor=privacy)
    world.add(
        EmailedCode(
            purpose="request",
            ticket_hash="t" * 64,
            code_hash="c" * 64,
            email="ADA@example.org",
            expires_at=utcnow() + timedelta(minutes=30),
        )
    )
    world.commit()
    request = request_for(world, contact, RequestKind.erasure)
    request.requester_email = "ada@example.org"
    world.add(request)
    world.commit()
    world.refresh(request)
    complete_erasure(
        session=world, request_id=request.id or 0, version=request.version, actor=privacy
    )
    world.expire_all()
    assert world.exec(select(PreferenceLink)).all() == []
    assert world.exec(select(EmailedCode)).all() == []
    assert world.get(PrivacyRequest, request.id).requester_email is None  # type: ignore[union-attr]
    with pytest.raises(NotFound, match="does not work"):
        open_preferences(session=world, token=link.token)


def test_the_worker_forgets_expired_emailed_codes_and_their_addresses(world: Session) -> None:
    from db.consent.self_service import forget_expired_codes

    now = utcnow()
    for n, minutes in enumerate((-5, 25)):
        world.add(
            EmailedCode(
                purpose="request",
                ticket_hash=f"{n}" * 64,
                code_hash="c" * 64,
                email=f"person{n}@example.org",
                expires_at=now + timedelta(minutes=minutes),
            )
        )
    world.commit()
    assert forget_expired_codes(world, now) == "1 expired emailed code(s) forgotten"
    assert [c.email for c in world.exec(select(EmailedCode)).all()] == ["person1@example.org"]
