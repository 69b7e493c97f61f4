"""Search: contacts, organisations and deals by name, email, phone or reference, by kind,
each opened in one click. Only what the signed-in person may read is found."""

import hashlib

import streamlit as st
from sqlmodel import Session

from components import page
from components.nav import PIPELINE_ROLES
from components.pipeline_ui import money
from components.text import count_of, escape_markdown
from components.ui import Failed, run
from db.core.normalise import SEARCH_MAX
from db.people.search import Hit, search_contacts, search_organisations
from db.pipeline.queries import DealRow, search_deals

user = page(__file__)
st.title("Search")
SHOWN = 10

typed = str(st.query_params.get("q") or "")[:SEARCH_MAX]
query = st.text_input(
    "Name, email, phone or reference",
    value=typed,
    key=f"search_query_{hashlib.sha256(typed.encode()).hexdigest()[:12]}",
    max_chars=SEARCH_MAX,
    placeholder="e.g. Ada Lovelace, ada@example.org, +44 20 7946 0018, HS-1234",
)
if query != typed:
    st.query_params["q"] = query
if not query.strip():
    st.info("Type a name, an email address, a phone number or a reference, then press Enter.")
    st.stop()

sells = user.has_any(PIPELINE_ROLES)


def find(*, session: Session) -> tuple[list[Hit], list[Hit], list[DealRow]]:
    return (
        search_contacts(session=session, actor=user, query=query, limit=SHOWN),
        search_organisations(session=session, actor=user, query=query, limit=SHOWN),
        search_deals(session=session, actor=user, query=query, limit=SHOWN) if sells else [],
    )


found = run(find)
if isinstance(found, Failed):
    st.stop()
contacts, organisations, deals = found
if not (contacts or organisations or deals):
    st.info("Nothing you can see matches. Try part of a name, or the whole email address.")
    st.stop()


def heading(kind: str, hits: int) -> None:
    more = " (the first ones; type more to narrow it down)" if hits >= SHOWN else ""
    st.subheader(f"{kind} · {count_of(hits, 'match', 'matches')}{more}")


if contacts:
    heading("Contacts", len(contacts))
    for hit in contacts:
        st.page_link(
            "pages/contact.py",
            label=escape_markdown(f"{hit.label} · {hit.detail}" if hit.detail else hit.label),
            icon=":material/person:",
            query_params={"id": str(hit.id)},
        )
if organisations:
    heading("Organisations", len(organisations))
    for hit in organisations:
        st.page_link(
            "pages/organisations.py",
            label=escape_markdown(f"{hit.label} · {hit.detail}" if hit.detail else hit.label),
            icon=":material/domain:",
            query_params={"id": str(hit.id)},
        )
if deals:
    heading("Deals", len(deals))
    for deal in deals:
        parts = [deal.title, deal.organisation or "", deal.stage, deal.status, deal.owner]
        st.page_link(
            "pages/deal.py",
            label=escape_markdown(
                " · ".join(p for p in parts if p) + f" · {money(deal.amount, deal.currency)}"
            ),
            icon=":material/request_quote:",
            query_params={"id": str(deal.id)},
        )
