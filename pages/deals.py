"""Deals: a filtered, sorted, paginated table; edit titles and close dates in place;
reassign several deals at once."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.pipeline_ui import money, query_id
from components.text import count_of, escape_markdown
from components.ui import Failed, flash, pager, run
from db.core.normalise import SEARCH_MAX
from db.core.validation import parse_model
from db.models.pipeline import DealStatus, DealUpdate
from db.pipeline.commands import reassign_deals, update_deal
from db.pipeline.queries import SORTS, DealFilter, find_deals, pipeline_choices

user = page(__file__)
st.title("Deals")
PAGE_SIZE = 50
SORT_LABELS = {
    "updated": "Recently changed",
    "close": "Expected close",
    "amount": "Largest amount",
    "title": "Title",
    "created": "Newest",
}


choices = run(pipeline_choices, actor=user)
pipelines, owners = ([], []) if isinstance(choices, Failed) else (choices.pipelines, choices.owners)
names = {p.id: p.name for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
# Home's "see all" opens the rotting deals (?view=rotting, &mine=1 for a seller's own);
# the board's "more on the Deals page" opens one stage (?stage=12).
rotting_only = st.query_params.get("view") == "rotting"
mine_only = st.query_params.get("mine") == "1"
stage_id = query_id("stage")
if rotting_only:
    st.info(
        "Showing rotting deals only: open deals idle for longer than their stage allows"
        + (" (yours)." if mine_only else ".")
    )
    st.page_link("pages/deals.py", label="Show all deals", icon=":material/filter_alt_off:")
cols = st.columns(5)
query = cols[0].text_input("Title contains", key="deals_query", max_chars=SEARCH_MAX)
pipeline_id = cols[1].selectbox(
    "Pipeline",
    [0, *names],
    format_func=lambda i: "(all)" if not i else names[i],
    key="deals_pipeline",
)
status = cols[2].selectbox("Status", ["open", "won", "lost", "(any)"], key="deals_status")
owner_id = cols[3].selectbox(
    "Owner",
    [0, *owner_names],
    format_func=lambda i: "(anyone)" if not i else owner_names[i],
    key="deals_owner",
)
sort = cols[4].selectbox(
    "Sort by", list(SORTS), format_func=lambda k: SORT_LABELS[k], key="deals_sort"
)
flt = DealFilter(
    query=query,
    pipeline_id=pipeline_id or None,
    stage_id=stage_id,
    status=DealStatus.open if rotting_only else (None if status == "(any)" else DealStatus(status)),
    owner_id=user.id if mine_only else (owner_id or None),
    rotting=rotting_only,
)
# Bumped after each save, so the table is drawn afresh from the database.
ROUND_KEY = "deals_round"
editor_round = st.session_state.get(ROUND_KEY, 0)

counted = run(find_deals, actor=user, flt=flt, sort=sort, offset=0, limit=1)
total = 0 if isinstance(counted, Failed) else counted[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="deals_page") if total else 0
found = run(find_deals, actor=user, flt=flt, sort=sort, offset=offset, limit=PAGE_SIZE)
rows = [] if isinstance(found, Failed) else found[0]
if not rows:
    st.info("No deals match these filters.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "Select": False,
            "Id": r.id,
            "Title": r.title,
            "Organisation": r.organisation or "",
            "Stage": r.stage,
            "Status": r.status,
            "Owner": r.owner,
            "Amount": money(r.amount, r.currency),
            "Probability %": r.probability,
            "Expected close": r.expected_close,
            "Rotting": "yes" if r.rotting else "",
        }
        for r in rows
    ]
)
st.caption("Edit a title or close date in the table, then save. Tick rows to reassign them.")
editor_key = f"deals_editor_{offset}_{editor_round}"
edited: Any = st.data_editor(
    table,
    hide_index=True,
    width="stretch",
    disabled=[c for c in table.columns if c not in {"Select", "Title", "Expected close"}],
    column_config={
        "Expected close": st.column_config.DateColumn("Expected close", format="YYYY-MM-DD"),
        "Amount": st.column_config.TextColumn("Amount"),
    },
    key=editor_key,
)
changes: dict[int, dict[str, Any]] = st.session_state.get(editor_key, {}).get("edited_rows", {})
edits = {i: c for i, c in changes.items() if set(c) - {"Select"}}


def refreshed(message: str) -> None:
    st.session_state[ROUND_KEY] = editor_round + 1
    flash(message)
    st.rerun()


if edits and st.button(f"Save {count_of(len(edits), 'changed row')}", icon=":material/save:"):
    by_row = {index: rows[int(index)] for index in edits}

    def save(*, session: Session) -> int:
        saved = 0
        for index, change in edits.items():
            row = by_row[index]
            data: dict[str, Any] = {}
            if "Title" in change:
                data["title"] = change["Title"]
            if "Expected close" in change:
                data["expected_close"] = change["Expected close"]
            update_deal(
                session=session,
                deal_id=row.id,
                patch=parse_model(DealUpdate, data, labels={"expected_close": "Close date"}),
                version=row.version,
                actor=user,
            )
            saved += 1
        return saved

    saved = run(save)
    if not isinstance(saved, Failed):
        refreshed(f"Saved {count_of(saved, 'deal')}.")

selected = [rows[i].id for i, flag in enumerate(edited["Select"]) if flag]
with st.form("reassign"):
    st.markdown("**Reassign the ticked deals**")
    new_owner = st.selectbox(
        "New owner",
        list(owner_names),
        format_func=lambda i: owner_names[i],
        key="reassign_owner",
    )
    go = st.form_submit_button(f"Reassign {len(selected)} deal(s)", icon=":material/swap_horiz:")
if go:
    reassigned = run(reassign_deals, deal_ids=selected, owner_id=new_owner or 0, actor=user)
    if not isinstance(reassigned, Failed):
        refreshed(
            f"Reassigned {count_of(reassigned, 'deal')} to "
            f"{escape_markdown(owner_names.get(new_owner or 0, ''))}."
        )
