"""Duplicates: likely duplicate contacts, a side-by-side merge with field choices, undo."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import Failed, act, attempt, flash, pager, run
from db.duplicates.matching import DEFAULT_MIN_SCORE, Progress
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
    pairs_need_full_run,
)
from db.models.people import Contact, Organisation
from db.people.contacts import get_contact, get_organisation

user = page(__file__)
st.title("Duplicates")
PAIRS_PER_PAGE = 50
st.caption(
    "Contacts that are probably the same person, and organisations entered twice, best "
    "match first. Merging keeps every interaction, task, tag, contact and deal; the merged "
    "record stays as a pointer to the survivor."
)


@st.cache_data(ttl=120, show_spinner=False)
def load_pairs(
    user_id: int | None, min_score: float, _progress: Progress | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Likely duplicate pairs as plain rows and as CSV (cached briefly; cleared by a merge).

    Underneath, the pairs are stored in the database; after a change only the changed
    contacts' candidates are compared, so only a visit with no stored run to start from
    waits for the whole table (and `_progress` shows how far it has got)."""
    with db_session() as session:
        pairs = duplicate_pairs_report(
            session=session, actor=user, min_score=min_score, progress=_progress
        )
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


def load_pair(*, session: Session, left_id: int, right_id: int) -> tuple[Contact, Contact]:
    """Both contacts of a pair, as the person may see them."""
    return (
        get_contact(session=session, contact_id=left_id, actor=user),
        get_contact(session=session, contact_id=right_id, actor=user),
    )


def merge_pair(
    survivor_id: int, merged_id: int, versions: tuple[int, int], choices: dict[str, str]
) -> None:
    """The Merge button's click: merge exactly the pair it was drawn for.

    It runs before the page redraws, so the list drawn after it already leaves the pair out.
    """
    event = run(
        merge_contacts,
        survivor_id=survivor_id,
        merged_id=merged_id,
        actor=user,
        choices=choices,
        versions=versions,
    )
    if not isinstance(event, Failed):
        load_pairs.clear()
        flash(
            f"Merged #{merged_id} into #{survivor_id} (audit event {event.seq}). "
            "You can undo it below while neither record changes."
        )


min_score = st.slider(
    "Minimum score",
    min_value=0.0,
    max_value=1.0,
    value=DEFAULT_MIN_SCORE,
    step=0.05,
    help=f"{DEFAULT_MIN_SCORE} balances precision and recall on our labelled test sets.",
)


def pairs_with_progress() -> tuple[list[dict[str, Any]], str]:
    """The pairs; when every contact must be compared afresh, the page says so and shows
    how far the comparison has got (otherwise the stored run answers within a second)."""
    if run(pairs_need_full_run, actor=user, min_score=min_score) is not True:
        with st.spinner("Comparing the contacts changed since the last run…"):
            return load_pairs(user.id, min_score)
    with st.status(
        "Recomputing all duplicate pairs: there is no recent run to start from…", expanded=True
    ) as status:
        bar = st.progress(0.0, text="Starting")

        def shown(step: str, fraction: float) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=step)

        found = load_pairs(user.id, min_score, shown)
        status.update(label="Recomputed all duplicate pairs.", state="complete", expanded=False)
    return found


rows, csv_text = attempt(pairs_with_progress) or ([], "")
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
        (r["left_id"], r["right_id"]): (
            f"#{r['left_id']} {r['left']}  ↔  #{r['right_id']} {r['right']}  ({r['score']:.2f})"
        )
        for r in page_rows
    }
    chosen = st.selectbox(
        "Pair", options=list(labels), format_func=labels.__getitem__, help="From the page above."
    )
    left_id, right_id = chosen or next(iter(labels))
    both = run(load_pair, left_id=left_id, right_id=right_id)
    if not isinstance(both, Failed):
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
        # The click carries the pair on screen and the versions it was drawn with: the
        # button's key names them, so a click on a button drawn for a pair that has since
        # gone (a second click while the page redraws) is not taken for the next pair, and
        # the merge refuses records that changed since they were shown.
        versions = (survivor.version, merged.version)
        st.button(
            "Merge these contacts",
            type="primary",
            key=f"merge-{survivor.id}-{merged.id}-{versions[0]}-{versions[1]}",
            on_click=merge_pair,
            args=(survivor.id or 0, merged.id or 0, versions, dict(choices)),
        )

st.subheader("Organisations")


def load_organisation_pair(
    *, session: Session, left_id: int, right_id: int
) -> tuple[Organisation, Organisation]:
    """Both organisations of a pair, as the person may see them."""
    return (
        get_organisation(session=session, org_id=left_id, actor=user),
        get_organisation(session=session, org_id=right_id, actor=user),
    )


def merge_organisation_pair(
    survivor_id: int, merged_id: int, versions: tuple[int, int], choices: dict[str, str]
) -> None:
    """The organisation Merge button's click: merge exactly the pair it was drawn for."""
    event = run(
        merge_organisations,
        survivor_id=survivor_id,
        merged_id=merged_id,
        actor=user,
        choices=choices,
        versions=versions,
    )
    if not isinstance(event, Failed):
        load_organisation_pairs.clear()
        flash(
            f"Merged organisation #{merged_id} into #{survivor_id} "
            f"(audit event {event.seq or 0:,}); its contacts and deals moved with it."
        )


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
        (r["left_id"], r["right_id"]): (
            f"#{r['left_id']} {r['left']}  ↔  #{r['right_id']} {r['right']}  ({r['score']:.2f})"
        )
        for r in org_rows
    }
    org_choice = st.selectbox(
        "Organisation pair", options=list(org_labels), format_func=org_labels.__getitem__
    )
    org_left_id, org_right_id = org_choice or next(iter(org_labels))
    orgs = run(load_organisation_pair, left_id=org_left_id, right_id=org_right_id)
    if not isinstance(orgs, Failed):
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
        org_versions = (org_survivor.version, org_merged.version)
        st.button(
            "Merge these organisations",
            type="primary",
            key=f"merge_org-{org_survivor.id}-{org_merged.id}-{org_versions[0]}-{org_versions[1]}",
            on_click=merge_organisation_pair,
            args=(org_survivor.id or 0, org_merged.id or 0, org_versions, dict(org_picks)),
        )

st.subheader("Recent merges")
merges = run(recent_merges, actor=user)
merges = [] if isinstance(merges, Failed) else merges
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
        load_pairs.clear()  # the pair comes back: the list drawn after the rerun shows it
        act(
            undo_merge,
            done="The merge was undone; both contacts are back.",
            event_id=entry.event_seq,
            actor=user,
        )

st.subheader("Recent organisation merges")
org_merges = run(recent_organisation_merges, actor=user)
org_merges = [] if isinstance(org_merges, Failed) else org_merges
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
        load_organisation_pairs.clear()
        act(
            undo_organisation_merge,
            done="The organisation merge was undone; both are back.",
            event_id=org_entry.event_seq,
            actor=user,
        )
