"""Webhooks: register URLs for events, see every delivery and how it went, replay one."""

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, flash, run
from db.core.events import WEBHOOK_KINDS
from db.integrations.webhooks import (
    DESCRIPTION_MAX,
    MAX_ATTEMPTS,
    URL_MAX,
    list_deliveries,
    list_endpoints,
    register_endpoint,
    replay_delivery,
    set_endpoint,
)
from db.models.integrations_events import DeliveryStatus

admin = page(__file__)
ONCE_KEY = "webhooks_shown_once"
STATUSES = {"": "Any", **{s: s for s in ("pending", "delivered", "failed")}}
st.title("Webhooks")
st.caption(
    "Rapport POSTs each event to the URLs registered for it, signed with the endpoint's "
    "secret (header Rapport-Signature), from the worker: a slow or dead receiver never "
    f"slows the app. Failed deliveries are retried with back-off, {MAX_ATTEMPTS} attempts "
    "in all. The README's Integrations section shows how to verify a signature."
)

# The secret of an endpoint just registered: shown this once, then forgotten.
new_secret = st.session_state.pop(ONCE_KEY, None)
if new_secret:
    st.warning(
        "Copy this signing secret now and give it to the receiver: it is not shown again.",
        icon=":material/key:",
    )
    st.code(new_secret, language=None)

endpoints = run(list_endpoints, actor=admin)
endpoints = [] if isinstance(endpoints, Failed) else endpoints

with st.expander("Register or change an endpoint", expanded=not endpoints):
    register_tab, manage_tab = st.tabs(["Register an endpoint", "Pause or change one"])
    with register_tab, st.form("register_webhook", clear_on_submit=False):
        url = st.text_input(
            "URL", max_chars=URL_MAX, placeholder="https://example.org/hooks/rapport", key="wh_url"
        )
        description = st.text_input(
            "What receives it (optional)", max_chars=DESCRIPTION_MAX, key="wh_description"
        )
        kinds = st.multiselect(
            "Events",
            list(WEBHOOK_KINDS),
            format_func=lambda kind: f"{kind} — {WEBHOOK_KINDS[kind]}",
            key="wh_kinds",
        )
        if st.form_submit_button("Register", type="primary"):
            registered = run(
                register_endpoint, actor=admin, url=url, kinds=kinds, description=description
            )
            if not isinstance(registered, Failed):
                st.session_state[ONCE_KEY] = registered.secret
                for key in ("wh_url", "wh_description", "wh_kinds"):
                    st.session_state.pop(key, None)  # an empty form for the next one
                flash(
                    f"Registered endpoint #{registered.endpoint.id}: events go to it from now on."
                )
                st.rerun()

    with manage_tab:
        if not endpoints:
            st.info("No endpoint is registered yet.")
        else:
            by_id = {e.id: e for e in endpoints}
            chosen = st.selectbox(
                "Endpoint",
                list(by_id),
                format_func=lambda i: f"#{i} {by_id[i].url}",
                key="wh_manage",
            )
            endpoint = by_id[chosen]
            with st.form(f"manage_webhook_{endpoint.id}_{endpoint.version}"):
                active = st.toggle("Sending", value=endpoint.active)
                chosen_kinds = st.multiselect(
                    "Events",
                    list(WEBHOOK_KINDS),
                    default=endpoint.kinds.split(),
                    format_func=lambda kind: f"{kind} — {WEBHOOK_KINDS[kind]}",
                )
                if st.form_submit_button("Save"):
                    act(
                        set_endpoint,
                        done="Saved. A paused endpoint keeps its deliveries waiting.",
                        actor=admin,
                        endpoint_id=endpoint.id,
                        active=active,
                        kinds=chosen_kinds,
                        version=endpoint.version,
                    )

st.subheader("Endpoints")
if endpoints:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Id": e.id,
                    "URL": e.url,
                    "Receives": e.description,
                    "Events": ", ".join(e.kinds.split()),
                    "Sending": e.active,
                    "Registered": e.created_at,
                }
                for e in endpoints
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={"Registered": st.column_config.DatetimeColumn(format="D MMM YYYY HH:mm")},
    )
else:
    st.caption("None yet.")

st.subheader("Deliveries")
left, right = st.columns(2)
endpoint_filter = left.selectbox(
    "Endpoint",
    [0, *[e.id for e in endpoints]],
    format_func=lambda i: f"#{i}" if i else "All",
    key="wh_filter_endpoint",
)
status_filter = right.selectbox(
    "Status", list(STATUSES), format_func=lambda s: STATUSES[s], key="wh_filter_status"
)
deliveries = run(
    list_deliveries,
    actor=admin,
    endpoint_id=endpoint_filter or None,
    status=status_filter or None,
)
deliveries = [] if isinstance(deliveries, Failed) else deliveries
if not deliveries:
    st.caption("No delivery yet. The worker queues one for each event an endpoint receives.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Delivery": d.id,
                    "Event": d.kind,
                    "Event id": d.event_id,
                    "Endpoint": f"#{d.endpoint_id}",
                    "Status": d.status,
                    "Attempts": d.attempts,
                    "Last attempt": d.last_attempt_at,
                    "Answer": d.last_status_code,
                    "Last error": d.last_error or "",
                    "Next try": d.next_attempt_at,
                }
                for d in deliveries
            ]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Last attempt": st.column_config.DatetimeColumn(format="D MMM HH:mm:ss"),
            "Next try": st.column_config.DatetimeColumn(format="D MMM HH:mm:ss"),
        },
    )
    replayable = {d.id: d for d in deliveries if d.status != DeliveryStatus.pending}
    if replayable:
        with st.form("replay_webhook"):
            which = st.selectbox(
                "Send a delivery again (same event id: the receiver keeps it once)",
                list(replayable),
                format_func=lambda i: (
                    f"#{i} {replayable[i].kind} to #{replayable[i].endpoint_id} "
                    f"({replayable[i].status})"
                ),
            )
            if st.form_submit_button("Replay"):
                act(
                    replay_delivery,
                    done=f"Delivery #{which} queued again; the worker sends it within seconds.",
                    actor=admin,
                    delivery_id=which,
                )
    failed = sum(1 for d in deliveries if d.status == DeliveryStatus.failed)
    if failed:
        st.warning(
            escape_markdown(f"{failed} delivery(ies) gave up after {MAX_ATTEMPTS} attempts."),
            icon=":material/error:",
        )
