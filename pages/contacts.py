"""Contacts: find and filter, page through, open one, add one."""

from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.text import escape_markdown
from components.ui import Failed, flash, pager, run
from db.core.normalise import EMAIL_MAX, PHONE_MAX, SEARCH_MAX, TAG_MAX, TAGS_TEXT_MAX
from db.core.validation import parse_model
from db.models.people import Contact, ContactCreate, ContactKind
from db.people.contacts import (
    NAME_PART_MAX,
    ContactFilter,
    create_contact,
    find_contacts,
    find_organisations,
)

user = page(__file__)
st.title("Contacts")
PAGE_SIZE = 50
KINDS = [k.value for k in ContactKind]

with st.expander("Add a contact", icon=":material/person_add:"):
    org_query = st.text_input(
        "Find their organisation", key="contact_org_query", max_chars=SEARCH_MAX
    )

    found_orgs = run(find_organisations, actor=user, query=org_query, limit=50)
    orgs = [] if isinstance(found_orgs, Failed) else found_orgs[0]
    org_names = {o.id: o.name for o in orgs}
    with st.form("new_contact", clear_on_submit=True):
        left, right = st.columns(2)
        given = left.text_input("Given name", key="new_given", max_chars=NAME_PART_MAX)
        family = right.text_input("Family name", key="new_family", max_chars=NAME_PART_MAX)
        kind = left.selectbox("Kind", KINDS, key="new_kind")
        organisation_id = right.selectbox(
            "Organisation",
            [0, *org_names],
            format_func=lambda i: "(none)" if not i else org_names[i],
            key="new_org",
        )
        email = left.text_input("Email", key="new_email", max_chars=EMAIL_MAX)
        phone = right.text_input("Phone", key="new_phone", max_chars=PHONE_MAX)
        tags = left.text_input("Tags (comma separated)", key="new_tags", max_chars=TAGS_TEXT_MAX)
        submitted = st.form_submit_button("Add contact", icon=":material/person_add:")
    if submitted:

        def create(*, session: Session) -> Contact:
            contact_in = parse_model(
                ContactCreate,
                {
                    "given_name": given,
                    "family_name": family,
                    "kind": kind,
                    "organisation_id": organisation_id or None,
                    "email": email or None,
                    "phone": phone or None,
                    "country": "GB",
                    "tags": [t for t in tags.split(",") if t.strip()],
                },
            )
            return create_contact(session=session, contact_in=contact_in, actor=user)

        created = run(create)
        if not isinstance(created, Failed):
            flash(f"Added {escape_markdown(created.full_name)}.")
            st.session_state["contacts_added"] = (created.id, created.full_name)
            st.rerun()
# The contact just added, one click away (the form's expander closes on the rerun).
added = st.session_state.pop("contacts_added", None)
if added:
    st.page_link(
        "pages/contact.py",
        label=f"Open {escape_markdown(added[1])}",
        icon=":material/person_search:",
        query_params={"id": str(added[0])},
    )

cols = st.columns([3, 1, 1])
query = cols[0].text_input(
    "Find by name, email or external reference", key="contact_query", max_chars=SEARCH_MAX
)
kind_filter = cols[1].selectbox("Kind", ["(any)", *KINDS], key="contact_kind")
tag_filter = cols[2].text_input("Tag", key="contact_tag", max_chars=TAG_MAX)
flt = ContactFilter(
    query=query,
    kind=None if kind_filter == "(any)" else ContactKind(kind_filter),
    tag=tag_filter.strip() or None,
)


counted = run(find_contacts, actor=user, flt=flt, offset=0, limit=1)
total = 0 if isinstance(counted, Failed) else counted[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="contact_page") if total else 0
found = run(find_contacts, actor=user, flt=flt, offset=offset, limit=PAGE_SIZE)
rows = [] if isinstance(found, Failed) else found[0]
if rows:
    table = pd.DataFrame(
        [
            {
                "Name": c.full_name,
                "Kind": str(c.kind),
                "Email": c.email or "",
                "Phone": c.phone or "",
                "Town": c.locality or "",
                "Last activity": c.last_activity_at.strftime("%Y-%m-%d")
                if c.last_activity_at
                else "",
            }
            for c in rows
        ]
    )
    st.caption("Select a row to open the contact.")
    chosen: Any = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="contacts_table",
    )
    picked = chosen.selection.rows if chosen is not None else []
    if picked:
        st.switch_page("pages/contact.py", query_params={"id": str(rows[picked[0]].id)})
else:
    st.info("No contacts match these filters.")
