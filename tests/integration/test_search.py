"""One search box: contacts, organisations and deals by name, email, phone or reference,
finding only what the searcher may read."""

from decimal import Decimal

import pytest
from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.validation import parse_model
from db.demo.fixtures import seed_users
from db.models.auth import User
from db.models.people import ContactCreate, OrganisationCreate
from db.models.pipeline import DealCreate
from db.people.contacts import create_contact, create_organisation
from db.people.search import search_contacts, search_organisations
from db.pipeline.commands import create_deal
from db.pipeline.queries import search_deals
from db.pipeline.setup import StageSpec, create_pipeline


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


@pytest.fixture
def people(session: Session) -> Session:
    """North's Ada (with a phone and a reference) and South's Ada, each with an organisation
    and a deal."""
    seed_users(session=session)
    pipeline = create_pipeline(
        session=session, name="New business", stages=[StageSpec("Lead", 10)], actor=OPERATOR
    )
    for seller, family, phone, ref, org in (
        ("sales", "Lovelace", "+44 20 7946 0018", "HS-1001", "Analytical Engines Ltd"),
        ("sales2", "Byron", "+44 20 7946 0999", "HS-2002", "Southern Looms"),
    ):
        actor = user(session, seller)
        organisation = create_organisation(
            session=session, org_in=OrganisationCreate(name=org), actor=actor
        )
        contact = create_contact(
            session=session,
            contact_in=ContactCreate(
                given_name="Ada",
                family_name=family,
                email=f"ada.{family.lower()}@example.org",
                phone=phone,
                external_ref=ref,
                organisation_id=organisation.id,
            ),
            actor=actor,
        )
        create_deal(
            session=session,
            deal_in=parse_model(
                DealCreate,
                {
                    "title": f"{org} 100% renewal",
                    "pipeline_id": pipeline.id,
                    "organisation_id": organisation.id,
                    "contact_id": contact.id,
                    "amount": Decimal("5000"),
                    "external_ref": f"D-{ref}",
                },
            ),
            actor=actor,
        )
    return session


def labels(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [getattr(h, "label", None) or h.title for h in hits]


@pytest.mark.parametrize(
    "typed",
    ["ada lov", "Lovelace", "ada.lovelace@exa", "020 7946 0018", "+442079460018", "HS-1001"],
)
def test_a_contact_is_found_by_name_email_phone_or_reference(people, typed: str) -> None:  # type: ignore[no-untyped-def]
    found = search_contacts(session=people, actor=user(people, "admin"), query=typed)
    assert labels(found) == ["Ada Lovelace"]


def test_a_seller_finds_only_their_teams_records(people) -> None:  # type: ignore[no-untyped-def]
    north = user(people, "sales")
    assert labels(search_contacts(session=people, actor=north, query="Ada")) == ["Ada Lovelace"]
    assert search_contacts(session=people, actor=north, query="HS-2002") == []
    assert search_contacts(session=people, actor=north, query="020 7946 0999") == []
    assert labels(search_organisations(session=people, actor=north, query="loom")) == []
    assert labels(search_deals(session=people, actor=north, query="renewal")) == [
        "Analytical Engines Ltd 100% renewal"
    ]
    admin = user(people, "admin")
    assert len(search_contacts(session=people, actor=admin, query="Ada")) == 2
    assert labels(search_organisations(session=people, actor=admin, query="looms")) == [
        "Southern Looms"
    ]


def test_deals_are_found_by_title_or_reference_and_wildcards_match_themselves(people) -> None:  # type: ignore[no-untyped-def]
    admin = user(people, "admin")
    assert labels(search_deals(session=people, actor=admin, query="D-HS-2002")) == [
        "Southern Looms 100% renewal"
    ]
    assert len(search_deals(session=people, actor=admin, query="100%")) == 2
    assert search_deals(session=people, actor=admin, query="1_0") == []
    assert search_deals(session=people, actor=admin, query="50%") == []


def test_a_reviewer_or_hr_cannot_search_people(people) -> None:  # type: ignore[no-untyped-def]
    from db.core.errors import Forbidden

    for role in ("reviewer", "hr"):
        with pytest.raises(Forbidden):
            search_contacts(session=people, actor=user(people, role), query="Ada")
