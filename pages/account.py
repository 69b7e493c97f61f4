"""My account: see your details and change your password."""

import streamlit as st

from components import page
from components.auth import TOKEN_KEY
from components.ui import act
from db.auth.accounts import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, change_own_password
from db.models.auth import ROLE_LABELS

user = page(__file__)
st.title("My account")

st.text(f"Username: {user.username}")
st.text(f"Name: {user.display_name}")
st.text(f"Email: {user.email}")
st.text(f"Team: {user.team or '—'}")
st.text("Roles: " + ", ".join(ROLE_LABELS[r] for r in sorted(user.roles)))
st.page_link("pages/notifications.py", label="What you are told, and how", icon=":material/tune:")

st.subheader("Change password")
with st.form("change_password", clear_on_submit=False):
    current = st.text_input("Current password", type="password", max_chars=PASSWORD_MAX_LENGTH)
    new = st.text_input(
        "New password",
        type="password",
        max_chars=PASSWORD_MAX_LENGTH,
        help=f"At least {PASSWORD_MIN_LENGTH} characters; a few unrelated words work well.",
    )
    repeat = st.text_input("Repeat new password", type="password", max_chars=PASSWORD_MAX_LENGTH)
    submitted = st.form_submit_button("Change password")

if submitted:
    if new != repeat:
        st.error("Repeat new password: the two new passwords differ; type them again.")
    else:
        act(
            change_own_password,
            done="Password changed. Other browsers signed in as you are signed out.",
            actor=user,
            current_password=current,
            new_password=new,
            keep_session=st.session_state.get(TOKEN_KEY),
        )
