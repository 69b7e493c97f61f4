"""Stored reports: read back while their data is unchanged, recomputed after a command."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

import db.duplicates.report
import db.pipeline.forecast
from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.insights import insights_report
from db.cases.intake import submit_concern
from db.core.report_cache import cached, dumps, loads
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.duplicates.merge import merge_contacts
from db.duplicates.report import duplicate_organisations_report, duplicate_pairs_report
from db.models.auth import User
from db.models.cases import ConcernCreate
from db.models.people import Contact, ContactCreate, ContactUpdate, OrganisationCreate
from db.models.pipeline import DealCreate, DealUpdate, Pipeline
from db.models.reports import ReportCache
from db.people.contacts import create_contact, create_organisation, update_contact
from db.pipeline.commands import create_deal, update_deal, win_deal
from db.pipeline.forecast import ForecastFilter, forecast_report
from db.pipeline.setup import StageSpec, create_pipeline


def _user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


@pytest.fixture
def pipeline(session: Session) -> Pipeline:
    seed_users(session=session)
    return create_pipeline(
        session=session,
        name="New business",
        stages=[StageSpec("Lead", 10, 7), StageSpec("Proposal", 60, None)],
        actor=OPERATOR,
    )


def _filter(pipeline: Pipeline) -> ForecastFilter:
    today = date.today()
    return ForecastFilter(
        since=today - timedelta(days=60),
        until=today + timedelta(days=60),
        pipeline_id=pipeline.id,
    )


def test_a_stored_forecast_is_read_back_without_querying_the_deals_again(
    session: Session, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = _user(session, "manager")
    create_deal(
        session=session,
        deal_in=DealCreate(title="Portal", pipeline_id=pipeline.id or 0, amount=Decimal(500)),
        actor=_user(session, "sales"),
    )
    first = forecast_report(session=session, actor=manager, flt=_filter(pipeline))

    def refuse(**_: object) -> None:
        raise AssertionError("the stored report should have been used")

    monkeypatch.setattr(db.pipeline.forecast, "by_close_month", refuse)
    again = forecast_report(session=session, actor=manager, flt=_filter(pipeline))
    assert again == first
    assert again.outcome.open_count == 1


def test_winning_a_deal_makes_the_stored_forecast_show_it(
    session: Session, pipeline: Pipeline
) -> None:
    manager, seller = _user(session, "manager"), _user(session, "sales")
    deal = create_deal(
        session=session,
        deal_in=DealCreate(title="Portal", pipeline_id=pipeline.id or 0, amount=Decimal(500)),
        actor=seller,
    )
    before = forecast_report(session=session, actor=manager, flt=_filter(pipeline))
    assert (before.outcome.won_count, before.outcome.open_count) == (0, 1)
    win_deal(
        session=session,
        deal_id=deal.id or 0,
        version=deal.version,
        amount=Decimal("750.00"),
        actor=seller,
    )
    after = forecast_report(session=session, actor=manager, flt=_filter(pipeline))
    assert (after.outcome.won_count, after.outcome.open_count) == (1, 0)
    assert after.outcome.won_value == Decimal("750.00")


def test_editing_a_deal_amount_makes_the_stored_forecast_show_it(
    session: Session, pipeline: Pipeline
) -> None:
    manager, seller = _user(session, "manager"), _user(session, "sales")
    deal = create_deal(
        session=session,
        deal_in=DealCreate(
            title="Portal",
            pipeline_id=pipeline.id or 0,
            amount=Decimal(1000),
            expected_close=date.today() + timedelta(days=10),
        ),
        actor=seller,
    )
    before = forecast_report(session=session, actor=manager, flt=_filter(pipeline))
    update_deal(
        session=session,
        deal_id=deal.id or 0,
        patch=DealUpdate(amount=Decimal(3000)),
        version=deal.version,
        actor=seller,
    )
    after = forecast_report(session=session, actor=manager, flt=_filter(pipeline))
    assert sum(m.open_amount for m in before.months) == Decimal(1000)
    assert sum(m.open_amount for m in after.months) == Decimal(3000)


def _person(session: Session, given: str, email: str, ref: str) -> int:
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(
            given_name=given,
            family_name="Okonkwo-Hartley",
            email=email,
            phone="+447700900123",
            postcode="LS1 4AP",
            date_of_birth=date(1980, 5, 17),
            external_ref=ref,
        ),
        actor=OPERATOR,
    )
    return contact.id or 0


def test_a_new_duplicate_and_a_merge_both_show_in_the_stored_pairs(session: Session) -> None:
    seed_users(session=session)
    admin = _user(session, "admin")
    first = _person(session, "Adaeze", "adaeze@example.org", "A")
    assert duplicate_pairs_report(session=session, actor=admin) == []
    copy = _person(session, "Adaeze", "ADAEZE@example.org", "B")
    pairs = duplicate_pairs_report(session=session, actor=admin)
    assert [(p.left_id, p.right_id) for p in pairs] == [(first, copy)]
    merge_contacts(session=session, survivor_id=first, merged_id=copy, actor=admin)
    assert duplicate_pairs_report(session=session, actor=admin) == []


def test_a_stored_run_is_brought_up_to_date_by_rescoring_only_changed_contacts(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_users(session=session)
    admin = _user(session, "admin")
    ids = {n: _person(session, n, f"{n.lower()}@example.org", n) for n in ("Adaeze", "Bola")}
    ids["Ada"] = _person(session, "Adaeze", "adaeze@example.org", "Ada")
    assert len(duplicate_pairs_report(session=session, actor=admin)) >= 1
    seen: list[set[int] | None] = []
    real = db.duplicates.report.match_records

    def spy(records: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("fresh"))
        return real(records, **kwargs)

    monkeypatch.setattr(db.duplicates.report, "match_records", spy)
    # A new look-alike, an edit that makes Bola match no one new, a merge of one pair.
    ids["Bee"] = _person(session, "Bola", "BOLA@example.org", "Bee")
    bola = session.get(Contact, ids["Bola"])
    assert bola is not None
    update_contact(
        session=session,
        contact_id=ids["Bola"],
        patch=ContactUpdate(job_title="Nurse"),
        version=bola.version,
        actor=admin,
    )
    merge_contacts(session=session, survivor_id=ids["Adaeze"], merged_id=ids["Ada"], actor=admin)
    refreshed = duplicate_pairs_report(session=session, actor=admin)
    assert refreshed == db.duplicates.report.find_duplicate_pairs(session=session, actor=admin)
    assert (ids["Bola"], ids["Bee"]) in {(p.left_id, p.right_id) for p in refreshed}
    assert all(ids["Ada"] not in (p.left_id, p.right_id) for p in refreshed)
    # The refresh scored only the new and the edited contacts (the merge edited Adaeze).
    fresh = seen[0]
    assert fresh is not None and len(fresh) == 3


def test_a_new_concern_shows_in_the_stored_case_insights(session: Session) -> None:
    seed_users(session=session)
    reviewer = _user(session, "reviewer")

    def received(now: datetime | None = None) -> int:
        # Figures are released monthly: a concern counts from the next month's release.
        cells, *_ = insights_report(
            session=session,
            actor=reviewer,
            months=12,
            granularity="year",
            now=now or utcnow() + timedelta(days=32),
        )
        return sum(c.count or 0 for c in cells)

    def concern() -> None:
        submit_concern(
            session=session,
            concern_in=ConcernCreate(category="wellbeing", what_happened="The lift is broken."),
            receipt_log2n=10,
        )

    for _ in range(3):
        concern()
    assert received() == 3
    concern()
    assert received() == 4
    assert received(utcnow()) == 0


def test_a_report_is_recomputed_when_its_version_changes_or_it_is_too_old(
    session: Session,
) -> None:
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    assert cached(session=session, key="k", version="1", compute=compute) == [1]
    assert cached(session=session, key="k", version="1", compute=compute) == [1]
    assert cached(session=session, key="k", version="2", compute=compute) == [2]
    assert cached(session=session, key="k", version="2", compute=compute, max_age=timedelta(0)) == [
        3
    ]
    assert len(session.exec(select(ReportCache)).all()) == 1


def test_the_cache_stores_json_and_refuses_to_build_unregistered_types() -> None:
    value = (Decimal("1.50"), date(2026, 1, 2), ["a", None, 3])
    assert loads(dumps(value)) == value
    with pytest.raises(KeyError):
        loads('{"$type": "Popen", "fields": {"args": "true"}}')

    class NotRegistered:
        pass

    with pytest.raises(TypeError):
        dumps(NotRegistered())


def test_a_new_look_alike_organisation_shows_in_the_stored_pairs(session: Session) -> None:
    seed_users(session=session)
    admin = _user(session, "admin")
    create_organisation(
        session=session,
        org_in=OrganisationCreate(name="Northgate Care Trust", domain="northgate.example"),
        actor=OPERATOR,
    )
    assert duplicate_organisations_report(session=session, actor=admin) == []
    create_organisation(
        session=session,
        org_in=OrganisationCreate(name="Northgate Care Trust Ltd", domain="northgate.example"),
        actor=OPERATOR,
    )
    assert len(duplicate_organisations_report(session=session, actor=admin)) == 1


def test_a_new_report_sweeps_out_reports_unused_for_a_month(session: Session) -> None:
    cached(session=session, key="old", version="1", compute=lambda: [1])
    cached(session=session, key="recent", version="1", compute=lambda: [2])
    old = session.get(ReportCache, "old")
    assert old is not None
    old.computed_at = utcnow() - timedelta(days=31)
    session.add(old)
    session.commit()
    cached(session=session, key="new", version="1", compute=lambda: [3])
    session.expire_all()
    assert session.get(ReportCache, "old") is None
    assert session.get(ReportCache, "recent") is not None
    assert session.get(ReportCache, "new") is not None
