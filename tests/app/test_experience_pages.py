"""Home for every role, Customer experience and People and outcomes, on the seeded demo."""

from collections.abc import Callable, Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from db.demo.fixtures import demo_user_for
from db.models.auth import Role
from tests.app.conftest import RunPage, sign_in_token
from tests.conftest import ROOT

OpenPage = Callable[..., AppTest]


def links(at: AppTest) -> list[tuple[str, str, str]]:
    """(label, page name, query string) of the page links in the page body (not the sidebar)."""
    return [
        (link.label, link.proto.page, link.proto.query_string) for link in at.main.get("page_link")
    ]


# What each role's Home must show: a subheader of its panel and a link that resolves it.
HOME: dict[Role, tuple[str, str]] = {
    Role.admin: ("Administration", "audit_log"),
    Role.manager: ("Your team this quarter", "forecast"),
    Role.sales: ("Your customers today", "experience"),
    Role.reviewer: ("Cases", "case_queue"),
    Role.hr: ("Engagement", "survey_results"),
    Role.privacy: ("Privacy", "privacy_requests"),
}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_roles_home_shows_what_needs_them_with_links_to_resolve_it(
    run_page: RunPage, role: Role
) -> None:
    at = run_page("app.py", demo_user_for(role).username)
    assert not at.exception, [e.value for e in at.exception]
    heading, target = HOME[role]
    assert heading in [s.value for s in at.subheader]
    assert target in {page for _, page, _ in links(at)}


def test_sales_home_lists_unanswered_and_flagged_contacts_linking_to_their_timeline(
    run_page: RunPage,
) -> None:
    at = run_page("app.py", "sales")
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Unanswered inbound contacts (last 30 days)"]) > 0
    assert int(metrics["Flagged contacts (2+ negative moments in 90 days)"]) > 0
    contact_links = [q for _, page, q in links(at) if page == "contact"]
    assert contact_links and all(q.startswith("id=") for q in contact_links)


def test_manager_home_shows_the_team_forecast_against_its_target(run_page: RunPage) -> None:
    at = run_page("app.py", "manager")
    metrics = {m.label: m.value for m in at.metric}
    target = next(v for label, v in metrics.items() if label.startswith("Target "))
    assert target.startswith("£") and target != "not set"
    assert "Won + weighted open" in metrics
    assert "Your team's customers today" in [s.value for s in at.subheader]


def test_admin_home_reports_the_audit_chain(run_page: RunPage) -> None:
    at = run_page("app.py", "admin")
    assert {m.label: m.value for m in at.metric}["Audit chain"] == "intact"


def test_hr_home_shows_the_open_surveys_participation(run_page: RunPage) -> None:
    at = run_page("app.py", "hr")
    assert any("Quarterly pulse" in i.value and "invited" in i.value for i in at.info) or any(
        "answered" in i.value for i in at.info
    )


@pytest.mark.parametrize("username", ["sales", "manager", "admin"])
def test_customer_experience_shows_each_part_for_its_roles(
    run_page: RunPage, username: str
) -> None:
    at = run_page("pages/experience.py", username)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("Shown: median **business hours**" in c.value for c in at.caption)
    assert at.dataframe, "the responsiveness table"
    at.radio(key="cx_section").set_value("Calls not returned").run()
    waiting = [q for label, page, q in links(at) if "waiting" in label]
    assert waiting and all(q.startswith("id=") for q in waiting)
    for section in ("Follow-ups overdue", "Moments that matter", "Channel of choice"):
        at.radio(key="cx_section").set_value(section).run()
        assert not at.exception, (section, [e.value for e in at.exception])
        assert not at.error, (section, [e.value for e in at.error])
    assert any(m.label.startswith("Reached at least once") for m in at.metric)


def test_sales_see_only_their_own_contacts_waiting(run_page: RunPage) -> None:
    at = run_page("pages/experience.py", "sales")
    at.radio(key="cx_section").set_value("Calls not returned").run()
    owners = {label.rsplit("owner ", 1)[-1] for label, _, _ in links(at) if "waiting" in label}
    assert owners == {"Sam Sales"}


def test_switching_to_elapsed_hours_says_so(run_page: RunPage) -> None:
    at = run_page("pages/experience.py", "manager")
    at.radio(key="cx_basis").set_value("elapsed hours").run()
    assert not at.exception
    assert any("Shown: median **elapsed hours**" in c.value for c in at.caption)


@pytest.fixture
def open_page(app_database: str) -> Iterator[OpenPage]:
    st.cache_data.clear()

    def run(path: str, username: str, **params: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        at.switch_page(path)
        for key, value in params.items():
            at.query_params[key] = value
        at.session_state["rapport_session_token"] = sign_in_token(app_database, username)
        return at.run()

    yield run
    st.cache_data.clear()


def test_a_flagged_contact_is_flagged_on_their_timeline(
    run_page: RunPage, open_page: OpenPage
) -> None:
    home = run_page("app.py", "sales")
    flagged = [q for label, page, q in links(home) if "negative moments" in label]
    assert flagged
    at = open_page("pages/contact.py", "sales", id=flagged[0].removeprefix("id="))
    assert not at.exception
    assert any(w.value.startswith("Flagged: two or more negative moments") for w in at.warning)


@pytest.mark.parametrize("username", ["hr", "manager"])
def test_people_and_outcomes_shows_only_teams_passing_the_threshold(
    run_page: RunPage, username: str
) -> None:
    at = run_page("pages/outcomes.py", username)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    teams = set(at.dataframe[0].value["Team"])
    if username == "manager":
        assert teams == {"North"}
    else:
        assert "North" in teams and teams <= {"North", "South", "East"}
    assert any("weak evidence" in w.value for w in at.warning)
    # Three demo teams: the direction is given, and that too few teams stand behind it.
    assert any(
        "Too few teams to say" in c.value or "too few teams to say" in c.value for c in at.caption
    )
    assert not any("r \\= " in c.value for c in at.caption)
    # Every wave is read only when asked for, and shows the same teams only.
    assert len(at.dataframe) == 1
    at.toggle(key="po_trend").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    waves = at.dataframe[-1].value
    assert set(waves["Team"]) <= teams | {"North", "South", "East"} and len(set(waves["Wave"])) >= 1
    if username == "manager":
        assert set(waves["Team"]) == {"North"}


@pytest.mark.parametrize("username", ["admin", "sales", "reviewer", "privacy"])
def test_people_and_outcomes_is_refused_to_other_roles(run_page: RunPage, username: str) -> None:
    at = run_page("pages/outcomes.py", username)
    assert "don't have access" in " ".join(e.value for e in at.error)


@pytest.mark.parametrize("username", ["hr", "reviewer", "privacy"])
def test_customer_experience_is_refused_to_other_roles(run_page: RunPage, username: str) -> None:
    at = run_page("pages/experience.py", username)
    assert "don't have access" in " ".join(e.value for e in at.error)


def test_a_manager_sets_the_team_target_on_the_forecast_page(run_page: RunPage) -> None:
    at = run_page("pages/forecast.py", "manager")
    assert not at.exception
    at.number_input(key="tg_amount").set_value(123456.0)
    at.button(key="FormSubmitter:set_target-Save target").click().run()
    assert any("Target saved for North" in s.value for s in at.success), [e.value for e in at.error]
    assert "£123,456.00" in list(at.dataframe[-1].value["Target"])


def test_a_manager_with_one_team_sees_it_against_the_company_not_one_dot_scatters(
    run_page: RunPage,
) -> None:
    at = run_page("pages/outcomes.py", "manager")
    assert not at.exception, [e.value for e in at.exception]
    assert "North against the company" in [s.value for s in at.subheader]
    assert "Engagement and each outcome" not in [s.value for s in at.subheader]
    # A bar with the company's line for each outcome the team or the company has.
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(specs) == 6 and all('"tick"' in s for s in specs)
    assert any(c.value.startswith("Lower is better") for c in at.caption)
    assert any(c.value.startswith("Higher is better") for c in at.caption)
    table = at.dataframe[0].value
    assert list(table["Team"]) == ["North"]
    # The customer NPS source is wired: the demo's named customer survey fills it.
    assert table["customer NPS"].notna().all()


def test_hr_sees_a_scatter_per_outcome_with_customer_nps_and_few_names_on_each(
    run_page: RunPage,
) -> None:
    at = run_page("pages/outcomes.py", "hr")
    assert not at.exception, [e.value for e in at.exception]
    assert "Engagement and each outcome" in [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert table["customer NPS"].notna().any()
    headings = [m.value for m in at.markdown]
    assert "**Customer NPS**" in headings
    assert any("higher is better" in c.value for c in at.caption)
