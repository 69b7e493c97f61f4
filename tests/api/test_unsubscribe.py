"""RFC 8058 one-click unsubscribe, over real HTTP against the running server."""

import re
from datetime import timedelta

import httpx
from sqlmodel import col, select

from db.auth.actor import OPERATOR
from db.consent.preferences import marketing_email, open_preferences
from db.consent.records import latest_notice, record_consent
from db.consent.state import ConsentState
from db.core.engine import make_engine, session_scope
from db.core.types import utcnow
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentSource,
)
from db.models.people import ContactCreate
from db.people.contacts import create_contact
from tests.api.conftest import Served


def _marketing_message(served: Served, email: str) -> tuple[str, str, int]:
    """A contact who agreed to marketing by email, and the email Rapport builds them."""
    engine = make_engine(served.env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            contact = create_contact(
                session=session,
                contact_in=ContactCreate(given_name="One", family_name="Click", email=email),
                actor=OPERATOR,
            )
            purpose = session.exec(
                select(ConsentPurpose).where(col(ConsentPurpose.code) == "marketing")
            ).one()
            notice = latest_notice(session=session, purpose_id=purpose.id or 0)
            assert notice is not None
            record_consent(
                session=session,
                event_in=ConsentEventCreate(
                    contact_id=contact.id or 0,
                    purpose_id=purpose.id or 0,
                    channel=ConsentChannel.email,
                    action=ConsentAction.grant,
                    notice_id=notice.id,
                    source=ConsentSource.web_form,
                    occurred_at=utcnow() - timedelta(minutes=5),
                ),
                actor=OPERATOR,
            )
            message = marketing_email(
                session=session,
                contact_id=contact.id or 0,
                purpose_code="marketing",
                subject="News",
                body="Hello",
                actor=OPERATOR,
            )
            session.commit()
            one_click, preferences = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            return one_click, preferences.split("token=")[1], contact.id or 0
    finally:
        engine.dispose()


def _withdrawals(served: Served, contact_id: int) -> list[ConsentEvent]:
    engine = make_engine(served.env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            return list(
                session.exec(
                    select(ConsentEvent).where(
                        col(ConsentEvent.contact_id) == contact_id,
                        col(ConsentEvent.action) == ConsentAction.withdraw,
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_a_one_click_post_withdraws_at_once_without_sign_in_and_only_once(served: Served) -> None:
    url, token, contact_id = _marketing_message(served, "one.click@example.org")
    path = url.split("://", 1)[1].split("/", 1)[1]
    # What a mail provider sends (RFC 8058 §3.2): no cookie, no credentials, no redirect.
    for _ in range(2):
        response = httpx.post(
            f"{served.url}/{path}",
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=15,
            follow_redirects=False,
        )
        assert response.status_code == 200
        assert "unsubscribed" in response.text
    withdrawals = _withdrawals(served, contact_id)
    assert len(withdrawals) == 1
    assert withdrawals[0].source == ConsentSource.self_service
    assert withdrawals[0].channel == ConsentChannel.email
    engine = make_engine(served.env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            prefs = open_preferences(session=session, token=token)
            marketing = next(c for c in prefs.choices if c.code == "marketing")
            assert marketing.states[ConsentChannel.email] == ConsentState.withdrawn
    finally:
        engine.dispose()


def test_a_bad_token_gets_the_same_answer_and_a_get_changes_nothing(served: Served) -> None:
    url, _token, contact_id = _marketing_message(served, "opened@example.org")
    path = url.split("://", 1)[1].split("/", 1)[1]
    forged = httpx.post(f"{served.url}/unsubscribe/not-a-token?purpose=marketing", timeout=15)
    assert forged.status_code == 200 and "unsubscribed" in forged.text
    opened = httpx.get(f"{served.url}/{path}", timeout=15, follow_redirects=False)
    assert opened.status_code == 303
    assert "/preferences?token=" in opened.headers["location"]
    assert _withdrawals(served, contact_id) == []
