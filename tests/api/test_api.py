"""The HTTP API over real HTTP against `streamlit run app.py`, on SQLite and PostgreSQL:
tokens, every endpoint, every role's refusals, pages by cursor, limits and the audit."""

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.engine import make_engine
from db.integrations.api_tokens import create_token
from tests.api.conftest import Served


@pytest.fixture(scope="module")
def database(served: Served) -> Iterator[Engine]:
    """The server's own database, to look at what the API did (never to change rules)."""
    engine = make_engine(served.env["RAPPORT_DATABASE_URL"])
    yield engine
    engine.dispose()


def new_token(database: Engine, username: str) -> str:
    """A fresh token for `username`, made by the command manage.py runs (in this process:
    the command line itself is tested below)."""
    with Session(database, expire_on_commit=False) as session:
        made = create_token(
            session=session,
            name=f"{username}-{secrets.token_hex(4)}",
            username=username,
            actor=OPERATOR,
        )
    return made.secret


@pytest.fixture(scope="module")
def tokens(database: Engine) -> dict[str, str]:
    """One token per demo user."""
    users = ("admin", "manager", "sales", "sales2", "reviewer", "hr", "privacy")
    return {user: new_token(database, user) for user in users}


def api(served: Served, token: str | None) -> httpx.Client:
    return served.client(token)


def make_contact(served: Served, token: str, **fields: Any) -> dict[str, Any]:
    body = {"given_name": "Ana", "family_name": f"Silva {secrets.token_hex(3)}"} | fields
    with api(served, token) as client:
        response = client.post("/api/v1/contacts", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_error(response: httpx.Response, status: int, field: str | None = None) -> str:
    """The response is `{"error": sentence, "field": name}` with this status."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "field"}
    assert isinstance(payload["error"], str) and payload["error"].endswith((".", ")"))
    if field is not None:
        assert payload["field"] == field, payload
    return str(payload["error"])


# --- tokens -------------------------------------------------------------------------


def test_a_call_without_a_token_or_with_an_unknown_one_is_401(served: Served) -> None:
    with api(served, None) as client:
        response = client.get("/api/v1/contacts")
        assert_error(response, 401, "authorization")
        assert response.headers["www-authenticate"] == "Bearer"
    with api(served, "rpt_" + secrets.token_urlsafe(32)) as client:
        assert_error(client.get("/api/v1/contacts"), 401)
    with httpx.Client(base_url=served.url, headers={"Authorization": "Basic YTpi"}) as client:
        assert_error(client.get("/api/v1/contacts"), 401)


def test_the_token_is_printed_once_as_the_last_line_and_only_its_hash_is_stored(
    served: Served, database: Engine
) -> None:
    done = served.manage("api-token", "create", "printed-once", "--user", "sales", "--days", "7")
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("rpt_") and len(token) > 40
    with database.connect() as connection:
        row = connection.execute(
            text(
                "SELECT secret_hash, prefix, expires_at FROM api_token WHERE name = 'printed-once'"
            )
        ).one()
        dump = json.dumps(
            [list(r) for r in connection.execute(text("SELECT * FROM api_token"))], default=str
        )
    assert token not in dump and row.prefix == token[:12]
    listed = served.manage("api-token", "list").stdout
    assert "printed-once" in listed and token not in listed
    with api(served, token) as client:
        assert client.get("/api/v1/contacts?limit=1").status_code == 200


def test_a_revoked_token_is_refused_from_the_next_call_on(served: Served, database: Engine) -> None:
    name = f"revoked-{secrets.token_hex(3)}"
    done = served.manage("api-token", "create", name, "--user", "sales")
    token = done.stdout.strip().splitlines()[-1]
    with api(served, token) as client:
        assert client.get("/api/v1/deals?limit=1").status_code == 200
        served.manage("api-token", "revoke", name)
        message = assert_error(client.get("/api/v1/deals?limit=1"), 401)
    assert "revoked" in message
    assert served.manage("api-token", "revoke", name, check=False).returncode == 1
    with database.connect() as connection:
        refused = connection.execute(
            text(
                "SELECT actor_name, details FROM audit_event WHERE action = 'api.refused' "
                "AND details LIKE :n"
            ),
            {"n": f'%"token":"{name}"%'},
        ).all()
    assert [(r.actor_name, json.loads(r.details)["why"]) for r in refused] == [("sales", "revoked")]


def test_an_expired_token_and_a_deactivated_users_token_are_refused(
    served: Served, database: Engine
) -> None:
    name = f"expiring-{secrets.token_hex(3)}"
    token = served.manage("api-token", "create", name, "--user", "sales", "--days", "1")
    secret = token.stdout.strip().splitlines()[-1]
    with database.begin() as connection:
        connection.execute(
            text("UPDATE api_token SET expires_at = :t WHERE name = :n"),
            {"t": datetime.now(UTC) - timedelta(minutes=1), "n": name},
        )
    with api(served, secret) as client:
        assert "expired" in assert_error(client.get("/api/v1/contacts"), 401)
    refused = served.manage("api-token", "create", "for-nobody", "--user", "nobody", check=False)
    assert refused.returncode == 1 and "no user" in refused.stderr


def test_every_call_is_audited_with_the_tokens_name(served: Served, database: Engine) -> None:
    name = f"audited-{secrets.token_hex(3)}"
    secret = served.manage("api-token", "create", name, "--user", "manager").stdout.split()[-1]
    with api(served, secret) as client:
        assert client.get("/api/v1/deals?limit=2").status_code == 200
        assert client.get("/api/v1/contacts/999999").status_code == 404
    with database.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT actor_name, details FROM audit_event WHERE action = 'api.call' "
                "AND details LIKE :n ORDER BY seq"
            ),
            {"n": f'%"token":"{name}"%'},
        ).all()
    details = [json.loads(r.details) for r in rows]
    assert [r.actor_name for r in rows] == ["manager", "manager"]
    assert [(d["method"], d["route"], d["status"]) for d in details] == [
        ("GET", "/api/v1/deals", 200),
        ("GET", "/api/v1/contacts/{id:int}", 404),
    ]


# --- contacts -----------------------------------------------------------------------


def test_contacts_come_in_cursor_pages_that_neither_repeat_nor_skip(
    served: Served, tokens: dict[str, str]
) -> None:
    seen: list[int] = []
    with api(served, tokens["admin"]) as client:
        cursor: str | None = None
        pages = 0
        while True:
            params = {"limit": "37"} | ({"cursor": cursor} if cursor else {})
            response = client.get("/api/v1/contacts", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert set(page) == {"items", "next"} and len(page["items"]) <= 37
            seen += [item["id"] for item in page["items"]]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
            if pages == 2:
                make_contact(served, tokens["admin"])  # added mid-walk: shows at the end
        assert_error(
            client.get("/api/v1/contacts", params={"cursor": "not-a-cursor"}), 422, "cursor"
        )
        assert_error(client.get("/api/v1/contacts", params={"limit": "0"}), 422, "limit")
    assert pages > 3
    assert len(seen) == len(set(seen)) and seen == sorted(seen)


def test_contacts_are_found_by_either_email_by_phone_in_any_format_and_by_reference(
    served: Served, tokens: dict[str, str]
) -> None:
    tag = secrets.token_hex(3)
    made = make_contact(
        served,
        tokens["sales"],
        email=f"Ana.{tag}@Example.org",
        email2=f"ana.home.{tag}@example.org",
        phone="+44 20 7946 0123",
        external_ref=f"HS-{tag}",
    )
    with api(served, tokens["sales"]) as client:
        for params in (
            {"email": f"ana.{tag}@example.org"},
            {"email": f"ANA.HOME.{tag}@example.org"},
            {"phone": "020 7946 0123", "email": f"ana.{tag}@example.org"},
            {"ref": f"HS-{tag}"},
        ):
            items = client.get("/api/v1/contacts", params=params).json()["items"]
            assert [c["id"] for c in items] == [made["id"]], params
        assert client.get("/api/v1/contacts", params={"ref": "HS-none"}).json() == {
            "items": [],
            "next": None,
        }
        assert_error(client.get("/api/v1/contacts", params={"phone": "not a number"}), 422, "phone")
    # Another team's seller does not find it at all.
    with api(served, tokens["sales2"]) as client:
        assert client.get("/api/v1/contacts", params={"ref": f"HS-{tag}"}).json()["items"] == []


def test_a_contact_is_created_and_updated_with_the_pages_validation_and_locking(
    served: Served, tokens: dict[str, str]
) -> None:
    with api(served, tokens["sales"]) as client:
        assert_error(
            client.post("/api/v1/contacts", json={"email": "x@example.org"}), 422, "family_name"
        )
        assert_error(
            client.post("/api/v1/contacts", json={"family_name": "A", "email": "nope"}),
            422,
            "email",
        )
        assert_error(
            client.post("/api/v1/contacts", json={"family_name": "A", "shoe": 9}), 422, "shoe"
        )
        assert_error(client.post("/api/v1/contacts", json=["not", "an", "object"]), 422, "body")
        bad = client.post(
            "/api/v1/contacts", content=b"{nope", headers={"Content-Type": "application/json"}
        )
        assert_error(bad, 400, "body")
        created = client.post(
            "/api/v1/contacts", json={"given_name": "Bo", "family_name": "Lind", "tags": ["VIP"]}
        )
        assert created.status_code == 201
        contact = created.json()
        assert contact["version"] == 1 and contact["tags"] == ["vip"]
        url = f"/api/v1/contacts/{contact['id']}"
        assert_error(client.patch(url, json={"job_title": "CTO"}), 422, "version")
        changed = client.patch(url, json={"job_title": "CTO", "version": 1})
        assert changed.status_code == 200 and changed.json()["version"] == 2
        stale = assert_error(client.patch(url, json={"job_title": "CEO", "version": 1}), 409)
        assert "Sam Sales" in stale
        assert client.get(url).json()["job_title"] == "CTO"


def test_the_roles_refusals_on_contacts(served: Served, tokens: dict[str, str]) -> None:
    mine = make_contact(served, tokens["sales"])
    url = f"/api/v1/contacts/{mine['id']}"
    # Another team's seller: as if it did not exist.
    with api(served, tokens["sales2"]) as client:
        assert_error(client.get(url), 404)
        assert_error(client.patch(url, json={"job_title": "x", "version": 1}), 404)
        assert_error(client.get(f"{url}/interactions"), 404)
    # A team-mate of the same rank reads it but may not change it: 404 too.
    teammate = make_contact(served, tokens["manager"])
    with api(served, tokens["sales"]) as client:
        assert client.get(f"/api/v1/contacts/{teammate['id']}").status_code == 200
        assert_error(
            client.patch(f"/api/v1/contacts/{teammate['id']}", json={"notes": "x", "version": 1}),
            404,
        )
    # The team's manager changes it; a privacy officer reads but does not change.
    with api(served, tokens["manager"]) as client:
        assert client.patch(url, json={"notes": "seen", "version": 1}).status_code == 200
    with api(served, tokens["privacy"]) as client:
        assert client.get(url).status_code == 200
        assert_error(client.post("/api/v1/contacts", json={"family_name": "P"}), 403)
    # Roles without access to contacts at all.
    for role in ("hr", "reviewer"):
        with api(served, tokens[role]) as client:
            assert_error(client.get("/api/v1/contacts"), 403)
            assert_error(client.get(url), 404)
            assert_error(client.post("/api/v1/contacts", json={"family_name": "X"}), 403)


# --- interactions -------------------------------------------------------------------


def test_a_pushed_call_lands_on_the_timeline_newest_first_by_cursor(
    served: Served, tokens: dict[str, str]
) -> None:
    contact = make_contact(served, tokens["sales"])
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    with api(served, tokens["sales"]) as client:
        made = []
        for hour in range(5):
            response = client.post(
                "/api/v1/interactions",
                json={
                    "contact_id": contact["id"],
                    "channel": "phone",
                    "direction": "inbound",
                    "subject": f"Call {hour}",
                    "occurred_at": (base + timedelta(hours=hour)).isoformat(),
                },
            )
            assert response.status_code == 201, response.text
            body = response.json()
            assert body["purpose"] == "service" and body["subject"] == f"Call {hour}"
            made.append(body["id"])
        subjects: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = client.get(f"/api/v1/contacts/{contact['id']}/interactions", params=params)
            assert page.status_code == 200, page.text
            subjects += [i["subject"] for i in page.json()["items"]]
            cursor = page.json()["next"]
            if cursor is None:
                break
    assert subjects == [f"Call {h}" for h in reversed(range(5))]


def test_interactions_are_validated_like_the_page(served: Served, tokens: dict[str, str]) -> None:
    contact = make_contact(served, tokens["sales"])
    good = {
        "contact_id": contact["id"],
        "channel": "chat",
        "direction": "inbound",
        "subject": "Hello",
        "occurred_at": "2026-11-30T10:00:00+00:00",
    }
    with api(served, tokens["sales"]) as client:
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert_error(
            client.post("/api/v1/interactions", json=good | {"occurred_at": future}),
            422,
            "occurred_at",
        )
        assert_error(
            client.post("/api/v1/interactions", json=good | {"occurred_at": "2026-11-30T10:00:00"}),
            422,
            "occurred_at",
        )
        missing = {k: v for k, v in good.items() if k != "occurred_at"}
        assert_error(client.post("/api/v1/interactions", json=missing), 422, "occurred_at")
        assert_error(
            client.post("/api/v1/interactions", json=good | {"channel": "pigeon"}), 422, "channel"
        )
        assert_error(client.post("/api/v1/interactions", json=good | {"contact_id": 10**8}), 404)
        assert_error(
            client.post("/api/v1/interactions", json=good | {"case_id": 1}), 422, "case_id"
        )
    with api(served, tokens["sales2"]) as client:
        assert_error(client.post("/api/v1/interactions", json=good), 404)
    with api(served, tokens["hr"]) as client:
        assert_error(client.post("/api/v1/interactions", json=good), 404)


def test_marketing_without_consent_is_refused_with_409_and_the_reason(
    served: Served, tokens: dict[str, str]
) -> None:
    contact = make_contact(served, tokens["sales"], email=f"m{secrets.token_hex(3)}@example.org")
    message = {
        "contact_id": contact["id"],
        "channel": "email",
        "direction": "outbound",
        "purpose": "marketing",
        "subject": "Winter offer",
        "occurred_at": "2026-12-01T10:00:00Z",
    }
    with api(served, tokens["sales"]) as client:
        reason = assert_error(client.post("/api/v1/interactions", json=message), 409)
        assert "never agreed to marketing" in reason
        timeline = client.get(f"/api/v1/contacts/{contact['id']}/interactions").json()
        assert timeline["items"] == []
        overridden = client.post(
            "/api/v1/interactions", json=message | {"override_reason": "Contract notice"}
        )
        assert overridden.status_code == 201


# --- consent ------------------------------------------------------------------------


def test_consent_is_recorded_with_evidence_and_the_may_i_send_answer_follows_it(
    served: Served, tokens: dict[str, str]
) -> None:
    contact = make_contact(served, tokens["sales"])
    with api(served, tokens["sales"]) as client:
        purposes = {p["code"]: p for p in client.get("/api/v1/consent/purposes").json()["items"]}
        marketing = purposes["marketing"]

        def ask(channel: str = "email") -> dict[str, Any]:
            response = client.get(
                "/api/v1/consent/check",
                params={"contact_id": contact["id"], "purpose": "marketing", "channel": channel},
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        before = ask()
        assert before["allowed"] is False and before["state"] == "no record"
        event = {
            "contact_id": contact["id"],
            "purpose": "marketing",
            "channel": "email",
            "action": "grant",
            "notice_id": marketing["notice_id"],
            "source": "web_form",
            "evidence": "Newsletter form",
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        }
        # A grant is the privacy office's to record (or the person's own): a salesperson's
        # token is refused, the web form's integration records it with the privacy token.
        refused = client.post("/api/v1/consent/events", json=event)
        assert refused.status_code in (403, 404), refused.text
        assert "privacy officer" in refused.json()["error"]
    with api(served, tokens["privacy"]) as office:
        assert_error(
            office.post("/api/v1/consent/events", json=event | {"notice_id": None}),
            422,
            "notice_id",
        )
        recorded = office.post("/api/v1/consent/events", json=event)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["evidence"] == "Newsletter form"
    with api(served, tokens["sales"]) as client:
        assert ask()["allowed"] is True and ask("sms")["allowed"] is False
        sent = client.post(
            "/api/v1/interactions",
            json={
                "contact_id": contact["id"],
                "channel": "email",
                "direction": "outbound",
                "purpose": "marketing",
                "subject": "Now allowed",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        )
        assert sent.status_code == 201, sent.text
        withdrawn = event | {
            "action": "withdraw",
            "notice_id": None,
            "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        }
        assert client.post("/api/v1/consent/events", json=withdrawn).status_code == 201
        after = ask()
        assert after["allowed"] is False and after["state"] == "withdrawn"
        assert_error(
            client.get(
                "/api/v1/consent/check",
                params={"contact_id": contact["id"], "purpose": "nope", "channel": "email"},
            ),
            422,
            "purpose",
        )
        assert_error(
            client.get(
                "/api/v1/consent/check",
                params={"contact_id": contact["id"], "purpose": "marketing", "channel": "fax"},
            ),
            422,
            "channel",
        )
    with api(served, tokens["sales2"]) as client:
        assert_error(client.post("/api/v1/consent/events", json=event), 404)
        assert_error(
            client.get(
                "/api/v1/consent/check",
                params={"contact_id": contact["id"], "purpose": "marketing", "channel": "email"},
            ),
            404,
        )
    with api(served, tokens["hr"]) as client:
        assert_error(
            client.get(
                "/api/v1/consent/check",
                params={"contact_id": contact["id"], "purpose": "marketing", "channel": "email"},
            ),
            404,
        )


# --- deals --------------------------------------------------------------------------


def test_a_deal_is_created_moved_won_and_another_lost_with_a_reason(
    served: Served, tokens: dict[str, str]
) -> None:
    with api(served, tokens["sales"]) as client:
        setup = client.get("/api/v1/pipelines").json()
        pipeline = setup["items"][0]
        stages = [s["id"] for s in pipeline["stages"]]
        reason = setup["lost_reasons"][0]["id"]
        created = client.post(
            "/api/v1/deals",
            json={"title": "Renewal", "pipeline_id": pipeline["id"], "amount": "1200.50"},
        )
        assert created.status_code == 201, created.text
        deal = created.json()
        assert deal["stage_id"] == stages[0] and deal["amount"] == "1200.50"
        url = f"/api/v1/deals/{deal['id']}"
        moved = client.post(f"{url}/move", json={"stage_id": stages[2], "version": 1})
        assert moved.status_code == 200 and moved.json()["stage_id"] == stages[2]
        assert_error(client.post(f"{url}/move", json={"stage_id": stages[1], "version": 1}), 409)
        assert_error(client.post(f"{url}/win", json={"version": 2}), 422, "amount")
        won = client.post(f"{url}/win", json={"amount": 1300, "version": 2})
        assert won.status_code == 200 and won.json()["status"] == "won"
        assert client.get(url).json()["amount"] == "1300.00"
        other = client.post("/api/v1/deals", json={"title": "Pilot", "pipeline_id": pipeline["id"]})
        lost_url = f"/api/v1/deals/{other.json()['id']}/lose"
        assert_error(client.post(lost_url, json={"version": 1}), 422, "lost_reason_id")
        lost = client.post(
            lost_url, json={"lost_reason_id": reason, "note": "Budget", "version": 1}
        )
        assert lost.status_code == 200
        assert lost.json()["status"] == "lost" and lost.json()["lost_note"] == "Budget"
        assert_error(
            client.post("/api/v1/deals", json={"title": "No pipeline"}), 422, "pipeline_id"
        )
        listed = client.get("/api/v1/deals", params={"status": "won", "limit": "200"}).json()
        assert deal["id"] in {d["id"] for d in listed["items"]} or listed["next"] is not None
        assert_error(client.get("/api/v1/deals", params={"status": "maybe"}), 422, "status")
    # Another team's seller cannot see it; HR and reviewers have no deals at all.
    with api(served, tokens["sales2"]) as client:
        assert_error(client.get(url), 404)
        assert_error(client.post(f"{url}/move", json={"stage_id": stages[1], "version": 3}), 404)
        listed_ids = set()
        cursor = None
        while True:
            page = client.get(
                "/api/v1/deals", params={"limit": "200"} | ({"cursor": cursor} if cursor else {})
            ).json()
            listed_ids |= {d["id"] for d in page["items"]}
            cursor = page["next"]
            if cursor is None:
                break
        assert deal["id"] not in listed_ids and listed_ids
    for role in ("hr", "reviewer"):
        with api(served, tokens[role]) as client:
            assert_error(client.get("/api/v1/deals"), 403)
            assert_error(client.post("/api/v1/deals", json={"title": "x", "pipeline_id": 1}), 403)
            assert_error(client.get(url), 404)
    with api(served, tokens["privacy"]) as client:
        assert client.get(url).status_code == 200
        assert_error(client.post(f"{url}/move", json={"stage_id": stages[1], "version": 3}), 404)


# --- limits and the rest ------------------------------------------------------------


def test_too_large_a_body_is_413_before_it_is_read(served: Served, tokens: dict[str, str]) -> None:
    huge = json.dumps({"family_name": "x" * (300 * 1024)})
    with api(served, tokens["sales"]) as client:
        assert_error(
            client.post(
                "/api/v1/contacts", content=huge, headers={"Content-Type": "application/json"}
            ),
            413,
            "body",
        )

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"family_name": "'
            for _ in range(300):
                yield b"x" * 1024
            yield b'"}'

        assert_error(
            client.post(
                "/api/v1/contacts", content=chunks(), headers={"Content-Type": "application/json"}
            ),
            413,
            "body",
        )


def test_a_token_past_its_calls_per_minute_gets_429_with_retry_after(
    served: Served, database: Engine
) -> None:
    token = new_token(database, "sales")
    statuses = []
    with api(served, token) as client:
        for _ in range(245):
            response = client.get("/api/v1/pipelines")
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
                assert_error(response, 429)
                break
    # The default allowance is 120 a minute; a minute boundary may reset it once.
    assert statuses[-1] == 429 and 120 <= statuses.index(429) <= 240


def test_an_unknown_path_or_method_under_the_api_answers_json(served: Served) -> None:
    with api(served, None) as client:
        assert_error(client.get("/api/v1/nothing-here"), 404)
        wrong = client.delete("/api/v1/contacts")
        assert_error(wrong, 405)
        assert wrong.headers["allow"] == "GET, POST"
