"""An erased person does not come back by hand: every way of creating or editing a
contact checks the suppression list, and says why without showing what was erased."""

import pytest
from sqlmodel import Session, select

from db.consent.requests import complete_erasure
from db.core.errors import ValidationError
from db.demo.fixtures import seed_users
from db.models.consent import RequestKind
from db.models.people import Contact, ContactCreate, ContactUpdate
from db.people.contacts import create_contact, update_contact
from tests.integration.consent_helpers import user
from tests.integration.test_privacy_requests import request_for


@pytest.fixture
def erased(session: Session) -> Session:
    """Ana, with an email, a second email, a phone and a reference, asked to be erased."""
    seed_users(session=session)
    sales = user(session, "sales")
    ana = create_contact(
        session=session,
        contact_in=ContactCreate(
            given_name="Ana",
            family_name="Silva",
            email="ana.silva@example.org",
            email2="ana.home@example.net",
            phone="+44 20 7946 0123",
            external_ref="LEG-77001",
        ),
        actor=sales,
    )
    req = request_for(session, ana, RequestKind.erasure)
    complete_erasure(
        session=session, request_id=req.id or 0, version=req.version, actor=user(session, "privacy")
    )
    return session


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "Ana.Silva@Example.org"),  # normalised before the check
        ("email2", "ana.silva@example.org"),
        ("email", "ana.home@example.net"),
        ("phone", "020 7946 0123"),
        ("mobile", "+442079460123"),
        ("external_ref", "LEG-77001"),
    ],
)
def test_contacts_add_refuses_an_erased_persons_identifiers_without_showing_them(
    erased: Session, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        create_contact(
            session=erased,
            contact_in=ContactCreate(given_name="A", family_name="S", **{field: value}),
            actor=user(erased, "sales"),
        )
    message = str(refused.value)
    assert "erased" in message
    assert value.lower() not in message.lower() and "7946" not in message
    saved = erased.exec(select(Contact).where(Contact.given_name == "A")).all()
    assert saved == []  # nothing was saved


def test_editing_a_contact_to_an_erased_persons_phone_is_refused_and_others_pass(
    erased: Session,
) -> None:
    sales = user(erased, "sales")
    ben = create_contact(
        session=erased,
        contact_in=ContactCreate(given_name="Ben", family_name="Okafor", email="ben@example.org"),
        actor=sales,
    )
    with pytest.raises(ValidationError, match="Phone: this person asked to be erased"):
        update_contact(
            session=erased,
            contact_id=ben.id or 0,
            patch=ContactUpdate(phone="+44 20 7946 0123"),
            version=ben.version,
            actor=sales,
        )
    erased.expire_all()
    fresh = erased.get(Contact, ben.id)
    assert fresh is not None and fresh.phone is None
    changed = update_contact(
        session=erased,
        contact_id=ben.id or 0,
        patch=ContactUpdate(phone="+44 20 7946 0999", given_name="Benedict"),
        version=fresh.version,
        actor=sales,
    )
    assert changed.given_name == "Benedict"
