"""Deals: a filtered, sorted, paginated table; edit titles and close dates in place;
reassign several deals at once."""

from typing import Any

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt, pager
from db.core.normalise import SEARCH_MAX
from db.core.validation import parse_model
from db.models.auth import User
from db.models.pipeline import DealStatus, DealUpdate, Pipeline
from db.pipeline.commands import reassign_deals, update_deal
from db.pipeline.queries import SORTS, DealFilter, DealRow, assignable_owners, find_deals
from db.pipeline.setup import list_pipelines

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


def load_choices() -> tuple[list[Pipeline], list[User]]:
    with db_session() as session:
        return list_pipelines(session=session, actor=user), assignable_owners(
            session=session, actor=user
        )


pipelines, owners = attempt(load_choices) or ([], [])
names = {p.id: p.name for p in pipelines}
owner_names = {u.id: u.display_name for u in owners}
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
    status=None if status == "(any)" else DealStatus(status),
    owner_id=owner_id or None,
)


def load(offset: int, limit: int) -> tuple[list[DealRow], int]:
    with db_session() as session:
        return find_deals(
            session=session, actor=user, flt=flt, sort=sort, offset=offset, limit=limit
        )


total = (attempt(lambda: load(0, 1)) or ([], 0))[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="deals_page") if total else 0
rows = (attempt(lambda: load(offset, PAGE_SIZE)) or ([], 0))[0]
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
            "Amount": float(r.amount),
            "Currency": r.currency,
            "Probability %": r.probability,
            "Expected close": r.expected_close,
            "Rotting": "yes" if r.rotting else "",
        }
        for r in rows
    ]
)
st.caption("Edit a title or close date in the table, then save. Tick rows to reassign them.")
edited: Any = st.data_editor(
    table,
    hide_index=True,
    width="stretch",
    disabled=[c for c in table.columns if c not in {"Select", "Title", "Expected close"}],
    column_config={
        "Expected close": st.column_config.DateColumn("Expected close", format="YYYY-MM-DD"),
        "Amount": st.column_config.NumberColumn("Amount", format="%.2f"),
    },
    key=f"deals_editor_{offset}",
)
changes: dict[int, dict[str, Any]] = st.session_state.get(f"deals_editor_{offset}", {}).get(
    "edited_rows", {}
)
edits = {i: c for i, c in changes.items() if set(c) - {"Select"}}
if edits and st.button(f"Save {len(edits)} changed row(s)", icon=":material/save:"):
    by_row = {index: rows[int(index)] for index in edits}

    def save() -> int:
        saved = 0
        with db_session() as session:
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

    if attempt(save) is not None:
        st.session_state.pop(f"deals_editor_{offset}", None)
        st.rerun()

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

    def reassign() -> int:
        with db_session() as session:
            return reassign_deals(
                session=session, deal_ids=selected, owner_id=new_owner or 0, actor=user
            )

    done = attempt(reassign)
    if done is not None:
        st.success(
            f"Reassigned {done} deal(s) to {escape_markdown(owner_names.get(new_owner or 0, ''))}."
        )
