"""The Webhooks and Notifications pages, and Home's notifications, through the UI."""

from sqlmodel import select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.intake import submit_concern
from db.core.engine import make_engine, session_scope
from db.core.events import record_event
from db.integrations import notifications, webhooks, worker
from db.models.cases import ConcernCreate
from db.models.integrations_events import DeliveryStatus, WebhookDelivery
from tests.app.conftest import RunPage

MARKER = "the-concern-text-3f7d"


def test_an_admin_registers_a_webhook_and_sees_its_secret_once(run_page: RunPage) -> None:
    at = run_page("pages/webhooks.py", "admin")
    assert not at.exception
    at.text_input(key="wh_url").input("https://hooks.example.org/rapport")
    at.text_input(key="wh_description").input("The data warehouse")
    at.multiselect(key="wh_kinds").select("deal.moved").select("deal.won")
    at.button(key="FormSubmitter:register_webhook-Register").click()
    at.run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Registered endpoint #") for s in at.success)
    assert at.text_input(key="wh_url").value == ""  # an empty form for the next one
    (secret,) = [c.value for c in at.code]
    assert secret.startswith("whsec_")
    assert "https://hooks.example.org/rapport" in at.dataframe[0].value["URL"].tolist()
    at.run()  # any later run: the secret is gone from the screen
    assert not at.code


def test_a_bad_webhook_url_is_refused_naming_the_field(run_page: RunPage) -> None:
    at = run_page("pages/webhooks.py", "admin")
    at.text_input(key="wh_url").input("hooks.example.org")
    at.multiselect(key="wh_kinds").select("deal.lost")
    at.button(key="FormSubmitter:register_webhook-Register").click()
    at.run()
    assert any(e.value.startswith("URL:") for e in at.error)
    assert at.text_input(key="wh_url").value == "hooks.example.org"


def test_deliveries_show_status_attempts_and_error_and_a_failed_one_is_replayed(
    run_page: RunPage, app_database: str
) -> None:
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            webhooks.register_endpoint(
                session=session,
                actor=OPERATOR,
                url="http://127.0.0.1:9/nobody-listens",
                kinds=["contact.created"],
            )
            record_event(session=session, kind="contact.created", entity="contact", entity_id=1)
            session.commit()
        jobs = [worker.Job("events", worker.dispatch_events)]
        worker.run_once(engine=engine, jobs=jobs)
        with session_scope(engine) as session:
            delivery = session.exec(
                select(WebhookDelivery).order_by(WebhookDelivery.id.desc())  # type: ignore[union-attr]
            ).first()
            assert delivery is not None
            delivery.status = DeliveryStatus.failed
            delivery.attempts = webhooks.MAX_ATTEMPTS
            delivery.last_error = "The receiver answered HTTP 503."
            session.add(delivery)
            session.commit()
            delivery_id = delivery.id
    finally:
        engine.dispose()
    at = run_page("pages/webhooks.py", "admin")
    assert not at.exception
    table = at.dataframe[-1].value
    row = table[table["Delivery"] == delivery_id].iloc[0]
    assert (row["Status"], row["Attempts"]) == ("failed", webhooks.MAX_ATTEMPTS)
    assert row["Last error"] == "The receiver answered HTTP 503."
    assert any("gave up" in w.value for w in at.warning)
    at.selectbox[-1].select(delivery_id)
    at.button(key="FormSubmitter:replay_webhook-Replay").click()
    at.run()
    assert any(f"Delivery #{delivery_id} queued again" in s.value for s in at.success)
    table = at.dataframe[-1].value
    assert table[table["Delivery"] == delivery_id].iloc[0]["Status"] == "pending"


def test_a_reviewer_chooses_what_they_are_told_and_the_choice_is_kept(
    run_page: RunPage, app_database: str
) -> None:
    at = run_page("pages/notifications.py", "reviewer")
    assert not at.exception
    assert [c.label for c in at.checkbox] == [
        notifications.KINDS[k].label for k in ("new_concern", "reporter_reply", "case_deadline")
    ]
    at.checkbox(key="nk_reporter_reply").uncheck()
    at.radio[0].set_value(True)
    at.button[0].click()
    at.run()
    assert not at.exception
    assert any("Saved." in s.value for s in at.success)
    assert not at.checkbox(key="nk_reporter_reply").value
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            reviewer = get_user_by_username(session=session, username="reviewer")
            assert reviewer is not None
            kept = notifications.get_preferences(session=session, actor=reviewer)
    finally:
        engine.dispose()
    assert kept.kinds == ["new_concern", "case_deadline"] and kept.digest


def test_home_shows_a_reviewer_that_a_concern_arrived_and_links_to_it_without_its_text(
    run_page: RunPage, app_database: str
) -> None:
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            submitted = submit_concern(
                session=session,
                concern_in=ConcernCreate(
                    category="health_safety", what_happened=f"A fire door is blocked. {MARKER}"
                ),
                receipt_log2n=10,
            )
        worker.run_once(engine=engine, jobs=[worker.Job("events", worker.dispatch_events)])
    finally:
        engine.dispose()
    at = run_page("app.py", "reviewer2")
    assert not at.exception
    links = [link for link in at.get("page_link") if "A new concern arrived" in str(link.proto)]
    assert links and submitted.reference in str(links[0].proto)
    assert all(MARKER not in str(element.proto) for element in at.get("page_link"))
    assert any("Notifications" in h.value for h in at.subheader)
    listed = run_page("pages/notifications.py", "reviewer2")
    assert not listed.exception
    assert any(submitted.reference in title for title in listed.dataframe[0].value["What"].tolist())
