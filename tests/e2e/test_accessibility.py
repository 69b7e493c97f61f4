"""axe-core in Chromium: every public page, at a phone's width and a desktop's, has no
serious or critical accessibility violation.

axe-core is the npm package of package.json (`npm ci`, run by .ci/run); its axe.min.js is
injected from the project into the page under test, so the page fetches nothing from
anywhere else. Screenshots of each page at both widths go to test-artifacts/accessibility/.
"""

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import col, select

from db.auth.actor import OPERATOR
from db.consent.preferences import issue_link
from db.core.engine import make_engine, session_scope
from db.models.consent import ConsentAction, ConsentEvent
from db.models.people import Contact
from db.models.surveys import Survey, SurveyStatus
from db.surveys.distribution import issue_links
from tests.conftest import IN_CI, ROOT
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_sign_in_and_admin import wait_until_idle

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
BLOCKING = {"serious", "critical"}


def _require_axe() -> None:
    if AXE.exists():
        return
    message = f"{AXE} is missing; run `npm ci` (see the README)."
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def links(server: str, server_env: dict[str, str]) -> dict[str, str]:
    """A personal preference link and a survey link, issued on the test server's database."""
    engine = make_engine(server_env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            granted = session.exec(
                select(ConsentEvent.contact_id)
                .join(Contact, col(Contact.id) == col(ConsentEvent.contact_id))
                .where(
                    col(ConsentEvent.action) == ConsentAction.grant,
                    col(Contact.erased_at).is_(None),
                    col(Contact.merged_into_id).is_(None),
                )
                .limit(1)
            ).one()
            preference = issue_link(session=session, contact_id=granted, actor=OPERATOR)
            survey = session.exec(
                select(Survey).where(col(Survey.status) == SurveyStatus.open).limit(1)
            ).first()
            survey_token = ""
            if survey is not None:
                issued = issue_links(session=session, survey_id=survey.id or 0, actor=OPERATOR)
                if issued:
                    survey_token = parse_qs(urlparse(issued[0].url).query)["token"][0]
    finally:
        engine.dispose()
    return {"preferences": preference.token, "survey": survey_token}


PAGES = [
    ("raise_concern", "Raise a concern", None),
    ("follow_up", "Follow up a concern", None),
    ("answer_survey", None, "survey"),
    ("preferences", "Your preferences", "preferences"),
    ("my_data", "Your data and your rights", None),
    ("ask_us", "Ask us", None),
]


def _violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))})); }"
    )
    assert isinstance(result, list)
    return result


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(("path", "heading", "token"), PAGES, ids=[p[0] for p in PAGES])
def test_every_public_page_has_no_serious_or_critical_accessibility_violation(
    browser: Any,
    server: str,
    links: dict[str, str],
    path: str,
    heading: str | None,
    token: str | None,
    width: str,
) -> None:
    _require_axe()
    viewport_width, viewport_height = WIDTHS[width]
    context = browser.new_context(viewport={"width": viewport_width, "height": viewport_height})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.set_default_timeout(30_000)
    query = f"?token={links[token]}" if token and links.get(token) else ""
    page.goto(f"{server}/{path}{query}")
    page.locator("h1").first.wait_for()
    if heading:
        page.get_by_role("heading", name=heading).first.wait_for()
    wait_until_idle(page)
    folder = Path(ARTIFACTS) / "accessibility"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{path}-{width}.png"), full_page=True)
    found = _violations(page)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in blocking
    )
    # No third-party requests: everything the page loaded came from the server itself.
    assert all(url.startswith(server) or url.startswith("data:") for url in requested), [
        url for url in requested if not url.startswith(server)
    ]
