"""Contact 360 logs marketing with the same override control as the Consent page, and a
refused message keeps what was typed."""

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components.marketing_ui import OVERRIDE_LABEL
from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine, session_scope
from db.models.people import ContactCreate, Interaction
from db.people.contacts import create_contact
from tests.app.conftest import sign_in_token
from tests.conftest import ROOT


def a_contact_who_never_agreed(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            seller = get_user_by_username(session=session, username="sales")
            assert seller is not None
            made = create_contact(
                session=session,
                contact_in=ContactCreate(given_name="Ines", family_name="Moreau"),
                actor=seller,
            )
            return made.id or 0
    finally:
        engine.dispose()


def logged_marketing(url: str, contact_id: int) -> list[Interaction]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return list(
                session.exec(
                    select(Interaction).where(
                        Interaction.contact_id == contact_id, Interaction.purpose == "marketing"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_a_refused_marketing_email_keeps_the_form_and_the_override_logs_it(
    app_database: str,
) -> None:
    contact_id = a_contact_who_never_agreed(app_database)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/contact.py")
    at.query_params["id"] = str(contact_id)
    at.session_state["rapport_session_token"] = sign_in_token(app_database, "sales")
    at.run()
    at.selectbox(key="c360_channel").select("email")
    at.run()
    at.selectbox(key="log_purpose").select("marketing")
    at.text_input(key="log_subject").input("Spring offers")
    at.text_area(key="log_body").input("Ten per cent off renewals in April.")
    at.button(key="FormSubmitter:log_interaction-Log email").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("never agreed to marketing" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    # Nothing typed is lost, and the field the refusal asks for is on this form.
    assert at.text_input(key="log_subject").value == "Spring offers"
    assert at.text_area(key="log_body").value == "Ten per cent off renewals in April."
    override = at.text_input(key="log_override")
    assert override.label == OVERRIDE_LABEL
    assert logged_marketing(app_database, contact_id) == []
    override.input("Legal notice of the new prices, required by the contract")
    at.button(key="FormSubmitter:log_interaction-Log email").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    logged = logged_marketing(app_database, contact_id)
    assert [i.override_reason for i in logged] == [
        "Legal notice of the new prices, required by the contract"
    ]
    assert at.text_input(key="log_subject").value == ""


def test_the_consent_page_uses_the_same_override_control_and_offers_sales_no_grant(
    app_database: str,
) -> None:
    contact_id = a_contact_who_never_agreed(app_database)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/consent.py")
    at.query_params["contact"] = str(contact_id)
    at.session_state["rapport_session_token"] = sign_in_token(app_database, "sales")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="mo").label == OVERRIDE_LABEL
    offered = [str(o) for o in at.radio(key="ca").options]
    assert offered and not [o for o in offered if "grant" in o.lower()], offered
    at.text_input(key="ms").input("Winter offers")
    at.button(key="FormSubmitter:log_marketing-Log message").click()
    at.run()
    assert any("never agreed" in e.value for e in at.error)
    assert at.text_input(key="ms").value == "Winter offers"
