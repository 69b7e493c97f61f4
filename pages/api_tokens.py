"""API tokens: give a system a token that acts as one user, see every token, revoke one."""

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, run
from db.auth.accounts import list_users
from db.core.settings import get_settings
from db.integrations.api_tokens import (
    DAYS_MAX,
    NAME_MAX,
    create_token,
    list_tokens,
    revoke_token,
)

admin = page(__file__, sensitive=True)
st.title("API tokens")
st.caption(
    "A token lets another system (a phone system, a chat tool, a web form) call Rapport's "
    "HTTP API under /api/v1/. It acts as the user it is made for, with that user's roles "
    "and team, and every call is in the audit log under the token's name."
)

users = run(list_users, actor=admin)
active = [u for u in users if u.is_active] if not isinstance(users, Failed) else []

st.subheader("Create a token")
with st.form("create_token", clear_on_submit=True):
    name = st.text_input(
        "Name",
        max_chars=NAME_MAX,
        placeholder="phone system",
        key="token_name",
        help="What the token is for; it names the token in lists and in the audit log.",
    )
    username = st.selectbox(
        "Acts as",
        [u.username for u in active],
        format_func=lambda n: next(
            f"{u.display_name} ({u.username})" for u in active if u.username == n
        ),
        key="token_user",
    )
    days = st.number_input(
        "Valid for (days)",
        min_value=1,
        max_value=DAYS_MAX,
        value=get_settings().api_token_days,
        step=1,
        key="token_days",
    )
    submitted = st.form_submit_button("Create token")
if submitted:
    made = run(create_token, name=name, username=username or "", days=int(days), actor=admin)
    if not isinstance(made, Failed):
        st.success(
            f"Created {escape_markdown(made.token.name)}, acting as "
            f"{escape_markdown(username or '')}, valid until {made.token.expires_at:%d %b %Y}. "
            "Copy it now: it is shown only this once, and Rapport keeps only a fingerprint of it."
        )
        st.code(made.secret, language=None)

st.subheader("Tokens")
tokens = run(list_tokens, actor=admin)
if not isinstance(tokens, Failed):
    if not tokens:
        st.info("No tokens yet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Name": t.name,
                        "Acts as": t.username,
                        "Starts with": f"{t.prefix}…",
                        "Status": t.status,
                        "Created": t.created_at,
                        "Expires": t.expires_at,
                        "Last used": t.last_used_at,
                    }
                    for t in tokens
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    revocable = [t.name for t in tokens if t.status != "revoked"]
    if revocable:
        st.subheader("Revoke a token")
        chosen = st.selectbox("Token", revocable, key="revoke_name")
        if st.button("Revoke", key="revoke_token", type="primary"):
            act(
                revoke_token,
                name=chosen,
                actor=admin,
                done=f"Revoked {escape_markdown(chosen)}: calls with it are refused from now on.",
            )
