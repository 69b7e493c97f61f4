"""Board: a column per stage with its count, total and weighted total; move a deal, win or
lose it from its card.

Cards move with a menu, not by dragging. The drag-and-drop components for Streamlit fall
short here: streamlit-sortables (alpha, one maintainer) sorts plain strings, so a card
could carry neither its link nor its figures, and it cannot lock the cards of deals the
viewer may not change; the kanban components draw cards from HTML they are given or let
people add, edit and delete cards inside the component, both wrong for titles people typed
and for commands that db/ must check and may refuse. A menu per card is refused, reset and
explained like every other command.
"""

import datetime as dt
from decimal import Decimal

import streamlit as st

from components import page
from components.pipeline_ui import money, money_totals
from components.text import count_of, escape_markdown
from components.ui import Failed, flash, run
from db.core.types import utcnow
from db.pipeline.commands import lose_deal, move_deal, win_deal
from db.pipeline.queries import DealFilter, DealRow, board, pipeline_choices
from db.pipeline.setup import list_lost_reasons

user = page(__file__)
st.title("Board")
# Each card carries a link, figures and a move menu; drawing 20 a column was most of the
# page's time at 200k deals. The rest of a column is on the Deals page.
CARDS_PER_STAGE = 8
WON = "Won"
LOST = "Lost"
LOSING_KEY = "board_losing"
CLOSE_PERIODS = {"Any time": None, "Next 30 days": 30, "Next 90 days": 90, "This year": 365}


choices = run(pipeline_choices, actor=user)
pipelines, owners = ([], []) if isinstance(choices, Failed) else (choices.pipelines, choices.owners)
if not pipelines:
    st.info("No pipelines yet. A manager or administrator sets them up in Pipeline settings.")
    st.stop()
names = {p.id: p.name for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
teams = [] if isinstance(choices, Failed) else choices.teams
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


loaded = run(
    board,
    actor=user,
    pipeline_id=pipeline_id or 0,
    flt=flt,
    per_stage=CARDS_PER_STAGE,
)
columns = [] if isinstance(loaded, Failed) else loaded
stage_ids = {c.stage.name: c.stage.id or 0 for c in columns}
reasons_found = run(list_lost_reasons, actor=user)
reasons = {r.id or 0: r.label for r in ([] if isinstance(reasons_found, Failed) else reasons_found)}


def move_key(card: DealRow) -> str:
    return f"move_{card.id}"


def moved(card: DealRow) -> None:
    """The move menu changed: move the deal, close it as won, or ask why it was lost.

    This runs before the page is drawn again, so the board shows the move at once; a
    refused move puts the card's menu back on its stage.
    """
    key = move_key(card)
    target = st.session_state.get(key, card.stage)
    if target == LOST:
        st.session_state[LOSING_KEY] = card.id
        return
    st.session_state.pop(LOSING_KEY, None)
    if target == WON:
        outcome = run(
            win_deal,
            deal_id=card.id,
            version=card.version,
            amount=card.amount if card.amount > 0 else None,
            actor=user,
        )
        done = f"Won {card.title} at {money(card.amount, card.currency)} — well done."
    else:
        outcome = run(
            move_deal,
            deal_id=card.id,
            stage_id=stage_ids.get(str(target), 0),
            version=card.version,
            actor=user,
        )
        done = f"Moved {card.title} to {target}."
    if isinstance(outcome, Failed):
        st.session_state[key] = card.stage
        return
    flash(escape_markdown(done))


def draw_losing(card: DealRow) -> None:
    """The card whose menu says Lost: the reason to give, then close or keep it open."""
    with st.form(f"lose_{card.id}", border=False):
        reason_id = st.selectbox(
            "Why was it lost?", list(reasons), format_func=lambda i: reasons[i], key="lose_reason"
        )
        left, right = st.columns(2)
        close = left.form_submit_button("Close as lost", type="primary")
        keep = right.form_submit_button("Keep open")
    if keep:
        st.session_state.pop(LOSING_KEY, None)
        st.session_state.pop(move_key(card), None)
        st.rerun()
    if close:
        lost = run(
            lose_deal,
            deal_id=card.id,
            version=card.version,
            reason_id=reason_id,
            note=None,
            actor=user,
        )
        if not isinstance(lost, Failed):
            st.session_state.pop(LOSING_KEY, None)
            st.session_state.pop(move_key(card), None)
            flash(escape_markdown(f"Closed {card.title} as lost: {reasons.get(reason_id, '')}."))
            st.rerun()


now = utcnow()
targets = [c.stage.name for c in columns] + [WON, LOST]
for column, slot in zip(columns, st.columns(max(len(columns), 1)), strict=False):
    with slot:
        st.markdown(f"**{escape_markdown(column.stage.name)}** · {column.stage.probability}%")
        st.caption(
            f"{count_of(column.count, 'deal')} · "
            f"{escape_markdown(money_totals(column.totals, whole=True))}  \n"
            f"weighted {escape_markdown(money_totals(column.weighted, whole=True))}"
        )
        for card in column.cards:
            with st.container(border=True, key=f"card_{card.id}"):
                # The whole title, wrapped (a link's label is cut to one line), then the link.
                st.markdown(f"**{escape_markdown(card.title)}**")
                st.page_link(
                    "pages/deal.py",
                    label="Open",
                    icon=":material/open_in_new:",
                    query_params={"id": str(card.id)},
                    help=f"Open {escape_markdown(card.title)}",
                )
                age = (now - card.created_at).days
                lines = [
                    f"{money(card.amount, card.currency, whole=True)} · {card.probability}%",
                    f"{card.owner} · {count_of(age, 'day')} old",
                ]
                if card.organisation:
                    lines.insert(1, card.organisation)
                st.text("\n".join(lines))
                if card.rotting:
                    idle = (now - card.last_activity_at).days
                    st.markdown(f":red[:material/warning: Rotting · idle {count_of(idle, 'day')}]")
                if not card.changeable:
                    continue
                st.selectbox(
                    "Move to",
                    targets,
                    index=targets.index(card.stage),
                    key=move_key(card),
                    label_visibility="collapsed",
                    on_change=moved,
                    args=(card,),
                )
                if st.session_state.get(LOSING_KEY) == card.id:
                    draw_losing(card)
        if column.count > len(column.cards):
            st.page_link(
                "pages/deals.py",
                label=f"and {column.count - len(column.cards):,} more on the Deals page",
                query_params={"stage": str(column.stage.id)},
            )
grand: dict[str, Decimal] = {}
weighted: dict[str, Decimal] = {}
for column in columns:
    for currency, value in column.totals.items():
        grand[currency] = grand.get(currency, Decimal(0)) + value
    for currency, value in column.weighted.items():
        weighted[currency] = weighted.get(currency, Decimal(0)) + value
st.caption(
    f"Open deals in view: {sum(c.count for c in columns):,} · "
    f"{escape_markdown(money_totals(grand))} · weighted {escape_markdown(money_totals(weighted))}"
)
