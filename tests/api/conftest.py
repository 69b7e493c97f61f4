"""The real server (`streamlit run app.py`, as `make run` starts it) for the HTTP API's
tests, once per database backend, with the demo world seeded into it."""

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from bench.serve import ServerDidNotStart, start_app, stop_app
from db.core.engine import make_engine
from tests.conftest import (
    POSTGRES_URL,
    ROOT,
    backends,
    drop_postgres_schema,
    postgres_schema_engine,
)


@dataclass
class Served:
    """A running server: its address, environment and database."""

    url: str
    env: dict[str, str]
    backend: str
    log: Path

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a manage.py command against this server's database."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
        )

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client for this server, sending `token` as a bearer token if given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the app on a free loopback port; the test fails with its log if it does not."""
    try:
        return start_app(env, log)
    except ServerDidNotStart as err:
        pytest.fail(str(err))


stop_server = stop_app


def database_url(backend: str, folder: Path) -> tuple[str, str | None]:
    """A fresh database for the server; on PostgreSQL its own schema (returned too)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'rapport.db'}", None
    schema = f"rapport_api_{secrets.token_hex(6)}"
    postgres_schema_engine(schema).dispose()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


@pytest.fixture(scope="session", params=backends())
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The app and its API on a free port, over a migrated database with the demo world."""
    backend = request.param
    folder = tmp_path_factory.mktemp(f"api-{backend}")
    url, schema = database_url(backend, folder)
    env = dict(os.environ)
    env["RAPPORT_DATABASE_URL"] = url
    for command in (["migrate"], ["seed", "--if-empty"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    log = folder / "server.log"
    process, address = start_server(env, log)
    yield Served(url=address, env=env, backend=backend, log=log)
    stop_server(process)
    if schema:
        drop_postgres_schema(make_engine(POSTGRES_URL), schema)
