"""The Home page's "my work" panels, one per role; each area adds its own."""

from collections.abc import Callable

import streamlit as st

from components.db import db_session
from components.home_cases import reviewer_panel
from components.home_consent import privacy_panel
from components.home_experience import customers_panel, team_panel
from components.home_notifications import notifications_panel
from components.home_pipeline import pipeline_panel
from components.home_self_service import questions_panel
from components.home_surveys import engagement_panel
from components.pipeline_ui import local_time
from components.text import escape_markdown
from components.ui import attempt
from db.auth.accounts import count_users, locked_users
from db.auth.audit import AuditFilter, ChainReport, list_events, verify_chain
from db.core.types import utcnow
from db.models.auth import ROLE_LABELS, Role, User


def render_home(user: User) -> None:
    """Draw each panel that one of the user's roles calls for."""
    st.caption(
        "Your roles: "
        + ", ".join(ROLE_LABELS[r] for r in sorted(user.roles))
        + ". The sidebar lists what you can open."
    )
    notifications_panel(user)
    covered: set[Role] = set()
    for roles, panel in PANELS:
        if user.has_any(roles):
            panel(user)
            covered |= roles & user.roles
    for role in sorted(user.roles - covered):
        st.subheader(ROLE_LABELS[role])
        st.info(f"Nothing needs you as {ROLE_LABELS[role].lower()} right now.")


def _admin_panel(user: User) -> None:
    st.subheader("Administration")

    def load() -> tuple[list[User], int, list[str]]:
        with db_session() as session:
            locked = locked_users(session=session, actor=user)
            total = count_users(session=session)
            events = list_events(session=session, actor=user, flt=AuditFilter(), limit=5)
        recent = [
            f"{local_time(e.occurred_at, '%d %b %H:%M')} · {e.actor_name} · {e.action}"
            for e in events
        ]
        return locked, total, recent

    loaded = attempt(load)
    if loaded is None:
        return
    locked, total, recent = loaded
    chain = attempt(_chain_status)
    first, second, third = st.columns(3)
    first.metric("Users", total)
    second.metric("Locked accounts", len(locked))
    if chain is not None:
        third.metric("Audit chain", "intact" if chain.ok else "BROKEN")
        if not chain.ok:
            st.error(
                f"The audit chain is broken at event {chain.first_bad_seq}: "
                f"{escape_markdown(chain.reason)}",
                icon=":material/gpp_bad:",
            )
            st.page_link(
                "pages/audit_log.py", label="Inspect the audit log", icon=":material/policy:"
            )
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


@st.cache_data(ttl=300, show_spinner="Checking the audit chain…")
def _chain_status() -> ChainReport:
    # Walking the whole chain takes a while on a big log; five minutes old is fresh enough.
    with db_session() as session:
        return verify_chain(session=session)


# Which panels each role sees on Home; an area adds its panel here.
PANELS: list[tuple[frozenset[Role], Callable[[User], None]]] = [
    (frozenset({Role.admin}), _admin_panel),
    (frozenset({Role.sales, Role.manager}), pipeline_panel),
    (frozenset({Role.sales, Role.manager}), customers_panel),
    (frozenset({Role.sales, Role.manager}), questions_panel),
    (frozenset({Role.manager}), team_panel),
    (frozenset({Role.reviewer}), reviewer_panel),
    (frozenset({Role.hr, Role.manager}), engagement_panel),
    (frozenset({Role.privacy}), privacy_panel),
]
