"""Deal: its fields, stage, closing (won or lost), history, activities and tasks."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.pipeline_ui import forget_version, local_time, money, opened_version, query_id
from components.text import escape_markdown
from components.ui import Failed, act, attempt, run
from db.core.normalise import SEARCH_MAX
from db.core.types import utcnow
from db.core.validation import parse_model
from db.models.auth import User
from db.models.people import (
    Channel,
    Direction,
    Interaction,
    InteractionCreate,
    Purpose,
    Task,
    TaskCreate,
)
from db.models.pipeline import (
    CURRENCIES,
    Deal,
    DealStatus,
    DealUpdate,
    LostReason,
    Pipeline,
    Stage,
)
from db.people.interactions import (
    BODY_MAX,
    SUBJECT_MAX,
    TASK_TITLE_MAX,
    create_task,
    log_interaction,
)
from db.pipeline.commands import (
    DEAL_NOTES_MAX,
    DEAL_TITLE_MAX,
    LOST_NOTE_MAX,
    PROBABILITY_TEXT_MAX,
    SOURCE_MAX,
    change_owner,
    change_pipeline,
    get_deal,
    lose_deal,
    move_deal,
    reopen_deal,
    update_deal,
    win_deal,
)
from db.pipeline.metrics import effective_probability
from db.pipeline.queries import (
    DealFilter,
    DealParties,
    HistoryRow,
    assignable_owners,
    deal_history,
    deal_interactions,
    deal_parties,
    deal_tasks,
    find_deals,
    lost_reason_label,
)
from db.pipeline.setup import list_lost_reasons, list_pipelines, list_stages

user = page(__file__)

deal_id = query_id()
if deal_id is None:
    st.title("Deal")
    text = st.text_input("Find a deal by title", key="deal_find", max_chars=SEARCH_MAX)
    if text.strip():
        found = run(find_deals, actor=user, flt=DealFilter(query=text))
        for row in [] if isinstance(found, Failed) else found[0][:20]:
            st.page_link(
                "pages/deal.py", label=escape_markdown(row.title), query_params={"id": str(row.id)}
            )
    else:
        st.info("Search for a deal, or open one from the Board or the Deals page.")
    st.stop()
chosen_id: int = deal_id


@dataclass(frozen=True)
class Loaded:
    deal: Deal
    stages: list[Stage]
    reasons: list[LostReason]
    history: list[HistoryRow]
    interactions: list[Interaction]
    tasks: list[Task]
    lost_reason: str | None
    parties: DealParties
    pipelines: list[Pipeline]
    owners: list[User]


def load(*, session: Session) -> Loaded:
    """Everything the deal's screen shows, read in one session."""
    deal = get_deal(session=session, deal_id=chosen_id, actor=user)
    parties = deal_parties(session=session, deal_id=chosen_id, actor=user)
    return Loaded(
        deal=deal,
        stages=list_stages(session=session, pipeline_id=deal.pipeline_id, actor=user),
        reasons=list_lost_reasons(session=session, actor=user),
        history=deal_history(session=session, deal_id=chosen_id, actor=user),
        interactions=deal_interactions(session=session, deal_id=chosen_id, actor=user),
        tasks=deal_tasks(session=session, deal_id=chosen_id, actor=user),
        lost_reason=lost_reason_label(session=session, reason_id=deal.lost_reason_id),
        parties=parties,
        pipelines=list_pipelines(session=session, actor=user) if parties.may_change else [],
        owners=assignable_owners(session=session, actor=user) if parties.may_change else [],
    )


loaded = run(load)
if isinstance(loaded, Failed):
    st.title("Deal")
    st.stop()
deal = loaded.deal
stage_names = {s.id: s.name for s in loaded.stages}
stage = next((s for s in loaded.stages if s.id == deal.stage_id), None)
version_key = f"deal_{deal.id}"
version = opened_version(version_key, deal.version, last_by_me=deal.updated_by_id == user.id)

st.title(escape_markdown(deal.title))
parties = loaded.parties
pipeline_names = {p.id: p.name for p in loaded.pipelines}
who = st.columns(3)
who[0].markdown(f"**Owner** · {escape_markdown(parties.owner)}")
with who[1]:
    if parties.organisation_id:
        st.page_link(
            "pages/organisations.py",
            label=f"Organisation · {escape_markdown(parties.organisation)}",
            icon=":material/domain:",
            query_params={"id": str(parties.organisation_id)},
        )
    else:
        st.caption("No organisation" if not deal.organisation_id else "Organisation not visible")
with who[2]:
    if parties.contact_id:
        st.page_link(
            "pages/contact.py",
            label=f"Contact · {escape_markdown(parties.contact)}",
            icon=":material/person:",
            query_params={"id": str(parties.contact_id)},
        )
    else:
        st.caption("No primary contact" if not deal.contact_id else "Contact not visible")
probability = effective_probability(stage.probability if stage else 0, deal.probability_override)
metrics = st.columns([3, 4, 2, 2])
metrics[0].metric("Amount", money(deal.amount, deal.currency))
metrics[1].metric("Stage", stage_names.get(deal.stage_id, "(retired stage)"))
metrics[2].metric(
    "Probability",
    f"{probability}%",
    help="The deal's own probability" if deal.probability_override is not None else None,
)
metrics[3].metric("Status", str(deal.status))
if deal.status == DealStatus.lost:
    st.text(f"Lost: {loaded.lost_reason or ''}. {deal.lost_note or ''}")
if deal.version != version:
    st.warning("Someone changed this deal since you opened it. Reload to see their change.")


def change(command: Callable[..., Deal], /, *, done: str, **arguments: Any) -> None:
    """Run a command on this deal at the version opened; on success, show the new one."""
    if act(
        command, done=done, rerun=False, deal_id=chosen_id, version=version, actor=user, **arguments
    ):
        forget_version(version_key)
        st.rerun()


if not parties.may_change:
    st.info(
        f"This deal is {escape_markdown(parties.owner)}'s: you can read it, and its owner or "
        "their manager can change it."
    )
elif deal.status == DealStatus.open:
    move_col, win_col, lose_col = st.columns(3)
    with move_col, st.form("move_deal"):
        target = st.selectbox(
            "Move to stage",
            list(stage_names),
            index=list(stage_names).index(deal.stage_id) if deal.stage_id in stage_names else 0,
            format_func=lambda i: stage_names[i],
            key="deal_move_to",
        )
        if st.form_submit_button("Move", icon=":material/arrow_forward:"):
            change(
                move_deal,
                done=f"Moved to {escape_markdown(stage_names.get(target, ''))}.",
                stage_id=target or 0,
            )
    with win_col, st.form("win_deal"):
        final = st.number_input(
            "Final amount",
            min_value=0.0,
            value=float(deal.amount),
            step=500.0,
            format="%.2f",
            key="deal_final",
        )
        if st.form_submit_button("Mark as won", icon=":material/emoji_events:"):
            change(win_deal, done="Won — well done.", amount=Decimal(str(final)))
    with lose_col, st.form("lose_deal"):
        reasons = {r.id: r.label for r in loaded.reasons}
        reason = st.selectbox(
            "Lost reason",
            [None, *reasons],
            format_func=lambda i: "(choose)" if i is None else reasons[i],
            key="deal_reason",
        )
        note = st.text_input("Note", key="deal_lost_note", max_chars=LOST_NOTE_MAX)
        if st.form_submit_button("Mark as lost", icon=":material/block:"):
            change(lose_deal, done="Marked as lost.", reason_id=reason, note=note)
elif st.button("Reopen this deal", icon=":material/undo:", key="deal_reopen"):
    change(reopen_deal, done="Reopened.")

tab_edit, tab_history, tab_activity, tab_tasks = st.tabs(
    ["Details", "History", "Activities", "Tasks"]
)
with tab_edit:
    if parties.may_change and (len(loaded.owners) > 1 or len(loaded.pipelines) > 1):
        owner_names = {u.id: u.display_name for u in loaded.owners}
        with st.form("deal_owner_pipeline"):
            left, right = st.columns(2)
            new_owner = left.selectbox(
                "Owner",
                list(owner_names),
                index=list(owner_names).index(deal.owner_id) if deal.owner_id in owner_names else 0,
                format_func=lambda i: owner_names[i],
                key="deal_owner",
                disabled=len(owner_names) < 2,
            )
            new_pipeline = right.selectbox(
                "Pipeline",
                list(pipeline_names),
                index=list(pipeline_names).index(deal.pipeline_id)
                if deal.pipeline_id in pipeline_names
                else 0,
                format_func=lambda i: pipeline_names[i],
                key="deal_pipeline",
                disabled=deal.status != DealStatus.open or len(pipeline_names) < 2,
                help="The deal goes to the first stage of the pipeline chosen.",
            )
            handed = st.form_submit_button("Change owner or pipeline", icon=":material/swap_horiz:")
        if handed and new_owner and new_owner != deal.owner_id:
            change(
                change_owner,
                done=f"Now owned by {escape_markdown(owner_names.get(new_owner, ''))}.",
                owner_id=new_owner,
            )
        elif handed and new_pipeline and new_pipeline != deal.pipeline_id:
            change(
                change_pipeline,
                done=f"Moved to the pipeline {escape_markdown(pipeline_names[new_pipeline])}.",
                pipeline_id=new_pipeline,
                stage_id=None,
            )
        elif handed:
            st.info("Nothing to change: choose another owner or pipeline.")
    with st.form("edit_deal"):
        left, right = st.columns(2)
        title = left.text_input(
            "Title", value=deal.title, key="edit_title", max_chars=DEAL_TITLE_MAX
        )
        amount = right.number_input(
            "Amount", min_value=0.0, value=float(deal.amount), step=500.0, format="%.2f"
        )
        currency = left.selectbox(
            "Currency", list(CURRENCIES), index=list(CURRENCIES).index(deal.currency)
        )
        override = right.text_input(
            "Probability % (empty: the stage's default)",
            value="" if deal.probability_override is None else str(deal.probability_override),
            key="edit_probability",
            max_chars=PROBABILITY_TEXT_MAX,
        )
        close = left.date_input("Expected close", value=deal.expected_close, key="edit_close")
        source = right.text_input(
            "Source", value=deal.source or "", key="edit_source", max_chars=SOURCE_MAX
        )
        notes = st.text_area(
            "Notes", value=deal.notes or "", key="edit_notes", max_chars=DEAL_NOTES_MAX
        )
        saved = st.form_submit_button(
            "Save changes", icon=":material/save:", disabled=not parties.may_change
        )
    if saved:
        patch = attempt(
            lambda: parse_model(
                DealUpdate,
                {
                    "title": title,
                    "amount": Decimal(str(amount)),
                    "currency": currency,
                    "probability_override": override.strip() or None,
                    "expected_close": close,
                    "source": source or None,
                    "notes": notes or None,
                },
                labels={"probability_override": "Probability"},
            )
        )
        if patch is not None:
            change(update_deal, done="Saved.", patch=patch)
    if st.button("Reload", icon=":material/refresh:", key="deal_reload"):
        forget_version(version_key)
        st.rerun()
    st.caption(
        f"Created {escape_markdown(local_time(deal.created_at, '%Y-%m-%d'))} · last activity "
        f"{escape_markdown(local_time(deal.last_activity_at, '%Y-%m-%d %H:%M'))} · "
        f"source {escape_markdown(deal.source or '—')}"
    )

with tab_history:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": local_time(h.changed_at, "%Y-%m-%d %H:%M"),
                    "Event": h.event,
                    "From": h.from_stage or "",
                    "To": h.to_stage,
                    "Days in previous stage": h.days_in_from,
                    "By": h.by or "",
                }
                for h in loaded.history
            ]
        ),
        hide_index=True,
        width="stretch",
    )

with tab_activity:
    if loaded.interactions:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": local_time(i.occurred_at, "%Y-%m-%d %H:%M"),
                        "Channel": str(i.channel),
                        "Subject": i.subject,
                        "Notes": i.body,
                    }
                    for i in loaded.interactions
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    if deal.contact_id:
        with st.form("log_deal_call", clear_on_submit=True):
            channel = st.selectbox("Channel", [c.value for c in Channel], index=1, key="act_ch")
            subject = st.text_input("Subject", key="act_subject", max_chars=SUBJECT_MAX)
            body = st.text_area("Notes", key="act_body", max_chars=BODY_MAX)
            logged = st.form_submit_button("Log activity", icon=":material/add_call:")
        if logged:
            data = {
                "contact_id": deal.contact_id,
                "deal_id": chosen_id,
                "channel": channel,
                "direction": Direction.outbound,
                "purpose": Purpose.sales,
                "subject": subject,
                "body": body,
                "occurred_at": utcnow(),
            }
            interaction_in = attempt(lambda: parse_model(InteractionCreate, data))
            if interaction_in is not None:
                act(
                    log_interaction,
                    done=f"Logged the {channel}.",
                    interaction_in=interaction_in,
                    actor=user,
                )
    else:
        st.info("Give the deal a primary contact to log activities against it.")

with tab_tasks:
    for task in loaded.tasks:
        state = "done" if task.done_at else f"due {task.due_on:%Y-%m-%d}"
        st.text(f"{task.title} · {state}")
    with st.form("deal_task", clear_on_submit=True):
        task_title = st.text_input("Next step", key="deal_task_title", max_chars=TASK_TITLE_MAX)
        due = st.date_input("Due", value=dt.date.today() + dt.timedelta(days=3), key="deal_due")
        added = st.form_submit_button("Add task", icon=":material/add_task:")
    if added:
        task_data = {
            "title": task_title,
            "due_on": due,
            "deal_id": chosen_id,
            "contact_id": deal.contact_id,
        }
        task_in = attempt(lambda: parse_model(TaskCreate, task_data))
        if task_in is not None:
            act(create_task, done="Task added.", task_in=task_in, actor=user)
