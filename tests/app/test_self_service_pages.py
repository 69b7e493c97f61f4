"""The self-service pages (preferences, your data and rights, Ask us) and the privacy
officer's request page, through AppTest on the seeded demo world."""

import re
from collections.abc import Iterator

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from db.auth.actor import OPERATOR
from db.consent.preferences import issue_link
from db.core.engine import make_engine, session_scope
from db.models.consent import ConsentAction, ConsentEvent, ConsentSource, PrivacyRequest
from db.models.people import Contact, Interaction
from tests.app.conftest import RunPage
from tests.conftest import ROOT
from tests.smtp_sink import Mailbox, smtp_sink


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with smtp_sink() as (port, box):
        monkeypatch.setenv("RAPPORT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("RAPPORT_SMTP_PORT", str(port))
        yield box


def _granted_contact(url: str) -> tuple[int, str]:
    """A demo contact with a grant in force, and a fresh personal link for them."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            grant = session.exec(
                select(ConsentEvent)
                .join(Contact, col(Contact.id) == col(ConsentEvent.contact_id))
                .where(
                    col(ConsentEvent.action) == ConsentAction.grant,
                    col(ConsentEvent.channel) == "email",
                    col(Contact.erased_at).is_(None),
                    col(Contact.merged_into_id).is_(None),
                )
                .order_by(col(ConsentEvent.seq).desc())
            ).first()
            assert grant is not None
            link = issue_link(session=session, contact_id=grant.contact_id, actor=OPERATOR)
            return grant.contact_id, link.token
    finally:
        engine.dispose()


def _public(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page(path)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_the_preference_centre_asks_for_the_link_without_one(run_page: RunPage) -> None:
    at = run_page("pages/preferences.py")
    assert not at.exception
    assert any("personal link" in i.value for i in at.info)


def test_a_person_withdraws_by_one_switch_and_it_is_a_self_service_event(
    run_page: RunPage, app_database: str
) -> None:
    contact_id, token = _granted_contact(app_database)
    at = _public("pages/preferences.py", token=token)
    assert not at.exception, [e.value for e in at.exception]
    on = [t for t in at.toggle if t.value]
    assert on, "the person's grant shows as on"
    on[0].set_value(False)
    at.run()
    assert not at.exception
    assert any("we will stop" in s.value for s in at.success), [e.value for e in at.error]
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            latest = session.exec(
                select(ConsentEvent)
                .where(col(ConsentEvent.contact_id) == contact_id)
                .order_by(col(ConsentEvent.seq).desc())
            ).first()
            assert latest is not None
            assert latest.source == ConsentSource.self_service
            assert latest.action == ConsentAction.withdraw
    finally:
        engine.dispose()


def test_a_bad_link_shows_one_sentence_and_nothing_else(run_page: RunPage) -> None:
    at = _public("pages/preferences.py", token="forged.token.value")
    assert not at.exception
    assert any("does not work" in e.value for e in at.error)
    assert not at.toggle


def test_a_request_by_email_code_is_registered_and_followed_by_reference(
    run_page: RunPage, app_database: str, mailbox: Mailbox
) -> None:
    at = run_page("pages/my_data.py")
    assert not at.exception
    at.text_input(key="my_data_email").input("someone.new@example.org")
    at.button(key="FormSubmitter:my_data_request-Send me a code").click()
    at.run()
    assert not at.exception, [e.value for e in at.error]
    body = mailbox.messages[-1].get_content()  # type: ignore[attr-defined]
    found = re.search(r"(\d{4}) (\d{4})", body)
    assert found is not None
    at.text_input(key="my_data_code").input("0000 0000")
    at.button(key="FormSubmitter:my_data_confirm-Register my request").click()
    at.run()
    assert any("not the code" in e.value for e in at.error)
    at.text_input(key="my_data_code").input(f"{found.group(1)} {found.group(2)}")
    at.button(key="FormSubmitter:my_data_confirm-Register my request").click()
    at.run()
    message = next(s.value for s in at.success if "reference is" in s.value)
    reference = re.search(r"R-[A-Z0-9]{5}-[A-Z0-9]{5}", message)
    assert reference is not None
    at.text_input(key="my_data_reference").input(reference.group(0))
    at.run()
    assert any("Being handled" in t.value for t in at.text), [t.value for t in at.text]
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            request = session.exec(
                select(PrivacyRequest).where(col(PrivacyRequest.reference) == reference.group(0))
            ).one()
            assert request.contact_id is None and request.verified_at is not None
    finally:
        engine.dispose()


def test_ask_us_needs_the_detail_of_the_chosen_channel_then_thanks(
    run_page: RunPage, app_database: str
) -> None:
    at = run_page("pages/ask_us.py")
    assert not at.exception
    at.text_area(key="ask_question").input("Can someone call me about my bill?")
    at.text_input(key="ask_name").input("Pat Caller")
    at.radio(key="ask_answer_by").set_value("Phone call")
    at.button(key="FormSubmitter:ask_us-Send my question").click()
    at.run()
    assert any("phone number" in e.value for e in at.error)
    assert at.text_area(key="ask_question").value == "Can someone call me about my bill?"
    at.text_input(key="ask_phone").input("+44 20 7946 0555")
    at.button(key="FormSubmitter:ask_us-Send my question").click()
    at.run()
    assert any("your question is with the team" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            asked = session.exec(
                select(Interaction).where(
                    col(Interaction.subject) == "Question from the Ask us page"
                )
            ).all()
            assert any("my bill" in i.body for i in asked)
    finally:
        engine.dispose()


def test_the_request_list_names_the_person_and_search_never_picks_among_several(
    run_page: RunPage,
) -> None:
    at = run_page("pages/privacy_requests.py", "privacy")
    at.selectbox(key="dsr_status").set_value("all")
    at.run()
    table = at.dataframe[0].value
    assert "Person" in table.columns and table["Person"].astype(bool).any()
    engine_free_query = "a"
    at.text_input(key="dsr_find").input(engine_free_query)
    at.run()
    assert not at.exception
    person = next(s for s in at.selectbox if s.label == "Person")
    if len(person.options) > 1:
        assert person.value is None
        at.button(key="FormSubmitter:register_request-Register").click()
        at.run()
        assert any("choose who the request is about" in e.value for e in at.error)
