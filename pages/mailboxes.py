"""Mailboxes: the connected IMAP mailboxes, how their sync is going, and their settings."""

from datetime import datetime

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, attempt, run
from db.auth.accounts import list_users
from db.core.normalise import EMAIL_MAX
from db.core.validation import parse_model
from db.integrations.mailboxes import (
    HOST_MAX,
    NAME_MAX,
    OWNER_FIELDS,
    PASSWORD_ENV_PREFIX,
    check_connection,
    create_mailbox,
    folder_states,
    health,
    list_mailboxes,
    refused_messages,
    update_mailbox,
)
from db.models.auth import Role
from db.models.integrations_mail import Mailbox, MailboxCreate, MailboxUpdate, MailSecurity
from db.models.people import Purpose

user = page(__file__)
st.title("Mailboxes")
is_admin = Role.admin in user.roles
SECURITY_LABELS = {
    MailSecurity.tls: "TLS (port 993)",
    MailSecurity.starttls: "STARTTLS (port 143)",
    MailSecurity.plain: "None (a server on this machine only)",
}
PORTS = {MailSecurity.tls: 993, MailSecurity.starttls: 143, MailSecurity.plain: 143}


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


mailboxes = run(list_mailboxes, actor=user)
mailboxes = [] if isinstance(mailboxes, Failed) else mailboxes
users = run(list_users, actor=user) if is_admin else []
users = [] if isinstance(users, Failed) else users
names = {u.id: u.display_name or u.username for u in users}
if not is_admin:
    names[user.id] = user.display_name or user.username

st.caption(
    "Mail to and from contacts in these mailboxes lands on their timelines at each sync "
    "(`manage.py mail-sync --every 60`). Passwords are read where the sync runs, from an "
    "environment variable or a secret file; they are never stored in the database."
)

if not mailboxes:
    st.info(
        "No mailbox is connected yet. Connect one below."
        if is_admin
        else "You have no mailbox connected. An administrator can connect yours."
    )
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Mailbox": m.name,
                    "Address": m.address,
                    "Belongs to": names.get(m.owner_id, "?") if m.owner_id else "Shared",
                    "Status": health(m).label,
                    "Last success": when(m.last_success_at),
                    "Last error": (
                        f"{when(m.last_error_at)}: {m.last_error}" if m.last_error else ""
                    ),
                }
                for m in mailboxes
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def show_mailbox(mailbox: Mailbox) -> None:
    """One mailbox: its state, its held messages, its check and its settings."""
    state = health(mailbox)
    text = escape_markdown(state.sentence)
    if state.ok:
        st.success(text, icon=":material/check_circle:")
    else:
        st.error(text, icon=":material/error:")
    st.markdown(
        f"Last success: **{escape_markdown(when(mailbox.last_success_at))}** · "
        f"last attempt: **{escape_markdown(when(mailbox.last_attempt_at))}** · "
        f"last error: **{escape_markdown(when(mailbox.last_error_at))}**"
    )
    if mailbox.last_error and state.ok:
        # An older error, since followed by a success.
        st.caption("The last error was: " + escape_markdown(mailbox.last_error))

    if st.button("Check the connection", icon=":material/wifi_find:", key="mail_check"):
        found = run(check_connection, mailbox_id=mailbox.id or 0, actor=user)
        if not isinstance(found, Failed):
            st.success(
                "Signed in. Folders it will read: " + escape_markdown(", ".join(found)) + ".",
            )

    folders = run(folder_states, mailbox_id=mailbox.id or 0, actor=user)
    if not isinstance(folders, Failed) and folders:
        st.markdown("**Where the sync stands**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Folder": f.name,
                        "Role": f.role.value,
                        "UIDVALIDITY": f.uidvalidity,
                        "Last UID done": f.last_uid,
                        "Synced": when(f.synced_at),
                    }
                    for f in folders
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    held = run(refused_messages, mailbox_id=mailbox.id or 0, actor=user)
    if not isinstance(held, Failed) and held:
        st.markdown("**Sent mail the consent check refused**")
        st.caption(
            "Logged with the refusal as its override reason (the consent audit lists these), "
            "or, for a person who objected, not logged at all."
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Contact": h.contact,
                        "Subject": h.subject,
                        "Sent": when(h.occurred_at),
                        "Outcome": "logged, overridden"
                        if h.status == "overridden"
                        else "not logged",
                        "Reason": h.reason,
                    }
                    for h in held
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    settings_form(mailbox)


def settings_form(mailbox: Mailbox) -> None:
    """The mailbox's settings: all of them for administrators, the owner's few for its owner."""
    purposes = list(Purpose)
    with st.form(f"mailbox_settings_{mailbox.id}"):
        st.markdown("**Settings**")
        enabled = st.checkbox("Sync this mailbox", value=mailbox.enabled, key="mail_enabled")
        sent_purpose = st.selectbox(
            "Purpose of its sent mail (unless a message says it is a mailing)",
            purposes,
            index=purposes.index(mailbox.sent_purpose),
            format_func=lambda p: p.value,
            key="mail_sent_purpose",
        )
        values: dict[str, object] = {"enabled": enabled, "sent_purpose": sent_purpose}
        if is_admin:
            values |= connection_fields(mailbox, prefix="edit")
        else:
            st.caption(
                "Where it connects and how it signs in are set by an administrator: "
                + escape_markdown(f"{mailbox.username} at {mailbox.host}:{mailbox.port}.")
            )
        saved = st.form_submit_button("Save settings", icon=":material/save:")
    if saved:
        allowed = values if is_admin else {k: v for k, v in values.items() if k in OWNER_FIELDS}
        patch = attempt(lambda: parse_model(MailboxUpdate, allowed))
        if patch is not None:
            act(
                update_mailbox,
                done="Saved.",
                mailbox_id=mailbox.id or 0,
                version=mailbox.version,
                patch=patch,
                actor=user,
            )


def connection_fields(mailbox: Mailbox | None, *, prefix: str) -> dict[str, object]:
    """The fields an administrator sets: name, address, server, login, password source."""
    left, right = st.columns(2)
    name = left.text_input(
        "Name", value=mailbox.name if mailbox else "", max_chars=NAME_MAX, key=f"{prefix}_name"
    )
    address = right.text_input(
        "Address",
        value=mailbox.address if mailbox else "",
        max_chars=EMAIL_MAX,
        key=f"{prefix}_address",
        help="The mailbox's own email address: its mail is never taken for a contact's.",
    )
    securities = list(MailSecurity)
    security = left.selectbox(
        "Security",
        securities,
        index=securities.index(mailbox.security) if mailbox else 0,
        format_func=lambda s: SECURITY_LABELS[s],
        key=f"{prefix}_security",
    )
    host = right.text_input(
        "IMAP server",
        value=mailbox.host if mailbox else "",
        max_chars=HOST_MAX,
        key=f"{prefix}_host",
    )
    port = left.number_input(
        "Port",
        min_value=1,
        max_value=65535,
        value=mailbox.port if mailbox else PORTS[security],
        key=f"{prefix}_port",
    )
    username = right.text_input(
        "User name",
        value=mailbox.username if mailbox else "",
        max_chars=254,
        key=f"{prefix}_username",
    )
    password_env = left.text_input(
        "Password: environment variable",
        value=(mailbox.password_env or "") if mailbox else "",
        max_chars=100,
        key=f"{prefix}_password_env",
        help=f"Its name starts with {PASSWORD_ENV_PREFIX}; set it where the sync runs.",
    )
    password_file = right.text_input(
        "Password: or a secret file",
        value=(mailbox.password_file or "") if mailbox else "",
        max_chars=100,
        key=f"{prefix}_password_file",
        help="A file name in the secrets folder (RAPPORT_MAIL_SECRETS_DIR), without a path.",
    )
    # 0 stands for "shared": a None option would read as nothing chosen.
    owners = [0, *sorted(names, key=lambda i: names[i])]
    current = mailbox.owner_id if mailbox and mailbox.owner_id in owners else 0
    owner = st.selectbox(
        "Belongs to",
        owners,
        index=owners.index(current),
        format_func=lambda i: "Shared (nobody's own)" if i == 0 else names[i],
        key=f"{prefix}_owner",
        help="A person's own mailbox is seen and managed only by them and administrators.",
    )
    return {
        "name": name,
        "address": address,
        "security": security,
        "host": host,
        "port": int(port),
        "username": username,
        "password_env": password_env or None,
        "password_file": password_file or None,
        "owner_id": owner or None,
    }


if mailboxes:
    by_id = {m.id: m for m in mailboxes}
    chosen = st.selectbox(
        "Mailbox",
        list(by_id),
        format_func=lambda i: f"{by_id[i].name} <{by_id[i].address}>",
        key="mail_chosen",
    )
    st.subheader(escape_markdown(by_id[chosen].name))
    show_mailbox(by_id[chosen])

if is_admin:
    with st.expander("Connect a mailbox", icon=":material/add:", expanded=not mailboxes):
        with st.form("connect_mailbox", clear_on_submit=False):
            fields = connection_fields(None, prefix="new")
            sent = st.selectbox(
                "Purpose of its sent mail",
                list(Purpose),
                format_func=lambda p: p.value,
                key="new_sent_purpose",
            )
            connect = st.form_submit_button("Connect mailbox", type="primary")
        if connect:
            mailbox_in = attempt(
                lambda: parse_model(MailboxCreate, fields | {"sent_purpose": sent})
            )
            if mailbox_in is not None:
                act(
                    create_mailbox,
                    done="Mailbox connected. The next sync reads it.",
                    mailbox_in=mailbox_in,
                    actor=user,
                )
