"""Organisations: find them, page through them, add one."""

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt, pager
from db.core.normalise import COUNTRY_CODE_LENGTH, DOMAIN_MAX, SEARCH_MAX
from db.core.validation import parse_model
from db.models.people import Organisation, OrganisationCreate
from db.people.contacts import (
    INDUSTRY_MAX,
    LOCALITY_MAX,
    ORGANISATION_NAME_MAX,
    create_organisation,
    find_organisations,
)

user = page(__file__)
st.title("Organisations")
PAGE_SIZE = 50

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

        def create() -> Organisation:
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
            with db_session() as session:
                return create_organisation(session=session, org_in=org_in, actor=user)

        created = attempt(create)
        if created is not None:
            st.success(f"Added {escape_markdown(created.name)}.")

query = st.text_input("Find by name or domain", key="org_query", max_chars=SEARCH_MAX)


def load_count() -> tuple[list[Organisation], int]:
    with db_session() as session:
        return find_organisations(session=session, actor=user, query=query, limit=1)


total = (attempt(load_count) or ([], 0))[1]
offset = pager(total=total, page_size=PAGE_SIZE, key="org_page") if total else 0


def load_page() -> tuple[list[Organisation], int]:
    with db_session() as session:
        return find_organisations(
            session=session, actor=user, query=query, offset=offset, limit=PAGE_SIZE
        )


rows = (attempt(load_page) or ([], 0))[0]
if rows:
    st.dataframe(
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
    )
else:
    st.info("No organisations match.")
