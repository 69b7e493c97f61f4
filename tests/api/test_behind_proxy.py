"""The README's nginx settings still hold with the API: a real nginx on loopback, set up
as the README's example (its proxy headers, websocket upgrade, body limit and security
headers, without TLS), passes the API through to the app's server unchanged."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from bench.serve import free_port
from db.auth.actor import OPERATOR
from db.core.engine import make_engine
from db.integrations.api_tokens import create_token
from tests.api.conftest import Served
from tests.conftest import IN_CI

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
daemon off;
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream rapport {{
        ip_hash;
        server 127.0.0.1:{upstream};
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name rapport.example.org;
        add_header X-Content-Type-Options nosniff always;
        add_header Referrer-Policy same-origin always;
        client_max_body_size 50m;
        location / {{
            proxy_pass http://rapport;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_read_timeout 86400;
            proxy_buffering off;
        }}
    }}
}}
"""


@pytest.fixture(scope="module")
def proxy(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx in front of the served app, on a free loopback port."""
    if not Path(NGINX).exists():
        message = "nginx is missing; install Debian's nginx package."
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    upstream = served.url.rsplit(":", 1)[1]
    conf = folder / "nginx.conf"
    conf.write_text(CONFIG.format(folder=folder, port=port, upstream=upstream))
    process = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/v1/health", timeout=2)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("nginx did not start:\n" + (folder / "error.log").read_text())
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_the_api_answers_through_the_readmes_nginx_settings(served: Served, proxy: str) -> None:
    health = httpx.get(f"{proxy}/api/v1/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["x-content-type-options"] == "nosniff"
    engine = make_engine(served.env["RAPPORT_DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as session:
        token = create_token(
            session=session, name="through nginx", username="sales", actor=OPERATOR
        ).secret
    engine.dispose()
    headers = {"Authorization": f"Bearer {token}", "Host": "rapport.example.org"}
    with httpx.Client(base_url=f"{proxy}/api/v1", headers=headers, timeout=30) as client:
        created = client.post("/contacts", json={"family_name": "Proxied"})
        assert created.status_code == 201, created.text
        assert client.get(f"/contacts/{created.json()['id']}").json()["family_name"] == "Proxied"
        # The API's own limit answers (the proxy's 50 MB is far above it), in JSON.
        big = client.post(
            "/contacts",
            content=b'{"family_name": "' + b"x" * (300 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert big.status_code == 413 and big.json()["field"] == "body"
        assert httpx.get(f"{proxy}/api/v1/contacts", timeout=10).status_code == 401
    # The pages still come through the same proxy.
    assert httpx.get(f"{proxy}/_stcore/health", timeout=10).text == "ok"
    assert "<html" in httpx.get(f"{proxy}/", timeout=10).text.lower()
