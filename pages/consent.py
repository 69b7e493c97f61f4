"""Consent: a contact's state per purpose and channel, its history, and recording
a grant, withdrawal or objection in the same single step."""

import datetime as dt
import json

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.drafts import clear_pending
from components.marketing_ui import forget, override_reason_input
from components.pipeline_ui import query_id
from components.text import escape_markdown
from components.ui import act, attempt
from db.consent.preferences import send_preference_link
from db.consent.receipts import receipts
from db.consent.records import (
    EVIDENCE_MAX,
    PurposeState,
    contact_history,
    contact_states,
    list_notices,
    list_purposes,
    may_record,
    record_consent,
)
from db.core.normalise import SEARCH_MAX
from db.core.types import utcnow
from db.models.auth import Role
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentSource,
    Notice,
)
from db.models.people import Channel, Contact, Direction, InteractionCreate, Purpose
from db.people.contacts import ContactFilter, find_contacts, get_contact
from db.people.interactions import SUBJECT_MAX, log_interaction

user = page(__file__)
clear_pending()  # fields emptied after the last save
st.title("Consent")

ACTION_LABELS = {
    ConsentAction.grant: "Grant: agreed",
    ConsentAction.withdraw: "Withdraw: no longer agrees",
    ConsentAction.object: "Object: objects to this use",
}


def pick_contact() -> int | None:
    from_url = query_id("contact")
    if from_url is not None:
        return from_url
    query = st.text_input(
        "Find a contact", placeholder="Family name, given name or email", max_chars=SEARCH_MAX
    )
    if not query.strip():
        st.info("Search for a contact to see and record their consent.")
        return None

    def search() -> list[Contact]:
        with db_session() as session:
            found, _total = find_contacts(
                session=session, actor=user, flt=ContactFilter(query=query), limit=20
            )
            return found

    found = attempt(search) or []
    if not found:
        st.warning("No contact you can see matches.")
        return None
    chosen = st.selectbox(
        "Contact",
        found,
        format_func=lambda c: f"{c.full_name} · {c.email or 'no email'} · #{c.id}",
    )
    return chosen.id if chosen else None


picked = pick_contact()
if picked is None:
    st.stop()
chosen_id: int = picked


def load_contact() -> tuple[Contact, list[ConsentPurpose]]:
    with db_session() as session:
        found = get_contact(session=session, contact_id=chosen_id, actor=user)
        return found, list_purposes(session=session)


opened = attempt(load_contact)
if opened is None:
    st.stop()
contact, purposes = opened
st.subheader(escape_markdown(contact.full_name) or f"Contact {contact.id}")
if contact.erased_at:
    st.warning("This person's data was erased; the ledger keeps only the proof.")
channels = list(ConsentChannel)

names = {p.id: p.name for p in purposes}


def record_form() -> None:
    if not purposes:
        st.info("No purposes are defined yet; a privacy officer adds them under Purposes.")
        return
    with st.form("record_consent", clear_on_submit=True):
        st.markdown("**Record what the person said**")
        left, middle, right = st.columns(3)
        purpose = left.selectbox("Purpose", purposes, format_func=lambda p: p.name, key="cp")
        channel = middle.selectbox("Channel", channels, key="cc")
        # Only what db/ lets this person record: a grant comes from a privacy officer.
        action = right.radio(
            "What they said",
            [a for a in ConsentAction if may_record(user, a)],
            format_func=lambda a: ACTION_LABELS[a],
            key="ca",
        )
        source = left.selectbox(
            "How it was collected", list(ConsentSource), format_func=str, key="cs"
        )
        day = middle.date_input("When", value=dt.date.today(), max_value=dt.date.today(), key="cd")
        evidence = right.text_input("Evidence note", key="ce", max_chars=EVIDENCE_MAX)
        submitted = st.form_submit_button("Record", type="primary")
    if not may_record(user, ConsentAction.grant):
        st.caption(
            "A grant (the person agreed) is recorded by a privacy officer, with the evidence, "
            "or by the person themselves. Send the privacy office what they agreed to and how."
        )
    if not submitted:
        return

    def save() -> ConsentEvent:
        with db_session() as session:
            notices: list[Notice] = list_notices(session=session, purpose_id=purpose.id or 0)
            now = utcnow()
            when = now if day == now.date() else dt.datetime.combine(day, dt.time(12), dt.UTC)
            shown = [n for n in notices if n.published_at <= when]
            event_in = ConsentEventCreate(
                contact_id=contact.id or 0,
                purpose_id=purpose.id or 0,
                channel=channel,
                action=ConsentAction(str(action)),
                notice_id=shown[0].id if shown and action == ConsentAction.grant else None,
                source=ConsentSource(str(source)),
                evidence=evidence or None,
                occurred_at=when,
            )
            return record_consent(session=session, event_in=event_in, actor=user)

    saved = attempt(save)
    if saved is not None:
        st.success(
            f"Recorded: {saved.action} for {escape_markdown(names.get(saved.purpose_id, ''))} "
            f"on {saved.channel}."
        )


if contact.erased_at is None:
    record_form()


def load() -> tuple[list[PurposeState], list[ConsentEvent]]:
    with db_session() as session:
        states = contact_states(session=session, contact_id=chosen_id, actor=user)
        history = contact_history(session=session, contact_id=chosen_id, actor=user)
        return states, history


loaded = attempt(load)
if loaded is None:
    st.stop()
states, history = loaded
st.markdown("**Current consent** (derived from the ledger below)")
st.dataframe(
    pd.DataFrame(
        [
            {"Purpose": s.purpose.name, **{c.value: s.states[c].value for c in channels}}
            for s in states
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.markdown("**History** (append-only; newest first)")
if history:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When (UTC)": e.occurred_at.strftime("%Y-%m-%d %H:%M"),
                    "Purpose": names.get(e.purpose_id, e.purpose_id),
                    "Channel": e.channel,
                    "Action": e.action,
                    "Source": e.source,
                    "Evidence": e.evidence or "",
                    "Recorded by": e.recorded_by_name,
                    "Recorded at (UTC)": e.recorded_at.strftime("%Y-%m-%d %H:%M"),
                    "Expires": e.expires_at.strftime("%Y-%m-%d") if e.expires_at else "",
                }
                for e in history
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No consent has been recorded for this person.")


def load_receipts() -> list[dict[str, object]]:
    with db_session() as session:
        return [r for _name, r in receipts(session=session, actor=user, contact_id=contact.id)]


issued = attempt(load_receipts) or []
if issued:
    st.download_button(
        f"Download consent receipts ({len(issued)})",
        json.dumps(issued, indent=2),
        file_name=f"consent-receipts-contact-{contact.id}.json",
        mime="application/json",
        icon=":material/receipt_long:",
    )

if contact.erased_at is None and contact.email:
    if st.button(
        "Email them their preference link",
        key="send_preference_link",
        icon=":material/forward_to_inbox:",
        help="A personal link where they see and change what they agreed to, themselves.",
    ):
        act(
            send_preference_link,
            done="Sent: they can now change their preferences themselves.",
            contact_id=contact.id or 0,
            actor=user,
        )

if contact.erased_at is None and user.has_any({Role.sales, Role.manager, Role.admin}):
    st.markdown("**Log a marketing message**")
    st.caption(
        "Marketing is checked against consent when you log it. Without consent it is "
        "refused; an override needs a reason, and the consent audit reports it."
    )
    with st.form("log_marketing", clear_on_submit=False):
        left, right = st.columns(2)
        m_channel = left.selectbox(
            "Sent by", [Channel.email, Channel.sms, Channel.phone, Channel.letter], key="mc"
        )
        subject = right.text_input("Subject", key="ms", max_chars=SUBJECT_MAX)
        override = override_reason_input("mo")
        sent = st.form_submit_button("Log message")
    if sent and act(
        log_interaction,
        done="Marketing message logged.",
        rerun=False,
        interaction_in=InteractionCreate(
            contact_id=contact.id or 0,
            channel=m_channel,
            direction=Direction.outbound,
            purpose=Purpose.marketing,
            subject=subject,
            override_reason=override or None,
        ),
        actor=user,
    ):
        forget("ms", "mo")
        st.rerun()
