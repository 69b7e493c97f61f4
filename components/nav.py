"""Every screen, who may open it, and the role-aware sidebar drawn from that table."""

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components.text import escape_markdown
from db.core.normalise import SEARCH_MAX
from db.models.auth import ROLE_LABELS, Role, User

ROOT = Path(__file__).resolve().parent.parent
EVERYONE: frozenset[Role] = frozenset(Role)
PEOPLE_ROLES: frozenset[Role] = frozenset({Role.admin, Role.manager, Role.sales, Role.privacy})
PIPELINE_ROLES: frozenset[Role] = frozenset({Role.admin, Role.manager, Role.sales})
PIPELINE_ADMIN_ROLES: frozenset[Role] = frozenset({Role.admin, Role.manager})
EXPERIENCE_ROLES: frozenset[Role] = frozenset({Role.admin, Role.manager, Role.sales})
OUTCOME_ROLES: frozenset[Role] = frozenset({Role.hr, Role.manager})


@dataclass(frozen=True)
class Screen:
    """A page of the app: its file, its label and the roles that may open it."""

    path: str
    label: str
    icon: str
    roles: frozenset[Role]
    section: str
    public: bool = False


# The one table of who may open what. The page guard test walks it for every role,
# and a meta-test fails when a file in pages/ is missing from it.
SCREENS: tuple[Screen, ...] = (
    Screen("app.py", "Home", ":material/home:", EVERYONE, "Rapport"),
    Screen("pages/account.py", "My account", ":material/person:", EVERYONE, "Rapport"),
    Screen("pages/search.py", "Search", ":material/search:", PEOPLE_ROLES, "Rapport"),
    Screen("pages/mailboxes.py", "Mailboxes", ":material/mail:", EVERYONE, "Rapport"),
    Screen(
        "pages/notifications.py", "Notifications", ":material/notifications:", EVERYONE, "Rapport"
    ),
    Screen("pages/contacts.py", "Contacts", ":material/contacts:", PEOPLE_ROLES, "Customers"),
    Screen(
        "pages/contact.py", "Contact 360", ":material/person_search:", PEOPLE_ROLES, "Customers"
    ),
    Screen(
        "pages/unknown_senders.py",
        "Unknown senders",
        ":material/contact_mail:",
        PIPELINE_ROLES,
        "Customers",
    ),
    Screen(
        "pages/organisations.py",
        "Organisations",
        ":material/domain:",
        PEOPLE_ROLES,
        "Customers",
    ),
    Screen(
        "pages/experience.py",
        "Customer experience",
        ":material/sentiment_satisfied:",
        EXPERIENCE_ROLES,
        "Customers",
    ),
    Screen("pages/tasks.py", "Overdue tasks", ":material/checklist:", PIPELINE_ROLES, "Pipeline"),
    Screen("pages/board.py", "Board", ":material/view_kanban:", PIPELINE_ROLES, "Pipeline"),
    Screen("pages/deals.py", "Deals", ":material/handshake:", PIPELINE_ROLES, "Pipeline"),
    Screen("pages/deal.py", "Deal", ":material/request_quote:", PIPELINE_ROLES, "Pipeline"),
    Screen("pages/forecast.py", "Forecast", ":material/insights:", PIPELINE_ROLES, "Pipeline"),
    Screen(
        "pages/pipeline_settings.py",
        "Pipeline settings",
        ":material/tune:",
        PIPELINE_ADMIN_ROLES,
        "Pipeline",
    ),
    Screen(
        "pages/import.py",
        "Import and export",
        ":material/upload_file:",
        frozenset({Role.admin, Role.manager, Role.hr}),
        "Data",
    ),
    Screen(
        "pages/duplicates.py",
        "Duplicates",
        ":material/join:",
        frozenset({Role.admin, Role.manager}),
        "Data",
    ),
    Screen(
        "pages/consent.py",
        "Consent",
        ":material/verified_user:",
        frozenset({Role.privacy, Role.admin, Role.manager, Role.sales}),
        "Privacy",
    ),
    Screen(
        "pages/consent_audit.py",
        "Consent audit",
        ":material/fact_check:",
        frozenset({Role.privacy, Role.admin}),
        "Privacy",
    ),
    Screen(
        "pages/privacy_requests.py",
        "Data-subject requests",
        ":material/assignment_ind:",
        frozenset({Role.privacy}),
        "Privacy",
    ),
    Screen(
        "pages/purposes.py",
        "Purposes and notices",
        ":material/description:",
        frozenset({Role.privacy}),
        "Privacy",
    ),
    Screen(
        "pages/admin.py",
        "Users and roles",
        ":material/group:",
        frozenset({Role.admin}),
        "Administration",
    ),
    Screen(
        "pages/audit_log.py",
        "Audit log",
        ":material/policy:",
        frozenset({Role.admin}),
        "Administration",
    ),
    Screen(
        "pages/api_tokens.py",
        "API tokens",
        ":material/key:",
        frozenset({Role.admin}),
        "Administration",
    ),
    Screen(
        "pages/webhooks.py",
        "Webhooks",
        ":material/webhook:",
        frozenset({Role.admin}),
        "Administration",
    ),
    Screen(
        "pages/intake_questions.py",
        "Intake questions",
        ":material/quiz:",
        frozenset({Role.admin}),
        "Administration",
    ),
    Screen(
        "pages/raise_concern.py",
        "Raise a concern",
        ":material/campaign:",
        EVERYONE,
        "Concerns",
        public=True,
    ),
    Screen(
        "pages/follow_up.py",
        "Follow up a concern",
        ":material/mark_chat_read:",
        EVERYONE,
        "Concerns",
        public=True,
    ),
    Screen(
        "pages/preferences.py",
        "Your preferences",
        ":material/tune:",
        EVERYONE,
        "Your data",
        public=True,
    ),
    Screen(
        "pages/my_data.py",
        "Your data and rights",
        ":material/folder_shared:",
        EVERYONE,
        "Your data",
        public=True,
    ),
    Screen(
        "pages/ask_us.py",
        "Ask us",
        ":material/contact_support:",
        EVERYONE,
        "Your data",
        public=True,
    ),
    Screen(
        "pages/case_queue.py",
        "Case queue",
        ":material/inbox:",
        frozenset({Role.reviewer}),
        "Cases",
    ),
    Screen(
        "pages/case.py",
        "Case",
        ":material/folder_open:",
        frozenset({Role.reviewer}),
        "Cases",
    ),
    Screen(
        "pages/case_insights.py",
        "Case insights",
        ":material/insights:",
        frozenset({Role.reviewer, Role.manager}),
        "Cases",
    ),
    Screen(
        "pages/employees.py", "Employees", ":material/badge:", frozenset({Role.hr}), "Engagement"
    ),
    Screen("pages/surveys.py", "Surveys", ":material/ballot:", frozenset({Role.hr}), "Engagement"),
    Screen(
        "pages/survey_translations.py",
        "Survey translations",
        ":material/translate:",
        frozenset({Role.hr}),
        "Engagement",
    ),
    Screen(
        "pages/survey_results.py",
        "Survey results",
        ":material/insights:",
        frozenset({Role.hr, Role.manager}),
        "Engagement",
    ),
    Screen(
        "pages/outcomes.py",
        "People and outcomes",
        ":material/scatter_plot:",
        OUTCOME_ROLES,
        "Engagement",
    ),
    Screen(
        "pages/answer_survey.py",
        "Answer a survey",
        ":material/how_to_vote:",
        EVERYONE,
        "Engagement",
        public=True,
    ),
)


def script_path(script: str) -> str:
    """A page's path as the table names it ("pages/deal.py"), from its `__file__`."""
    path = Path(script).resolve()
    return path.name if path.parent == ROOT else f"{path.parent.name}/{path.name}"


def screen_for(path: str) -> Screen:
    """The table row for a page file."""
    for screen in SCREENS:
        if screen.path == path:
            return screen
    raise KeyError(f"{path} is not in components.nav.SCREENS; add a row for it.")


def visible_screens(user: User | None) -> list[Screen]:
    """The screens this user may open, in sidebar order."""
    if user is None:
        return [s for s in SCREENS if s.public]
    return [s for s in SCREENS if s.public or user.has_any(s.roles)]


SEARCH_KEY = "rapport_search"


def _searched() -> None:
    """Enter in the sidebar's search box: open the search page on what was typed."""
    text = str(st.session_state.get(SEARCH_KEY) or "").strip()
    if text:
        st.session_state["rapport_search_go"] = text


def search_box() -> None:
    """The sidebar's search box, on every page: Enter opens the results."""
    st.text_input(
        "Search",
        key=SEARCH_KEY,
        max_chars=SEARCH_MAX,
        placeholder="Name, email, phone, reference",
        label_visibility="collapsed",
        on_change=_searched,
        icon=":material/search:",
    )
    go = st.session_state.pop("rapport_search_go", None)
    if go:
        st.switch_page("pages/search.py", query_params={"q": go})


def draw_sidebar(user: User | None, organisation: str) -> None:
    """Draw the links this user may follow (the built-in page list is hidden)."""
    with st.sidebar:
        st.subheader(escape_markdown(organisation))
        if user is not None:
            roles = ", ".join(ROLE_LABELS[r] for r in sorted(user.roles))
            st.caption(f"Signed in as **{escape_markdown(user.display_name)}** · {roles}")
        if user is None:
            st.page_link("app.py", label="Staff sign-in", icon=":material/login:")
        elif user.has_any(PEOPLE_ROLES):
            search_box()
        section = None
        for screen in visible_screens(user):
            if screen.section != section:
                section = screen.section
                if section != "Rapport":
                    st.markdown(f"**{escape_markdown(section)}**")
            st.page_link(screen.path, label=escape_markdown(screen.label), icon=screen.icon)
