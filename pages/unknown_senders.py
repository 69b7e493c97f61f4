"""Unknown senders: people who wrote to a connected mailbox and are not contacts yet."""

import pandas as pd
import streamlit as st

from components import page
from components.ui import Failed, act, pager, run
from db.integrations.mail_senders import (
    UnknownSender,
    create_contact_from_sender,
    ignore_sender,
    list_unknown_senders,
)
from db.models.people import ContactCreate, ContactKind
from db.people.contacts import NAME_PART_MAX

user = page(__file__)
st.title("Unknown senders")
st.caption(
    "They wrote to a connected mailbox, but no contact has their address. Nobody is made a "
    "contact automatically: create one from a sender, or ignore them. Erased people are "
    "never listed."
)
PAGE_SIZE = 50

# The page chosen in the pager below (its widget keeps it across reruns).
offset = (int(st.session_state.get("senders_page", 1)) - 1) * PAGE_SIZE
found = run(list_unknown_senders, offset=offset, limit=PAGE_SIZE, actor=user)
senders, total = ([], 0) if isinstance(found, Failed) else found

if not total:
    st.info("Nobody unknown has written in. New senders appear here after each mail sync.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": s.display_name,
                    "Email": s.email,
                    "Mailbox": s.mailbox,
                    "Messages": s.messages,
                    "Latest subject": s.last_subject,
                    "Last seen": s.last_seen_at.strftime("%Y-%m-%d %H:%M"),
                }
                for s in senders
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    pager(total=total, page_size=PAGE_SIZE, key="senders_page")


def decide(sender: UnknownSender) -> None:
    """Create a contact from the sender, or ignore them."""
    given, _, family = sender.display_name.partition(" ")
    with st.form(f"sender_{sender.id}"):
        st.text(f"{sender.display_name} <{sender.email}>".strip())
        left, middle, right = st.columns(3)
        given_name = left.text_input(
            "Given name", value=given, max_chars=NAME_PART_MAX, key="sender_given"
        )
        family_name = middle.text_input(
            "Family name", value=family, max_chars=NAME_PART_MAX, key="sender_family"
        )
        kinds = list(ContactKind)
        kind = right.selectbox("Kind", kinds, format_func=lambda k: k.value, key="sender_kind")
        create, ignore = st.columns(2)
        make = create.form_submit_button("Create contact", type="primary")
        drop = ignore.form_submit_button("Ignore this sender")
    if make:
        act(
            create_contact_from_sender,
            done="Contact created. Their next messages land on their timeline.",
            sender_id=sender.id,
            contact_in=ContactCreate(given_name=given_name, family_name=family_name, kind=kind),
            actor=user,
        )
    if drop:
        act(
            ignore_sender,
            done="Ignored: they are no longer listed.",
            sender_id=sender.id,
            actor=user,
        )


if senders:
    by_id = {s.id: s for s in senders}
    chosen = st.selectbox(
        "Sender",
        list(by_id),
        format_func=lambda i: f"{by_id[i].display_name or by_id[i].email} <{by_id[i].email}>",
        key="sender_chosen",
    )
    decide(by_id[chosen])
