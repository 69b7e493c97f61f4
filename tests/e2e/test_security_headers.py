"""The README's Content-Security-Policy works with Streamlit: pages, charts, no violations.

The proxy is simulated by adding the documented header to every HTML document the
browser loads; the browser then enforces it on the real app.
"""

import re
from typing import Any

from db.demo.fixtures import DEMO_PASSWORD
from tests.conftest import ROOT
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import new_page, sign_in, wait_for_session_cookie

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def documented_policy(server: str) -> str:
    """The CSP of the README's nginx example, pointed at this test server."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    policy = re.search(r'add_header Content-Security-Policy "([^"]+)"', readme)
    assert policy, "the README's proxy example should set a Content-Security-Policy"
    host = server.split("://", 1)[1]
    return policy.group(1).replace("wss://rapport.example.org", f"ws://{host}")


def test_the_documented_csp_lets_streamlit_sign_in_and_draw_charts_without_violations(
    browser: Any, server: str, steps: Steps
) -> None:
    policy = documented_policy(server)
    # Only Rapport itself may frame Rapport (its cookie component is a same-origin frame).
    assert "frame-ancestors 'self'" in policy and "'unsafe-eval'" not in policy
    page = new_page(browser)
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    def with_policy(route: Any) -> None:
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "content-security-policy": policy},
        )

    page.route("**/*", with_policy)
    try:
        sign_in(page, server, "manager", DEMO_PASSWORD)
    except Exception as err:
        raise AssertionError(f"the app did not start under the policy: {console[:10]}") from err
    page.get_by_role("heading", name=re.compile("Good to see you")).first.wait_for()
    wait_for_session_cookie(page)
    page.goto(f"{server}/forecast")
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.locator(
        "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
    ).first.wait_for()
    steps.shot(page, "forecast-under-csp")
    violations = page.evaluate("window.__cspViolations")
    refused = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert violations == [] and refused == [], (violations, refused)
    page.context.close()
