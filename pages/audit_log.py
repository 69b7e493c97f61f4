"""Audit log: every change and sensitive view, filterable, with a chain check."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt, pager
from db.auth.audit import (
    AuditFilter,
    ChainReport,
    count_events,
    filter_choices,
    list_events,
    verify_chain,
)
from db.models.audit import AuditEvent

admin = page(__file__, sensitive=True)
st.title("Audit log")
PAGE_SIZE = 50


def load_choices() -> dict[str, list[str]]:
    with db_session() as session:
        return filter_choices(session=session, actor=admin)


choices = attempt(load_choices) or {"actor": [], "action": [], "entity": []}
cols = st.columns(4)
actor_name = cols[0].selectbox("Actor", ["(any)", *choices["actor"]])
action = cols[1].selectbox("Action", ["(any)", *choices["action"]])
entity = cols[2].selectbox("Entity", ["(any)", *choices["entity"]])
today = dt.date.today()
period = cols[3].date_input(
    "Period", value=(today - dt.timedelta(days=30), today), max_value=today, format="YYYY-MM-DD"
)
since = until = None
if isinstance(period, tuple) and len(period) == 2:
    since = dt.datetime.combine(period[0], dt.time.min, tzinfo=dt.UTC)
    until = dt.datetime.combine(period[1] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

flt = AuditFilter(
    actor_name=None if actor_name == "(any)" else actor_name,
    action=None if action == "(any)" else action,
    entity=None if entity == "(any)" else entity,
    since=since,
    until=until,
)


def count() -> int:
    with db_session() as session:
        return count_events(session=session, actor=admin, flt=flt)


total = attempt(count) or 0
offset = pager(total=total, page_size=PAGE_SIZE, key="audit_page") if total else 0


def load_page() -> list[AuditEvent]:
    with db_session() as session:
        return list_events(session=session, actor=admin, flt=flt, offset=offset, limit=PAGE_SIZE)


rows = attempt(load_page) or []
if rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": e.seq,
                    "When (UTC)": e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "Actor": e.actor_name,
                    "Action": e.action,
                    "Entity": e.entity,
                    "Id": e.entity_id or "",
                    "Details": e.details,
                }
                for e in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No audit events match these filters.")

st.subheader("Integrity")
st.caption(
    "Each event holds the SHA-256 hash of the one before it, so altering, removing or "
    "reordering any stored event breaks the chain from that point on."
)
if st.button("Verify the whole chain", icon=":material/verified:", key="verify_chain"):
    with st.spinner("Checking every event…"):

        def verify() -> ChainReport:
            with db_session() as session:
                return verify_chain(session=session)

        report = attempt(verify)
    if report is not None and report.ok:
        st.success(f"The chain is intact: {report.checked:,} events verified.")
    elif report is not None:
        st.error(f"The chain is broken: {escape_markdown(report.reason)}.")
