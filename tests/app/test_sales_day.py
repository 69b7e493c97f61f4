"""A salesperson's and a manager's day through the pages: Home counts in full, one
definition of waiting, the board, the deal page, pipeline settings, search, tasks."""

import re
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import func
from sqlmodel import Session, col, select
from streamlit.testing.v1 import AppTest

from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine
from db.core.types import utcnow
from db.models.auth import User
from db.models.people import Contact, Task
from db.models.pipeline import Deal, DealStatus, Stage
from db.pipeline.queries import count_rotting_deals
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT


@pytest.fixture
def db(app_database: str) -> Iterator[Session]:
    engine = make_engine(app_database)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def user(db: Session, name: str) -> User:
    found = get_user_by_username(session=db, username=name)
    assert found is not None
    return found


def open_page(app_database: str, path: str, username: str, **params: str) -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page(path)
    for key, value in params.items():
        at.query_params[key] = value
    at.session_state["rapport_session_token"] = sign_in_token(app_database, username)
    return at.run()


def main_links(at: AppTest) -> list[tuple[str, str, str]]:
    return [
        (link.label, link.proto.page, link.proto.query_string) for link in at.main.get("page_link")
    ]


def metric(at: AppTest, label: str) -> int:
    value = next(m.value for m in at.metric if m.label == label)
    return int(str(value).replace(",", ""))


# --- item 5: Home counts in full -------------------------------------------------------


def add_overdue_tasks(db: Session, owner: User, n: int) -> None:
    today = utcnow().date()
    for i in range(n):
        db.add(
            Task(
                title=f"Chase {owner.username} {i}",
                due_on=today.replace(day=1).replace(year=today.year - 1),
                owner_id=owner.id or 0,
            )
        )
    db.commit()


def test_home_counts_every_overdue_task_and_rotting_deal_and_links_to_the_whole_list(
    run_page: RunPage, db: Session
) -> None:
    sam = user(db, "sales")
    add_overdue_tasks(db, sam, 12)
    today = utcnow().date()
    mine = db.exec(
        select(func.count())
        .select_from(Task)
        .where(col(Task.owner_id) == sam.id, col(Task.done_at).is_(None), col(Task.due_on) < today)
    ).one()
    assert mine > 10
    at = run_page("app.py", "sales")
    assert not at.exception, [e.value for e in at.exception]
    assert metric(at, "Overdue tasks") == mine
    shown = [t.value for t in at.main.text if " overdue" in t.value]
    assert len(shown) == 10
    see_all = [(label, page) for label, page, _ in main_links(at) if "see all" in label]
    assert (f"10 of {mine:,} — see all", "tasks") in see_all
    rotting = count_rotting_deals(session=db, actor=sam, mine_only=True)
    assert metric(at, "Rotting deals") == rotting

    tasks = run_page("pages/tasks.py", "sales")
    assert not tasks.exception
    assert any(f"{mine:,} overdue tasks of yours" in c.value for c in tasks.caption)
    done = next(b for b in tasks.button if b.key and b.key.startswith("task_done_"))
    done.click().run()
    assert any(s.value.startswith("Done: ") for s in tasks.success)
    at = run_page("app.py", "sales")
    assert metric(at, "Overdue tasks") == mine - 1


def test_the_rotting_deals_list_behind_see_all_shows_all_of_them(
    app_database: str, db: Session
) -> None:
    manager = user(db, "manager")
    rotting = count_rotting_deals(session=db, actor=manager, mine_only=False)
    assert rotting > 0, "the demo has rotting deals in North"
    at = open_page(app_database, "pages/deals.py", "manager", view="rotting")
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"of {rotting:,}" in c.value for c in at.caption)
    assert set(at.dataframe[0].value["Rotting"]) == {"yes"}


# --- item 9: one definition of waiting ----------------------------------------------


def test_home_and_customer_experience_count_the_same_people_waiting_and_say_how(
    app_database: str, run_page: RunPage
) -> None:
    home = run_page("app.py", "sales")
    waiting = metric(home, "Unanswered inbound contacts (last 30 days)")
    cx = open_page(app_database, "pages/experience.py", "sales", show="waiting")
    assert not cx.exception
    assert cx.radio(key="cx_section").value == "Calls not returned"
    assert metric(cx, "Waiting for an answer") == waiting
    assert any("on any channel" in c.value and "last 30 days" in c.value for c in cx.caption)
    # A longer period above does not change who counts as waiting.
    cx.selectbox(key="cx_period").select("Last year").run()
    assert metric(cx, "Waiting for an answer") == waiting
    labels = [label for label, _, _ in main_links(cx) if " · waiting " in label]
    assert labels and not any(re.search(r"\b1 days", label) for label in labels)


# --- item 12: the board ------------------------------------------------------------------


def test_the_board_shows_probability_weighted_totals_a_lost_target_and_no_menu_on_others_deals(
    run_page: RunPage, db: Session
) -> None:
    at = run_page("pages/board.py", "sales")
    assert not at.exception, [e.value for e in at.exception]
    assert any("weighted £" in c.value for c in at.caption), [c.value for c in at.caption]
    cards = [t.value for t in at.main.text if "£" in t.value]
    assert cards and all("%" in card.split("\n")[0] for card in cards)
    menus = [s for s in at.selectbox if s.key and s.key.startswith("move_")]
    assert menus and all("Lost" in s.options and "Won" in s.options for s in menus)
    sam = user(db, "sales")
    own = {d.id for d in db.exec(select(Deal).where(Deal.owner_id == sam.id)).all()}
    assert {int(s.key.removeprefix("move_")) for s in menus} <= own  # type: ignore[union-attr]
    on_board = {int(q.removeprefix("id=")) for _, page, q in main_links(at) if page == "deal"}
    assert on_board - own, "the board shows teammates' deals too, without a menu"


def test_a_refused_board_move_puts_the_card_back_and_says_why(
    run_page: RunPage, db: Session
) -> None:
    at = run_page("pages/board.py", "sales")
    menu = next(s for s in at.selectbox if s.key and s.key.startswith("move_"))
    deal_id = int(str(menu.key).removeprefix("move_"))
    stage = menu.value
    # Someone else changes the deal after the board was drawn: the move is refused.
    deal = db.get(Deal, deal_id)
    assert deal is not None
    deal.version += 1
    db.add(deal)
    db.commit()
    target = next(o for o in menu.options if o not in {stage, "Won", "Lost"})
    menu.select(target).run()
    assert any("since you opened it" in e.value for e in at.error), [e.value for e in at.error]
    assert at.selectbox(key=f"move_{deal_id}").value == stage
    db.refresh(deal)
    assert db.get(Stage, deal.stage_id).name == stage  # type: ignore[union-attr]


def test_a_board_move_confirms_itself_and_lost_asks_for_the_reason(
    run_page: RunPage, db: Session
) -> None:
    at = run_page("pages/board.py", "sales")
    menu = next(s for s in at.selectbox if s.key and s.key.startswith("move_"))
    deal_id = int(str(menu.key).removeprefix("move_"))
    target = next(o for o in menu.options if o not in {menu.value, "Won", "Lost"})
    menu.select(target).run()
    assert any(s.value.startswith("Moved ") and target in s.value for s in at.success)
    at.selectbox(key=f"move_{deal_id}").select("Lost").run()
    at.button(key=f"FormSubmitter:lose_{deal_id}-Close as lost").click().run()
    assert any("as lost" in s.value for s in at.success), [e.value for e in at.error]
    db.expire_all()
    assert db.get(Deal, deal_id).status == DealStatus.lost  # type: ignore[union-attr]


# --- item 13: the deal page -------------------------------------------------------------


def test_the_deal_page_names_owner_organisation_and_contact_and_hands_the_deal_over(
    app_database: str, db: Session
) -> None:
    manager = user(db, "manager")
    deal = db.exec(
        select(Deal)
        .where(Deal.status == DealStatus.open, col(Deal.contact_id).is_not(None))
        .where(col(Deal.organisation_id).is_not(None))
        .where(col(Deal.owner_id).in_(select(User.id).where(User.team == "North")))
        .order_by(col(Deal.id))
    ).first()
    assert deal is not None
    contact = db.get(Contact, deal.contact_id)
    at = open_page(app_database, "pages/deal.py", "manager", id=str(deal.id))
    assert not at.exception, [e.value for e in at.exception]
    owner = db.get(User, deal.owner_id)
    assert any(owner.display_name in m.value for m in at.markdown if "Owner" in m.value)  # type: ignore[union-attr]
    links = main_links(at)
    assert ("contact", f"id={contact.id}") in {(p, q) for _, p, q in links}  # type: ignore[union-attr]
    assert any(page == "organisations" for _, page, _ in links)
    at.selectbox(key="deal_owner").select(manager.id)
    at.button(key="FormSubmitter:deal_owner_pipeline-Change owner or pipeline").click().run()
    assert any("Now owned by Maya Manager" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    db.expire_all()
    assert db.get(Deal, deal.id).owner_id == manager.id  # type: ignore[union-attr]


def test_a_seller_sees_no_controls_on_a_teammates_deal(app_database: str, db: Session) -> None:
    sam = user(db, "sales")
    deal = db.exec(
        select(Deal)
        .where(Deal.status == DealStatus.open, Deal.owner_id != sam.id)
        .where(col(Deal.owner_id).in_(select(User.id).where(User.team == "North")))
    ).first()
    assert deal is not None
    at = open_page(app_database, "pages/deal.py", "sales", id=str(deal.id))
    assert not at.exception
    assert any("you can read it" in i.value for i in at.info)
    assert not [b for b in at.button if "Mark as won" in str(b.label)]
    assert "deal_owner" not in {s.key for s in at.selectbox}


# --- item 16: pipeline settings ---------------------------------------------------------


def test_pipeline_settings_add_a_stage_refresh_the_table_and_confirm(
    run_page: RunPage, db: Session
) -> None:
    at = run_page("pages/pipeline_settings.py", "admin")
    assert not at.exception
    rows = len(at.dataframe[0].value) if at.dataframe else len(at.get("arrow_data_frame")[0].value)
    at.text_input(key="stage_name").input("Legal review")
    at.button(key="FormSubmitter:add_stage-Add stage").click().run()
    assert any("Stage added: Legal review" in s.value for s in at.success), [
        e.value for e in at.error
    ]
    editor = at.get("arrow_data_frame")[0] if at.get("arrow_data_frame") else at.dataframe[0]
    assert len(editor.value) == rows + 1
    assert "Legal review" in list(editor.value["Stage"])


# --- item 11: search --------------------------------------------------------------------


def test_the_search_page_lists_results_by_kind_each_a_link(app_database: str, db: Session) -> None:
    sam = user(db, "sales")
    contact = db.exec(
        select(Contact).where(Contact.owner_id == sam.id, col(Contact.email).is_not(None))
    ).first()
    assert contact is not None and contact.email
    at = open_page(app_database, "pages/search.py", "sales", q=contact.email)
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value.startswith("Contacts") for h in at.subheader)
    assert ("contact", f"id={contact.id}") in {(p, q) for _, p, q in main_links(at)}
    south = db.exec(
        select(Contact).where(
            Contact.owner_id == user(db, "sales2").id, col(Contact.email).is_not(None)
        )
    ).first()
    assert south is not None
    at = open_page(app_database, "pages/search.py", "sales", q=south.email or "")
    assert ("contact", f"id={south.id}") not in {(p, q) for _, p, q in main_links(at)}


def test_the_sidebar_search_box_is_on_every_page_for_people_roles(run_page: RunPage) -> None:
    at = run_page("pages/forecast.py", "manager")
    assert "rapport_search" in {t.key for t in at.sidebar.text_input}
    assert not run_page("app.py", "reviewer").sidebar.text_input


# --- item 8: the forecast's currency, empty averages and default period ------------------


def test_the_forecast_opens_on_the_pipelines_currency_and_explains_an_empty_one(
    run_page: RunPage,
) -> None:
    at = run_page("pages/forecast.py", "manager")
    assert not at.exception, [e.value for e in at.exception]
    since, _ = at.date_input(key="fc_period").value
    assert since.day == 1
    # Its first month is whole: the period does not start on the last day of a month.
    at.selectbox(key="fc_pipeline").select_index(
        next(i for i, o in enumerate(at.selectbox(key="fc_pipeline").options) if "tenders" in o)
    ).run()
    pipeline_id = at.selectbox(key="fc_pipeline").value
    currency = at.selectbox(key=f"fc_currency_{pipeline_id}")
    assert currency.value == "EUR"
    assert next(m.value for m in at.metric if m.label == "Weighted pipeline").startswith("€")
    currency.select("GBP").run()
    assert any("counts its deals in EUR" in i.value for i in at.info), [i.value for i in at.info]
    assert next(m.value for m in at.metric if m.label == "Average cycle (days)") == "—"
    assert next(m.value for m in at.metric if m.label == "Sales velocity per day") == "—"
