"""Audit log: every change and sensitive view, filterable, with a chain check."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.pipeline_ui import local_time
from components.text import escape_markdown
from components.ui import Failed, pager, run
from db.auth.audit import (
    AuditFilter,
    count_events,
    filter_choices,
    list_events,
    verify_chain,
)

admin = page(__file__, sensitive=True)
st.title("Audit log")
PAGE_SIZE = 50


found_choices = run(filter_choices, actor=admin)
choices = (
    {"actor": [], "action": [], "entity": []}
    if isinstance(found_choices, Failed)
    else found_choices
)
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


counted = run(count_events, actor=admin, flt=flt)
total = 0 if isinstance(counted, Failed) else counted
offset = pager(total=total, page_size=PAGE_SIZE, key="audit_page") if total else 0


found = run(list_events, actor=admin, flt=flt, offset=offset, limit=PAGE_SIZE)
rows = [] if isinstance(found, Failed) else found
if rows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": e.seq,
                    "When": local_time(e.occurred_at, "%Y-%m-%d %H:%M:%S"),
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
        report = run(verify_chain)
    if not isinstance(report, Failed) and report.ok:
        st.success(f"The chain is intact: {report.checked:,} events verified.")
    elif not isinstance(report, Failed):
        st.error(f"The chain is broken: {escape_markdown(report.reason)}.")
