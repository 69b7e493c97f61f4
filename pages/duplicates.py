"""Duplicates: likely duplicate contacts, a side-by-side merge with field choices, undo."""

from typing import Any

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt, pager
from db.duplicates.matching import DEFAULT_MIN_SCORE
from db.duplicates.merge import (
    MERGE_FIELDS,
    default_choices,
    merge_contacts,
    recent_merges,
    undo_merge,
)
from db.duplicates.org_merge import (
    ORG_MERGE_FIELDS,
    default_org_choices,
    merge_organisations,
    recent_organisation_merges,
    undo_organisation_merge,
)
from db.duplicates.report import (
    duplicate_organisations_report,
    duplicate_pairs_report,
    pairs_csv,
)
from db.people.contacts import get_contact, get_organisation

user = page(__file__)
st.title("Duplicates")
PAIRS_PER_PAGE = 50
st.caption(
    "Contacts that are probably the same person, and organisations entered twice, best "
    "match first. Merging keeps every interaction, task, tag, contact and deal; the merged "
    "record stays as a pointer to the survivor."
)


@st.cache_data(ttl=120, show_spinner="Comparing contacts…")
def load_pairs(user_id: int | None, min_score: float) -> tuple[list[dict[str, Any]], str]:
    """Likely duplicate pairs as plain rows and as CSV (cached briefly; cleared by a merge).

    Underneath, the pairs are stored in the database until a contact changes, so only
    the first visit after a change waits for the whole table to be compared."""
    with db_session() as session:
        pairs = duplicate_pairs_report(session=session, actor=user, min_score=min_score)
    return [
        {
            "left_id": p.left_id,
            "left": p.left_name,
            "left_ref": p.left_external_ref or "",
            "right_id": p.right_id,
            "right": p.right_name,
            "right_ref": p.right_external_ref or "",
            "score": p.score,
            "reasons": "; ".join(p.reasons),
        }
        for p in pairs
    ], pairs_csv(pairs)


min_score = st.slider(
    "Minimum score",
    min_value=0.0,
    max_value=1.0,
    value=DEFAULT_MIN_SCORE,
    step=0.05,
    help=f"{DEFAULT_MIN_SCORE} balances precision and recall on our labelled test sets.",
)
rows, csv_text = attempt(lambda: load_pairs(user.id, min_score)) or ([], "")
st.subheader(f"{len(rows)} likely duplicate pair{'s' if len(rows) != 1 else ''}")
if rows:
    # A page of pairs at a time: at 100k contacts there are thousands of pairs, and
    # drawing them all (and listing them all to merge) is most of the page's time.
    offset = pager(total=len(rows), page_size=PAIRS_PER_PAGE, key="pairs_page")
    page_rows = rows[offset : offset + PAIRS_PER_PAGE]
    st.dataframe(
        pd.DataFrame(page_rows),
        hide_index=True,
        width="stretch",
        column_config={"score": st.column_config.ProgressColumn(min_value=0, max_value=1)},
    )
    st.download_button(
        "Download pairs (CSV)",
        data=csv_text,
        file_name="duplicate-pairs.csv",
        mime="text/csv",
    )

    st.subheader("Merge a pair")
    labels = {
        i: f"#{r['left_id']} {r['left']}  ↔  #{r['right_id']} {r['right']}  ({r['score']:.2f})"
        for i, r in enumerate(page_rows)
    }
    chosen = st.selectbox(
        "Pair", options=list(labels), format_func=labels.__getitem__, help="From the page above."
    )
    pair = page_rows[int(chosen or 0)]

    def load_both() -> tuple[Any, Any]:
        with db_session() as session:
            left = get_contact(session=session, contact_id=pair["left_id"], actor=user)
            right = get_contact(session=session, contact_id=pair["right_id"], actor=user)
        return left, right

    both = attempt(load_both)
    if both is not None:
        left, right = both
        keep_left = (
            st.radio(
                "Which record survives?",
                options=["left", "right"],
                format_func=lambda side: f"#{(left if side == 'left' else right).id}",
                horizontal=True,
            )
            == "left"
        )
        survivor, merged = (left, right) if keep_left else (right, left)
        defaults = default_choices(survivor, merged)
        choices: dict[str, str] = {}
        st.caption("Where the two differ, choose the value to keep.")
        for name in MERGE_FIELDS:
            mine, theirs = getattr(survivor, name), getattr(merged, name)
            if mine == theirs or theirs in (None, ""):
                continue
            options = ["survivor", "merged"]
            shown = {
                "survivor": escape_markdown(mine or "(empty)"),
                "merged": escape_markdown(theirs),
            }
            pick = st.radio(
                escape_markdown(name.replace("_", " ").capitalize()),
                options=options,
                index=options.index(defaults[name]),
                format_func=shown.__getitem__,
                horizontal=True,
                key=f"pick-{survivor.id}-{merged.id}-{name}",
            )
            choices[name] = str(pick)
        if st.button("Merge these contacts", type="primary", key="merge"):

            def do_merge() -> int:
                with db_session() as session:
                    event = merge_contacts(
                        session=session,
                        survivor_id=survivor.id or 0,
                        merged_id=merged.id or 0,
                        actor=user,
                        choices=choices,
                        versions=(survivor.version, merged.version),
                    )
                return event.seq

            seq = attempt(do_merge)
            if seq is not None:
                load_pairs.clear()
                st.session_state["last_merge"] = seq
                st.success(
                    f"Merged #{merged.id} into #{survivor.id} (audit event {seq}). "
                    "You can undo it below while neither record changes."
                )

st.subheader("Organisations")


@st.cache_data(ttl=120, show_spinner=False)
def load_organisation_pairs(user_id: int | None, min_score: float) -> list[dict[str, Any]]:
    """Likely duplicate organisations as plain rows."""
    with db_session() as session:
        pairs = duplicate_organisations_report(session=session, actor=user, min_score=min_score)
    return [
        {
            "left_id": p.left_id,
            "left": p.left_name,
            "right_id": p.right_id,
            "right": p.right_name,
            "score": p.score,
            "reasons": "; ".join(p.reasons),
        }
        for p in pairs
    ]


org_rows = attempt(lambda: load_organisation_pairs(user.id, min_score)) or []
if not org_rows:
    st.caption("No likely duplicate organisations.")
else:
    st.caption(
        "Organisations that look alike (same domain, or the same name give or take a legal "
        "suffix). Merging moves every contact and deal to the survivor; the other record "
        "stays as a pointer to it."
    )
    st.dataframe(
        pd.DataFrame(org_rows),
        hide_index=True,
        width="stretch",
        column_config={"score": st.column_config.ProgressColumn(min_value=0, max_value=1)},
    )
    org_labels = {
        i: f"#{r['left_id']} {r['left']}  ↔  #{r['right_id']} {r['right']}  ({r['score']:.2f})"
        for i, r in enumerate(org_rows)
    }
    org_choice = st.selectbox(
        "Organisation pair", options=list(org_labels), format_func=org_labels.__getitem__
    )
    org_pair = org_rows[int(org_choice or 0)]

    def load_orgs() -> tuple[Any, Any]:
        with db_session() as session:
            return (
                get_organisation(session=session, org_id=org_pair["left_id"], actor=user),
                get_organisation(session=session, org_id=org_pair["right_id"], actor=user),
            )

    orgs = attempt(load_orgs)
    if orgs is not None:
        org_left, org_right = orgs
        keep_org_left = (
            st.radio(
                "Which organisation survives?",
                options=["left", "right"],
                format_func=lambda side: f"#{(org_left if side == 'left' else org_right).id}",
                horizontal=True,
                key="org-survivor",
            )
            == "left"
        )
        org_survivor, org_merged = (org_left, org_right) if keep_org_left else (org_right, org_left)
        org_defaults = default_org_choices(org_survivor, org_merged)
        org_picks: dict[str, str] = {}
        for name in ORG_MERGE_FIELDS:
            mine, theirs = getattr(org_survivor, name), getattr(org_merged, name)
            if mine == theirs or theirs in (None, ""):
                continue
            options = ["survivor", "merged"]
            shown = {
                "survivor": escape_markdown(str(mine or "(empty)")),
                "merged": escape_markdown(str(theirs)),
            }
            org_picks[name] = str(
                st.radio(
                    escape_markdown(name.replace("_", " ").capitalize()),
                    options=options,
                    index=options.index(org_defaults[name]),
                    format_func=shown.__getitem__,
                    horizontal=True,
                    key=f"org-pick-{org_survivor.id}-{org_merged.id}-{name}",
                )
            )
        if st.button("Merge these organisations", type="primary", key="merge_org"):

            def do_org_merge() -> int:
                with st.spinner("Merging…"), db_session() as session:
                    event = merge_organisations(
                        session=session,
                        survivor_id=org_survivor.id or 0,
                        merged_id=org_merged.id or 0,
                        actor=user,
                        choices=org_picks,
                        versions=(org_survivor.version, org_merged.version),
                    )
                return event.seq or 0

            org_seq = attempt(do_org_merge)
            if org_seq is not None:
                load_organisation_pairs.clear()
                st.success(
                    f"Merged organisation #{org_merged.id} into #{org_survivor.id} "
                    f"(audit event {org_seq:,}); its contacts and deals moved with it."
                )

st.subheader("Recent merges")


def _recent() -> list[Any]:
    with db_session() as session:
        return recent_merges(session=session, actor=user)


merges = attempt(_recent) or []
if not merges:
    st.caption("No merges yet.")
for entry in merges:
    cols = st.columns([4, 1])
    state = "undone" if entry.undone else "merged"
    cols[0].text(
        f"{entry.occurred_at:%d %b %H:%M} · {entry.actor_name} · #{entry.merged_id} into "
        f"#{entry.survivor_id} · {state}"
    )
    if not entry.undone and cols[1].button("Undo", key=f"undo-{entry.event_seq}"):

        def do_undo(seq: int = entry.event_seq) -> bool:
            with db_session() as session:
                undo_merge(session=session, event_id=seq, actor=user)
            return True

        if attempt(do_undo, success="The merge was undone; both contacts are back."):
            load_pairs.clear()

st.subheader("Recent organisation merges")


def _recent_orgs() -> list[Any]:
    with db_session() as session:
        return recent_organisation_merges(session=session, actor=user)


org_merges = attempt(_recent_orgs) or []
if not org_merges:
    st.caption("No organisation merges yet.")
for org_entry in org_merges:
    cols = st.columns([4, 1])
    state = "undone" if org_entry.undone else "merged"
    cols[0].text(
        f"{org_entry.occurred_at:%d %b %H:%M} · {org_entry.actor_name} · "
        f"#{org_entry.merged_id} {org_entry.merged_name} into #{org_entry.survivor_id} · {state}"
    )
    if not org_entry.undone and cols[1].button("Undo", key=f"org-undo-{org_entry.event_seq}"):

        def do_org_undo(seq: int = org_entry.event_seq) -> bool:
            with db_session() as session:
                undo_organisation_merge(session=session, event_id=seq, actor=user)
            return True

        if attempt(do_org_undo, success="The organisation merge was undone; both are back."):
            load_organisation_pairs.clear()
