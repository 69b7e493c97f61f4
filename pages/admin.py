"""Users and roles: create accounts, change roles, unlock, deactivate, reset passwords."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, run
from db.auth.accounts import (
    DISPLAY_NAME_MAX,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    TEAM_MAX,
    USERNAME_MAX,
    create_user,
    deactivate_user,
    list_users,
    reactivate_user,
    reset_password,
    set_roles,
    unlock_user,
    update_user,
)
from db.core.normalise import EMAIL_MAX
from db.core.types import utcnow
from db.models.auth import ROLE_LABELS, Role, User, UserCreate, UserUpdate

admin = page(__file__)
st.title("Users and roles")


listed = run(list_users, actor=admin)
users = [] if isinstance(listed, Failed) else listed
now = utcnow()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Username": u.username,
                "Name": u.display_name,
                "Email": u.email,
                "Team": u.team or "",
                "Roles": ", ".join(r.value for r in sorted(u.roles)),
                "Active": u.is_active,
                "Locked": bool(u.locked_until and u.locked_until > now),
                "Failed sign-ins": u.failed_logins,
            }
            for u in users
        ]
    ),
    hide_index=True,
    width="stretch",
)

role_options = list(Role)


def role_label(role: Role) -> str:
    return ROLE_LABELS[role]


create_tab, manage_tab = st.tabs(["Create a user", "Manage a user"])

with create_tab, st.form("create_user", clear_on_submit=False):
    left, right = st.columns(2)
    username = left.text_input(
        "Username",
        help="Lower-case letters, digits, dots, dashes.",
        key="new_username",
        max_chars=USERNAME_MAX,
    )
    display_name = right.text_input("Name", key="new_name", max_chars=DISPLAY_NAME_MAX)
    email = left.text_input("Email", key="new_email", max_chars=EMAIL_MAX)
    team = right.text_input("Team (optional)", key="new_team", max_chars=TEAM_MAX)
    roles = st.multiselect("Roles", role_options, format_func=role_label, key="new_roles")
    password = left.text_input(
        "Initial password",
        type="password",
        key="new_password",
        max_chars=PASSWORD_MAX_LENGTH,
        help=f"At least {PASSWORD_MIN_LENGTH} characters. Give it to the person privately.",
    )
    repeat = right.text_input(
        "Repeat password", type="password", key="new_repeat", max_chars=PASSWORD_MAX_LENGTH
    )
    if st.form_submit_button("Create user", type="primary"):
        if password != repeat:
            st.error("Repeat password: the two passwords differ; type them again.")
        else:

            def create(*, session: Session) -> User:
                return create_user(
                    session=session,
                    user_in=UserCreate(
                        username=username,
                        display_name=display_name,
                        email=email,
                        team=team or None,
                        password=password,
                        roles=list(roles),
                    ),
                    actor=admin,
                )

            act(
                create,
                done=f"Created {escape_markdown(username.strip().lower())}. They can sign in now.",
            )

with manage_tab:
    if not users:
        st.info("No users yet.")
    else:
        by_name = {u.username: u for u in users}
        chosen = st.selectbox("User", list(by_name), key="manage_user")
        target = by_name[chosen]
        assert target.id is not None
        target_id = target.id

        with st.form("edit_user"):
            st.markdown("**Details**")
            new_name = st.text_input("Name", value=target.display_name, max_chars=DISPLAY_NAME_MAX)
            new_email = st.text_input("Email", value=target.email, max_chars=EMAIL_MAX)
            new_team = st.text_input("Team", value=target.team or "", max_chars=TEAM_MAX)
            new_roles = st.multiselect(
                "Roles", role_options, default=sorted(target.roles), format_func=role_label
            )
            if st.form_submit_button("Save details and roles"):

                def save(*, session: Session) -> None:
                    updated = update_user(
                        session=session,
                        user_id=target_id,
                        patch=UserUpdate(
                            display_name=new_name, email=new_email, team=new_team or None
                        ),
                        version=target.version,
                        actor=admin,
                    )
                    if set(new_roles) != set(updated.roles):
                        set_roles(
                            session=session,
                            user_id=target_id,
                            roles=list(new_roles),
                            actor=admin,
                        )

                act(save, done=f"Saved {escape_markdown(target.username)}.")

        locked = bool(target.locked_until and target.locked_until > now)
        cols = st.columns(3)
        with cols[0]:
            st.markdown("**Sign-in lock**")
            if locked:
                st.caption(f"Locked until {target.locked_until:%H:%M} UTC.")
                if st.button("Unlock now", key="unlock"):
                    act(
                        unlock_user,
                        done=f"{escape_markdown(target.username)} can sign in again.",
                        user_id=target_id,
                        actor=admin,
                    )
            else:
                st.caption("Not locked.")
        with cols[1]:
            st.markdown("**Access**")
            if target.is_active:
                sure = st.checkbox(
                    f"Yes, deactivate {escape_markdown(target.username)}",
                    key="confirm_deactivate",
                    help="They are signed out everywhere and cannot sign in until reactivated.",
                )
                if st.button("Deactivate", key="deactivate", disabled=not sure):
                    act(
                        deactivate_user,
                        done=f"{escape_markdown(target.username)} is deactivated.",
                        user_id=target_id,
                        actor=admin,
                    )
            elif st.button("Reactivate", key="reactivate"):
                act(
                    reactivate_user,
                    done=f"{escape_markdown(target.username)} can sign in again.",
                    user_id=target_id,
                    actor=admin,
                )
        with cols[2], st.form("reset_password", clear_on_submit=True):
            st.markdown("**Reset password**")
            new_password = st.text_input(
                "New password", type="password", max_chars=PASSWORD_MAX_LENGTH
            )
            confirm = st.checkbox(f"Yes, replace {escape_markdown(target.username)}'s password")
            if st.form_submit_button("Reset password"):
                if not confirm:
                    st.error("Tick the confirmation box to reset the password.")
                else:
                    act(
                        reset_password,
                        done=f"Password reset; {escape_markdown(target.username)} is signed out "
                        "everywhere.",
                        user_id=target_id,
                        new_password=new_password,
                        actor=admin,
                    )
