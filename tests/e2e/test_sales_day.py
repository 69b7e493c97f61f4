"""In Chromium, a salesperson's and a manager's day: find a person with the sidebar's
search, log a call, move a deal on the board, win one, and see Home and the forecast
change; the manager adds a stage to their pipeline. Every action says how it went after
the page redraws."""

import re
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from db.core.engine import make_engine
from db.models.auth import User
from db.models.people import Contact
from db.models.pipeline import Deal, DealStatus, Pipeline, Stage
from db.pipeline.queries import rotting_deals
from tests.e2e.conftest import Steps
from tests.e2e.test_pipeline_journey import choose
from tests.e2e.test_sign_in_and_admin import (
    DEMO_PASSWORD,
    field,
    new_page,
    sign_in,
    wait_until_idle,
)


def metric_value(page: Any, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text())


def number(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.]", "", text) or "0")


def sidebar_search(page: Any, text: str) -> None:
    box = page.locator('[data-testid="stSidebar"] input[aria-label="Search"]')
    box.fill(text)
    box.press("Enter")
    page.get_by_role("heading", name="Search", exact=True).first.wait_for()
    wait_until_idle(page)


def test_a_salesperson_and_a_manager_walk_a_day(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    engine = make_engine(server_env["RAPPORT_DATABASE_URL"])
    with Session(engine) as db:
        sam = db.exec(select(User).where(User.username == "sales")).one()
        person = db.exec(
            select(Contact)
            .where(Contact.owner_id == sam.id, col(Contact.merged_into_id).is_(None))
            .where(col(Contact.erased_at).is_(None), col(Contact.family_name) != "")
            .order_by(col(Contact.id))
        ).first()
        assert person is not None
        stale = rotting_deals(session=db, actor=sam, mine_only=True, limit=1)
        assert stale, "the demo gives Sam a rotting deal"
        to_win = stale[0]
        won_pipeline = db.get(Pipeline, db.get(Deal, to_win.id).pipeline_id)  # type: ignore[union-attr]
        assert won_pipeline is not None
    engine.dispose()

    page = new_page(browser)
    sign_in(page, server, "sales", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()
    rotting_before = int(number(metric_value(page, "Rotting deals")))
    steps.shot(page, "home-before")

    # Find a person from the sidebar's search box and open them in one click.
    sidebar_search(page, person.family_name)
    steps.shot(page, "search")
    page.get_by_role("link", name=re.compile(re.escape(person.full_name))).first.click()
    page.get_by_role("heading", name=person.full_name).first.wait_for()

    # Log a call: the page redraws and says so.
    choose(page, "Channel you are about to use", "phone")
    page.get_by_role("tab", name="Log interaction").click()
    field(page, "Subject").fill("Rang about the renewal date")
    page.get_by_role("button", name="Log phone").click()
    page.get_by_text("Logged the phone.").first.wait_for()
    steps.shot(page, "call-logged")

    # The forecast before the win, on the won deal's pipeline and currency.
    page.get_by_role("link", name="Forecast", exact=True).click()
    page.get_by_role("heading", name="Forecast").first.wait_for()
    choose(page, "Pipeline", won_pipeline.name)
    wait_until_idle(page)
    choose(page, "Currency", to_win.currency)
    wait_until_idle(page)
    won_before = number(metric_value(page, "Won in period"))
    steps.shot(page, "forecast-before")

    # Move one of Sam's deals on the board: the card moves and the page says so.
    page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("heading", name="Board").first.wait_for()
    choose(page, "Owner", "Sam Sales")
    wait_until_idle(page)
    steps.shot(page, "board")
    menu = page.locator('[class*="st-key-move_"]').first
    deal_id = int(re.search(r"st-key-move_(\d+)", menu.get_attribute("class") or "").group(1))  # type: ignore[union-attr]
    with Session(engine := make_engine(server_env["RAPPORT_DATABASE_URL"])) as db:
        moving = db.get(Deal, deal_id)
        assert moving is not None
        stages = db.exec(
            select(Stage)
            .where(Stage.pipeline_id == moving.pipeline_id, col(Stage.is_active))
            .order_by(col(Stage.position))
        ).all()
        target = next(s.name for s in stages if s.id != moving.stage_id)
        title = moving.title
    engine.dispose()
    choose(page, "Move to", target, scope=menu)
    page.get_by_text(f"Moved {title} to {target}.").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "board-moved")

    # Win the rotting deal from Home's list: the deal page says so, Home counts one fewer.
    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()
    page.get_by_role("link", name=re.compile(re.escape(to_win.title))).first.click()
    page.get_by_role("heading", name=to_win.title).first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "deal")
    page.get_by_role("button", name="Mark as won").click()
    page.get_by_text("Won — well done.").first.wait_for()
    steps.shot(page, "deal-won")
    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()
    wait_until_idle(page)
    assert int(number(metric_value(page, "Rotting deals"))) == rotting_before - 1
    steps.shot(page, "home-after")

    page.get_by_role("link", name="Forecast", exact=True).click()
    page.get_by_role("heading", name="Forecast").first.wait_for()
    choose(page, "Pipeline", won_pipeline.name)
    wait_until_idle(page)
    choose(page, "Currency", to_win.currency)
    wait_until_idle(page)
    won_after = number(metric_value(page, "Won in period"))
    steps.shot(page, "forecast-after")
    assert won_after - won_before == to_win.amount.quantize(Decimal(1))

    # The manager of North adds a stage to a pipeline North uses; the table shows it.
    manager = new_page(browser)
    sign_in(manager, server, "manager", DEMO_PASSWORD)
    manager.get_by_role("heading", name=re.compile("Good to see you, Maya")).first.wait_for()
    steps.shot(manager, "manager-home")
    manager.get_by_role("link", name="Pipeline settings", exact=True).click()
    manager.get_by_role("heading", name="Pipeline settings").first.wait_for()
    choose(manager, "Pipeline", won_pipeline.name)
    wait_until_idle(manager)
    field(manager, "Stage name").fill("Contract review")
    manager.get_by_role("button", name="Add stage").click()
    manager.get_by_text("Stage added: Contract review.").first.wait_for()
    wait_until_idle(manager)
    manager.get_by_text("Contract review").first.wait_for(state="attached")
    steps.shot(manager, "stage-added")
    manager.get_by_role("link", name="Board", exact=True).click()
    manager.get_by_role("heading", name="Board").first.wait_for()
    choose(manager, "Pipeline", won_pipeline.name)
    wait_until_idle(manager)
    manager.get_by_text("Contract review").first.wait_for()
    steps.shot(manager, "manager-board")


def test_a_refused_board_move_puts_the_card_back_and_others_cards_have_no_menu(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "sales", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you, Sam")).first.wait_for()
    page.get_by_role("link", name="Board", exact=True).click()
    page.get_by_role("heading", name="Board").first.wait_for()
    wait_until_idle(page)
    cards = page.locator('[class*="st-key-card_"]')
    ids = [
        int(m.group(1))
        for m in (
            re.search(r"st-key-card_(\d+)", cards.nth(i).get_attribute("class") or "")
            for i in range(cards.count())
        )
        if m
    ]
    engine = make_engine(server_env["RAPPORT_DATABASE_URL"])
    with Session(engine) as db:
        sam = db.exec(select(User).where(User.username == "sales")).one()
        owners = {d.id: d.owner_id for d in db.exec(select(Deal).where(col(Deal.id).in_(ids)))}
        mine = [i for i in ids if owners.get(i) == sam.id]
        theirs = [i for i in ids if owners.get(i) != sam.id]
        assert mine and theirs, "the board shows Sam's deals and teammates'"
        for deal_id in theirs:
            assert page.locator(f".st-key-move_{deal_id}").count() == 0
        # Someone else saves the deal after Sam's board was drawn.
        deal = db.get(Deal, mine[0])
        assert deal is not None and deal.status == DealStatus.open
        stage = db.get(Stage, deal.stage_id)
        assert stage is not None
        target = db.exec(
            select(Stage)
            .where(Stage.pipeline_id == deal.pipeline_id, Stage.id != deal.stage_id)
            .where(col(Stage.is_active))
            .order_by(col(Stage.position))
        ).first()
        assert target is not None
        deal.version += 1
        db.add(deal)
        db.commit()
        stage_name, target_name = stage.name, target.name
    menu = page.locator(f".st-key-move_{mine[0]}")
    choose(page, "Move to", target_name, scope=menu)
    page.get_by_text(re.compile("since you opened it")).first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "board-refused")
    # The menu shows the card's stage again (in its text or its combobox's value).
    values = menu.locator("input").evaluate_all("inputs => inputs.map(i => i.value)")
    assert stage_name in " ".join([menu.inner_text(), *values])
    with Session(engine) as db:
        kept = db.get(Deal, mine[0])
        assert kept is not None and kept.stage_id == stage.id
    engine.dispose()
