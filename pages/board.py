"""Board: a column per stage with its count and total; move a deal from its card."""

import datetime as dt
from decimal import Decimal

import streamlit as st

from components import page
from components.db import db_session
from components.pipeline_ui import money
from components.text import escape_markdown
from components.ui import attempt
from db.core.types import utcnow
from db.models.auth import User
from db.models.pipeline import Pipeline
from db.pipeline.commands import move_deal, win_deal
from db.pipeline.queries import BoardColumn, DealFilter, DealRow, assignable_owners, board
from db.pipeline.setup import list_pipelines

user = page(__file__)
st.title("Board")
# Each card carries a link, figures and a move menu; drawing 20 a column was most of the
# page's time at 200k deals. The rest of a column is on the Deals page.
CARDS_PER_STAGE = 8
WON = "Won"
CLOSE_PERIODS = {"Any time": None, "Next 30 days": 30, "Next 90 days": 90, "This year": 365}


def load_choices() -> tuple[list[Pipeline], list[User]]:
    with db_session() as session:
        return list_pipelines(session=session, actor=user), assignable_owners(
            session=session, actor=user
        )


pipelines, owners = attempt(load_choices) or ([], [])
if not pipelines:
    st.info("No pipelines yet. A manager or administrator sets them up in Pipeline settings.")
    st.stop()
names = {p.id: p.name for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
teams = sorted({u.team for u in owners if u.team})
cols = st.columns(4)
pipeline_id = cols[0].selectbox(
    "Pipeline", list(names), format_func=lambda i: names[i], key="board_pipeline"
)
owner_id = cols[1].selectbox(
    "Owner",
    [0, *owner_names],
    format_func=lambda i: "(anyone)" if not i else owner_names[i],
    key="board_owner",
)
team = cols[2].selectbox("Team", ["(any)", *teams], key="board_team")
period = cols[3].selectbox("Expected close", list(CLOSE_PERIODS), key="board_close")
days = CLOSE_PERIODS[period]
today = dt.date.today()
flt = DealFilter(
    owner_id=owner_id or None,
    team=None if team == "(any)" else team,
    close_until=today + dt.timedelta(days=days) if days else None,
)


def load_board() -> list[BoardColumn]:
    with db_session() as session:
        return board(
            session=session,
            actor=user,
            pipeline_id=pipeline_id or 0,
            flt=flt,
            per_stage=CARDS_PER_STAGE,
        )


columns = attempt(load_board) or []


def move(card: DealRow, target: str) -> None:
    """Move the card's deal to a stage, or close it as won at its amount."""

    def run() -> object:
        with db_session() as session:
            if target == WON:
                return win_deal(
                    session=session,
                    deal_id=card.id,
                    version=card.version,
                    amount=card.amount if card.amount > 0 else None,
                    actor=user,
                )
            stage_id = next(c.stage.id for c in columns if c.stage.name == target)
            return move_deal(
                session=session,
                deal_id=card.id,
                stage_id=stage_id or 0,
                version=card.version,
                actor=user,
            )

    if attempt(run) is not None:
        st.rerun()


now = utcnow()
targets = [c.stage.name for c in columns] + [WON]
for column, slot in zip(columns, st.columns(max(len(columns), 1)), strict=False):
    with slot:
        st.markdown(f"**{escape_markdown(column.stage.name)}** · {column.stage.probability}%")
        totals = ", ".join(money(v, c) for c, v in sorted(column.totals.items())) or "nothing"
        st.caption(f"{column.count} deal{'s' if column.count != 1 else ''} · {totals}")
        for card in column.cards:
            with st.container(border=True):
                st.page_link(
                    "pages/deal.py",
                    label=escape_markdown(card.title),
                    query_params={"id": str(card.id)},
                )
                age = (now - card.created_at).days
                st.text(f"{money(card.amount, card.currency)}\n{card.owner} · {age} days old")
                if card.rotting:
                    idle = (now - card.last_activity_at).days
                    st.markdown(f":red[:material/warning: Rotting · idle {idle} days]")
                choice = st.selectbox(
                    "Move to",
                    targets,
                    index=targets.index(card.stage),
                    key=f"move_{card.id}",
                    label_visibility="collapsed",
                )
                if choice != card.stage:
                    move(card, choice)
        if column.count > len(column.cards):
            st.caption(f"and {column.count - len(column.cards)} more on the Deals page")
grand: dict[str, Decimal] = {}
for column in columns:
    for currency, value in column.totals.items():
        grand[currency] = grand.get(currency, Decimal(0)) + value
st.caption(
    f"Open deals in view: {sum(c.count for c in columns)} · "
    + (", ".join(money(v, c) for c, v in sorted(grand.items())) or "nothing")
)
