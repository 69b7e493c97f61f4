"""The Home page's "my work" panels, one per role; each area adds its own."""

import streamlit as st

from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.audit import AuditFilter, list_events
from db.auth import count_users, locked_users
from db.consent_audit import recent_violations
from db.models.auth import ROLE_LABELS, Role, User
from db.models.consent import PrivacyRequest
from db.privacy_requests import overdue_requests
from db.types import utcnow


def render_home(user: User) -> None:
    """Draw a panel for each of the user's roles."""
    st.caption(
        "Your roles: "
        + ", ".join(ROLE_LABELS[r] for r in sorted(user.roles))
        + ". The sidebar lists what you can open."
    )
    if Role.admin in user.roles:
        _admin_panel(user)
    if Role.privacy in user.roles:
        _privacy_panel(user)
    others = sorted(user.roles - {Role.admin, Role.privacy})
    for role in others:
        st.subheader(ROLE_LABELS[role])
        st.info(f"Nothing needs you as {ROLE_LABELS[role].lower()} right now.")


def _admin_panel(user: User) -> None:
    st.subheader("Administration")

    def load() -> tuple[list[User], int, list[str]]:
        with db_session() as session:
            locked = locked_users(session=session, actor=user)
            total = count_users(session=session)
            events = list_events(session=session, actor=user, flt=AuditFilter(), limit=5)
        recent = [f"{e.occurred_at:%d %b %H:%M} · {e.actor_name} · {e.action}" for e in events]
        return locked, total, recent

    loaded = attempt(load)
    if loaded is None:
        return
    locked, total, recent = loaded
    first, second = st.columns(2)
    first.metric("Users", total)
    second.metric("Locked accounts", len(locked))
    now = utcnow()
    for account in locked:
        minutes = int(((account.locked_until or now) - now).total_seconds() // 60) + 1
        st.warning(
            f"{escape_markdown(account.username)} is locked for another {minutes} min.",
            icon=":material/lock:",
        )
    if locked:
        st.page_link("pages/admin.py", label="Unlock in Users and roles", icon=":material/group:")
    with st.expander("Latest audit events"):
        for line in recent:
            st.text(line)
        st.page_link("pages/audit_log.py", label="Open the audit log", icon=":material/policy:")


def _privacy_panel(user: User) -> None:
    st.subheader("Privacy")

    def load() -> tuple[list[PrivacyRequest], int, list[str]]:
        with db_session() as session:
            overdue = overdue_requests(session=session, actor=user)
            count, rows = recent_violations(session=session, actor=user, days=7)
        lines = [
            f"{r['sent_at'][:16].replace('T', ' ')} · {r['contact']} · {r['channel']} · "
            f"{r['reason']}" + (" · overridden" if r["override_reason"] else "")
            for r in rows
        ]
        return overdue, count, lines

    loaded = attempt(load)
    if loaded is None:
        return
    overdue, count, lines = loaded
    first, second = st.columns(2)
    first.metric("Overdue data-subject requests", len(overdue))
    second.metric("Marketing violations, last 7 days", count)
    for request in overdue[:10]:
        st.warning(
            f"Request #{request.id} ({request.kind}) was due {request.deadline:%d %b %Y}.",
            icon=":material/schedule:",
        )
    if overdue:
        st.page_link(
            "pages/privacy_requests.py",
            label="Open data-subject requests",
            icon=":material/assignment_ind:",
        )
    for line in lines:
        st.text(line)
    if count:
        st.page_link(
            "pages/consent_audit.py", label="Open the consent audit", icon=":material/fact_check:"
        )
