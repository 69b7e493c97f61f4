"""The pages and the HTTP API come from one server: `streamlit run app.py`."""

import httpx

from tests.api.conftest import Served


def test_the_health_check_answers_without_a_token_on_the_pages_port(served: Served) -> None:
    response = httpx.get(f"{served.url}/api/v1/health", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_same_server_still_serves_the_pages_and_streamlits_own_routes(served: Served) -> None:
    page = httpx.get(f"{served.url}/", timeout=10)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(f"{served.url}/_stcore/health", timeout=10).text == "ok"


def test_headers_a_reverse_proxy_adds_change_nothing_for_the_api(served: Served) -> None:
    # What the README's nginx and Caddy examples send on: the public host and scheme.
    response = httpx.get(
        f"{served.url}/api/v1/health",
        headers={
            "Host": "rapport.example.org",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
            "Forwarded": "for=203.0.113.7;proto=https",
        },
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["status"] == "ok"
