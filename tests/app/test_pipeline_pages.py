"""The people and pipeline pages do their jobs through the UI, on the seeded demo."""

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import streamlit as st
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine
from db.models.people import Contact, Interaction
from db.models.pipeline import Deal, DealStatus, DealUpdate, LostReason
from db.pipeline.commands import update_deal
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT

OpenPage = Callable[..., AppTest]


@pytest.fixture
def db(app_database: str) -> Iterator[Session]:
    engine = make_engine(app_database)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def open_page(app_database: str) -> Iterator[OpenPage]:
    """Run a page with query parameters (?id=…) as a signed-in user."""
    st.cache_data.clear()

    def run(path: str, username: str, **params: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.switch_page(path)
        for key, value in params.items():
            at.query_params[key] = value
        at.session_state["rapport_session_token"] = sign_in_token(app_database, username)
        return at.run()

    yield run
    st.cache_data.clear()


def owned_by(db: Session, username: str, model: type) -> int:
    owner = get_user_by_username(session=db, username=username)
    assert owner is not None
    row = db.exec(
        select(model).where(model.owner_id == owner.id).order_by(col(model.id))  # type: ignore[attr-defined]
    ).first()
    assert row is not None
    return int(row.id)


def open_deal_of(db: Session, username: str) -> Deal:
    owner = get_user_by_username(session=db, username=username)
    assert owner is not None
    deal = db.exec(
        select(Deal)
        .where(Deal.owner_id == owner.id, Deal.status == DealStatus.open)
        .order_by(col(Deal.id))
    ).first()
    assert deal is not None
    return deal


def test_sales_find_contacts_and_add_one(run_page: RunPage) -> None:
    at = run_page("pages/contacts.py", "sales")
    assert not at.exception
    assert at.dataframe, "the seeded contacts should be listed"
    at.text_input(key="new_given").input("Tomasz")
    at.text_input(key="new_family").input("Wiśniewski")
    at.text_input(key="new_email").input("Tomasz.W@Example.org")
    at.button(key="FormSubmitter:new_contact-Add contact").click()
    at.run()
    assert any("Added Tomasz" in s.value for s in at.success), [e.value for e in at.error]


def test_a_bad_email_on_the_contact_form_is_refused_naming_the_field(run_page: RunPage) -> None:
    at = run_page("pages/contacts.py", "sales")
    at.text_input(key="new_family").input("Nobody")
    at.text_input(key="new_email").input("not an email")
    at.button(key="FormSubmitter:new_contact-Add contact").click()
    at.run()
    assert any(e.value.startswith("Email:") for e in at.error)


def test_contact_360_shows_the_timeline_and_logs_a_call(open_page: OpenPage, db: Session) -> None:
    contact_id = owned_by(db, "sales", Contact)
    at = open_page("pages/contact.py", "sales", id=str(contact_id))
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe, "the timeline table"
    before = len(db.exec(select(Interaction.id).where(Interaction.contact_id == contact_id)).all())
    at.selectbox(key="c360_channel").select("phone")
    at.run()
    at.text_input(key="log_subject").input("Called about the renewal")
    at.button(key="FormSubmitter:log_interaction-Log phone").click()
    at.run()
    assert not at.exception
    after = len(db.exec(select(Interaction.id).where(Interaction.contact_id == contact_id)).all())
    assert after == before + 1
    # The banner now warns a caller on another channel about this call: what, who, and a
    # link to it.
    at.selectbox(key="c360_channel").select("email")
    at.run()
    assert any("In the last 48 hours on other channels" in w.value for w in at.warning)
    named = [link.label for link in at.get("page_link") if "Called about the renewal" in link.label]
    assert named and "phone" in named[0] and "we contacted them" in named[0]
    assert "by Sam Sales" in named[0]


def test_contact_360_of_another_teams_contact_is_not_shown(
    open_page: OpenPage, db: Session
) -> None:
    contact_id = owned_by(db, "sales2", Contact)
    at = open_page("pages/contact.py", "sales", id=str(contact_id))
    assert any("no contact" in e.value for e in at.error)
    assert not at.dataframe


def test_an_organisation_is_added_from_its_page(run_page: RunPage) -> None:
    at = run_page("pages/organisations.py", "manager")
    at.text_input(key="org_name").input("Moorland Hospice")
    at.text_input(key="org_domain").input("https://www.moorland-hospice.example.org/")
    at.button(key="FormSubmitter:new_organisation-Add organisation").click()
    at.run()
    assert any("Added Moorland Hospice" in s.value for s in at.success)


def test_the_board_shows_stage_columns_and_moves_a_card_to_won(
    run_page: RunPage, db: Session
) -> None:
    at = run_page("pages/board.py", "sales2")
    assert not at.exception
    assert any("deal" in c.value for c in at.caption)
    move = next(s for s in at.selectbox if s.key and s.key.startswith("move_"))
    deal_id = int(str(move.key).removeprefix("move_"))
    move.select("Won")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    db.expire_all()
    deal = db.get(Deal, deal_id)
    assert deal is not None and deal.status == DealStatus.won


def test_the_deals_table_lists_only_what_the_role_may_read(run_page: RunPage) -> None:
    at = run_page("pages/deals.py", "sales2")
    assert not at.exception
    table = at.dataframe[0].value
    # Sian (South) is alone in her team: every deal she can read is her own.
    assert len(table) > 0
    assert set(table["Owner"]) == {"Sian Sales"}
    manager = run_page("pages/deals.py", "manager").dataframe[0].value
    assert "Sian Sales" not in set(manager["Owner"])


def test_a_lost_deal_without_a_reason_is_refused_naming_the_field(
    open_page: OpenPage, db: Session
) -> None:
    deal = open_deal_of(db, "manager")
    at = open_page("pages/deal.py", "manager", id=str(deal.id))
    assert not at.exception
    at.button(key="FormSubmitter:lose_deal-Mark as lost").click()
    at.run()
    assert any(e.value.startswith("Lost reason:") for e in at.error)


def test_a_stale_deal_form_says_who_changed_it(open_page: OpenPage, db: Session) -> None:
    deal = open_deal_of(db, "sales")
    at = open_page("pages/deal.py", "sales", id=str(deal.id))
    manager = get_user_by_username(session=db, username="manager")
    update_deal(
        session=db,
        deal_id=deal.id or 0,
        patch=DealUpdate(amount=Decimal("4321")),
        version=deal.version,
        actor=manager,  # type: ignore[arg-type]
    )
    at.text_input(key="edit_title").input("My edit")
    at.button(key="FormSubmitter:edit_deal-Save changes").click()
    at.run()
    assert any("changed by Maya Manager" in e.value for e in at.error), [e.value for e in at.error]
    db.expire_all()
    kept = db.get(Deal, deal.id)
    assert kept is not None and kept.amount == Decimal("4321.00") and kept.title != "My edit"


def test_the_forecast_shows_every_report_with_its_figures(run_page: RunPage) -> None:
    at = run_page("pages/forecast.py", "manager")
    assert not at.exception, [e.value for e in at.exception]
    headings = " ".join(h.value for h in at.subheader)
    for part in ("Weighted pipeline", "Win rate", "conversion", "Time in stage", "Lost reasons"):
        assert part in headings
    assert {"Weighted pipeline", "Win rate (count)", "Sales velocity per day"} <= {
        m.label for m in at.metric
    }
    assert len(at.dataframe) >= 5


def test_a_manager_adds_a_lost_reason_in_settings(run_page: RunPage, db: Session) -> None:
    at = run_page("pages/pipeline_settings.py", "manager")
    assert not at.exception
    at.text_input(key="reason_label").input("Project cancelled")
    at.button(key="FormSubmitter:add_reason-Add reason").click()
    at.run()
    assert any("Reason added" in s.value for s in at.success)
    assert db.exec(select(LostReason).where(LostReason.label == "Project cancelled")).first()


def test_home_shows_sales_their_overdue_tasks_and_rotting_deals(run_page: RunPage) -> None:
    at = run_page("app.py", "sales")
    assert not at.exception
    assert "Your pipeline today" in [h.value for h in at.subheader]
    assert {"Overdue tasks", "Rotting deals"} <= {m.label for m in at.metric}


def test_a_call_logged_on_contact_360_is_outbound_unless_the_person_says_otherwise(
    open_page: OpenPage, db: Session
) -> None:
    contact_id = owned_by(db, "sales", Contact)
    at = open_page("pages/contact.py", "sales", id=str(contact_id))
    at.selectbox(key="c360_channel").select("phone")
    at.run()
    assert at.selectbox(key="log_direction").value == "outbound"
    at.text_input(key="log_subject").input("Rang about the renewal")
    at.button(key="FormSubmitter:log_interaction-Log phone").click()
    at.run()
    assert not at.exception
    db.expire_all()
    logged = db.exec(
        select(Interaction).where(
            Interaction.contact_id == contact_id, Interaction.subject == "Rang about the renewal"
        )
    ).one()
    assert logged.direction == "outbound"


def test_the_outcome_of_a_click_is_shown_after_the_page_reruns(
    open_page: OpenPage, db: Session
) -> None:
    deal = open_deal_of(db, "manager")
    at = open_page("pages/deal.py", "manager", id=str(deal.id))
    at.text_input(key="edit_title").input("Renamed for the flash test")
    at.button(key="FormSubmitter:edit_deal-Save changes").click()
    at.run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved."], [e.value for e in at.error]
    assert at.title[0].value == "Renamed for the flash test"
    at.run()
    assert not at.success, "the message is shown once, not on every later run"
