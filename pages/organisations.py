"""Organisations: find them, page through them, add one."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.nav import PIPELINE_ROLES
from components.pipeline_ui import money, query_id
from components.text import escape_markdown
from components.ui import Failed, act, pager, run
from db.core.normalise import COUNTRY_CODE_LENGTH, DOMAIN_MAX, SEARCH_MAX
from db.core.validation import parse_model
from db.models.people import Organisation, OrganisationCreate
from db.people.contacts import (
    INDUSTRY_MAX,
    LOCALITY_MAX,
    ORGANISATION_NAME_MAX,
    ContactFilter,
    create_organisation,
    find_contacts,
    find_organisations,
    get_organisation,
)
from db.pipeline.queries import DealFilter, find_deals

user = page(__file__)
st.title("Organisations")
PAGE_SIZE = 50
SHOWN = 20


def show_organisation(org_id: int) -> None:
    """One organisation (?id=12): its details, its people and its deals, each a link."""
    org = run(get_organisation, org_id=org_id, actor=user)
    if isinstance(org, Failed):
        return
    with st.container(border=True):
        st.subheader(escape_markdown(org.name))
        st.caption(
            " · ".join(
                escape_markdown(part)
                for part in (org.domain, org.industry, org.size, org.locality, org.country)
                if part
            )
        )
        people, deals = st.columns(2)
        contacts = run(
            find_contacts, actor=user, flt=ContactFilter(organisation_id=org_id), limit=SHOWN
        )
        with people:
            st.markdown("**People**")
            for contact in [] if isinstance(contacts, Failed) else contacts[0]:
                st.page_link(
                    "pages/contact.py",
                    label=escape_markdown(contact.full_name or "(no name)"),
                    icon=":material/person:",
                    query_params={"id": str(contact.id)},
                )
        if user.has_any(PIPELINE_ROLES):
            found = run(find_deals, actor=user, flt=DealFilter(organisation_id=org_id), limit=SHOWN)
            with deals:
                st.markdown("**Deals**")
                for deal in [] if isinstance(found, Failed) else found[0]:
                    st.page_link(
                        "pages/deal.py",
                        label=escape_markdown(
                            f"{deal.title} · {deal.stage} · {deal.status} · "
                            f"{money(deal.amount, deal.currency)}"
                        ),
                        icon=":material/request_quote:",
                        query_params={"id": str(deal.id)},
                    )


org_id = query_id()
if org_id is not None:
    show_organisation(org_id)

with st.expander("Add an organisation", icon=":material/add:"):
    with st.form("new_organisation", clear_on_submit=True):
        left, right = st.columns(2)
        name = left.text_input("Organisation name", key="org_name", max_chars=ORGANISATION_NAME_MAX)
        domain = right.text_input(
            "Web domain", key="org_domain", placeholder="example.org", max_chars=DOMAIN_MAX
        )
        industry = left.text_input("Industry", key="org_industry", max_chars=INDUSTRY_MAX)
        size = right.selectbox("Size", ["", "1-10", "11-50", "51-250", "250+"], key="org_size")
        locality = left.text_input("Town or city", key="org_locality", max_chars=LOCALITY_MAX)
        country = right.text_input(
            "Country (2 letters)", value="GB", key="org_country", max_chars=COUNTRY_CODE_LENGTH
        )
        submitted = st.form_submit_button("Add organisation", icon=":material/add:")
    if submitted:

        def create(*, session: Session) -> Organisation:
            org_in = parse_model(
                OrganisationCreate,
                {
                    "name": name,
                    "domain": domain or None,
                    "industry": industry or None,
                    "size": size or None,
                    "locality": locality or None,
                    "country": country or None,
                },
                labels={"name": "Organisation name"},
            )
            return create_organisation(session=session, org_in=org_in, actor=user)

        act(create, done=f"Added {escape_markdown(name.strip())}.")

query = st.text_input("Find by name or domain", key="org_query", max_chars=SEARCH_MAX)


counted = run(find_organisations, actor=user, query=query, limit=1)
total = 0 if isinstance(counted, Failed) else counted[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="org_page") if total else 0
found_page = run(find_organisations, actor=user, query=query, offset=offset, limit=PAGE_SIZE)
rows = [] if isinstance(found_page, Failed) else found_page[0]
if rows:
    st.caption("Select a row to open the organisation.")
    picked = st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": o.name,
                    "Domain": o.domain or "",
                    "Industry": o.industry or "",
                    "Size": o.size or "",
                    "Town": o.locality or "",
                    "Country": o.country or "",
                }
                for o in rows
            ]
        ),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="org_table",
    )
    chosen = picked.selection.rows if picked is not None else []
    if chosen:
        st.query_params["id"] = str(rows[chosen[0]].id)
        st.rerun()
else:
    st.info("No organisations match.")
