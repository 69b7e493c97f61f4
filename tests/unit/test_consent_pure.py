"""Pure consent logic: state derivation, deadlines, the CSV parser, receipts, charts."""

from datetime import UTC, date, datetime, timedelta

import pytest

from components.consent_charts import violations_trend_chart
from db.consent.csv_import import parse_consent_csv
from db.consent.receipts import RECEIPT_VERSION, build_receipt
from db.consent.state import ConsentState, LedgerEntry, derive_state, state_grid
from db.core.deadlines import (
    add_business_days,
    add_months,
    business_days_between,
    extended_due,
    opt_out_deadline,
    request_due,
)
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
    LawfulBasis,
    Notice,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EMAIL, ANY, SMS = ConsentChannel.email, ConsentChannel.any, ConsentChannel.sms
GRANT, WITHDRAW, OBJECT = ConsentAction.grant, ConsentAction.withdraw, ConsentAction.object


def entry(seq: int, channel: ConsentChannel, action: ConsentAction, days: float) -> LedgerEntry:
    when = T0 + timedelta(days=days)
    expires = when + timedelta(days=730) if action == GRANT else None
    return LedgerEntry(seq, channel, action, when, expires)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_no_events_means_no_record() -> None:
    assert derive_state([], EMAIL, at(1), marketing=True) == ConsentState.none


def test_a_grant_is_valid_from_its_moment_and_not_before() -> None:
    ledger = [entry(1, EMAIL, GRANT, 10)]
    assert derive_state(ledger, EMAIL, at(9), marketing=True) == ConsentState.none
    assert derive_state(ledger, EMAIL, at(10), marketing=True) == ConsentState.granted


def test_grant_withdraw_and_regrant_follow_the_latest_event() -> None:
    ledger = [entry(1, EMAIL, GRANT, 0), entry(2, EMAIL, WITHDRAW, 5), entry(3, EMAIL, GRANT, 9)]
    assert derive_state(ledger, EMAIL, at(4), marketing=True) == ConsentState.granted
    assert derive_state(ledger, EMAIL, at(6), marketing=True) == ConsentState.withdrawn
    assert derive_state(ledger, EMAIL, at(10), marketing=True) == ConsentState.granted


def test_an_objection_overrides_later_grants_for_marketing_only() -> None:
    ledger = [entry(1, EMAIL, GRANT, 0), entry(2, EMAIL, OBJECT, 5), entry(3, EMAIL, GRANT, 9)]
    assert derive_state(ledger, EMAIL, at(10), marketing=True) == ConsentState.objected
    assert derive_state(ledger, EMAIL, at(10), marketing=False) == ConsentState.granted


def test_a_grant_expires_after_the_refresh_period() -> None:
    ledger = [entry(1, EMAIL, GRANT, 0)]
    assert derive_state(ledger, EMAIL, at(729), marketing=True) == ConsentState.granted
    assert derive_state(ledger, EMAIL, at(730), marketing=True) == ConsentState.expired


def test_any_channel_covers_and_revokes_every_channel() -> None:
    granted_any = [entry(1, ANY, GRANT, 0)]
    assert derive_state(granted_any, SMS, at(1), marketing=True) == ConsentState.granted
    withdrawn_any = [entry(1, EMAIL, GRANT, 0), entry(2, ANY, WITHDRAW, 2)]
    assert derive_state(withdrawn_any, EMAIL, at(3), marketing=True) == ConsentState.withdrawn
    # A withdrawal on one channel leaves the others granted under `any`.
    one_channel = [entry(1, ANY, GRANT, 0), entry(2, EMAIL, WITHDRAW, 2)]
    grid = state_grid(one_channel, at(3), marketing=True)
    assert grid[EMAIL] == ConsentState.withdrawn
    assert grid[SMS] == ConsentState.granted


def test_events_at_the_same_moment_are_ordered_by_ledger_sequence() -> None:
    ledger = [entry(2, EMAIL, WITHDRAW, 1), entry(1, EMAIL, GRANT, 1)]
    assert derive_state(ledger, EMAIL, at(1), marketing=True) == ConsentState.withdrawn


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_calendar_months_clamp_to_month_ends(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_a_request_is_due_in_one_month_and_extends_to_three() -> None:
    assert request_due(date(2026, 1, 31)) == date(2026, 2, 28)
    assert extended_due(date(2026, 1, 31)) == date(2026, 4, 30)


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 11, 20)
    assert add_business_days(friday, 1) == date(2026, 11, 23)
    assert add_business_days(friday, 10) == date(2026, 12, 4)
    assert add_business_days(friday, 10, holidays={date(2026, 11, 25)}) == date(2026, 12, 7)
    assert business_days_between(friday, date(2026, 12, 4)) == 10


def test_the_opt_out_deadline_is_the_end_of_the_tenth_business_day() -> None:
    opted_out = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert opt_out_deadline(opted_out) == datetime(2026, 12, 5, tzinfo=UTC)


def test_the_csv_parser_reports_each_bad_row_with_column_and_reason() -> None:
    text = (
        "external_ref,purpose,channel,action,occurred_at,notice_version\n"
        "LEG-1,marketing,email,grant,2025-03-01T09:30:00Z,1\n"
        "LEG-2,marketing,fax,grant,2025-03-01T09:30:00Z,1\n"
        "LEG-3,marketing,email,maybe,2025-03-01,\n"
        "LEG-4,marketing,email,withdraw,yesterday,\n"
        ",marketing,email,withdraw,2025-03-01,\n"
        "LEG-6,,email,withdraw,2025-03-01,\n"
    )
    result = parse_consent_csv(text)
    assert [r.row for r in result.rows] == [2]
    assert result.rows[0].occurred_at == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert [(b.row, b.column) for b in result.bad] == [
        (3, "channel"),
        (4, "action"),
        (5, "occurred_at"),
        (6, "contact_id"),
        (7, "purpose"),
    ]


def test_a_csv_without_required_columns_is_refused_at_the_header() -> None:
    result = parse_consent_csv("email,purpose\na@example.org,marketing\n")
    assert not result.rows
    assert result.bad[0].row == 1 and "channel" in result.bad[0].column


def receipt_event() -> tuple[ConsentEvent, ConsentPurpose, Notice]:
    event = ConsentEvent(
        seq=3,
        contact_id=42,
        purpose_id=1,
        channel=ConsentChannel.email,
        action=ConsentAction.grant,
        source=ConsentSource.web_form,
        evidence_digest="0" * 64,
        recorded_by_name="privacy",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        expires_at=datetime(2028, 1, 1, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="ab" * 32,
    )
    purpose = ConsentPurpose(
        id=1, code="marketing", name="Marketing", lawful_basis=LawfulBasis.consent
    )
    notice = Notice(id=1, purpose_id=1, version=2, wording="We'd like to…")
    return event, purpose, notice


def test_a_receipt_has_every_field_the_kantara_schema_requires() -> None:
    receipt = build_receipt(*receipt_event())
    required = [
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "piiPrincipalId",
        "piiControllers",
        "services",
        "policyUrl",
        "sensitive",
        "spiCat",
    ]
    assert all(key in receipt for key in required)
    assert receipt["version"] == RECEIPT_VERSION == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == 1767225600
    assert isinstance(receipt["sensitive"], bool) and isinstance(receipt["spiCat"], list)
    for owner in receipt["piiControllers"]:
        assert {"piiController", "contact", "address", "email", "phone"} <= owner.keys()
        assert isinstance(owner["address"], dict)
    (service,) = receipt["services"]
    assert {"service", "purposes"} <= service.keys()
    (purpose,) = service["purposes"]
    assert {
        "consentType",
        "purposeCategory",
        "piiCategory",
        "termination",
        "thirdPartyDisclosure",
    } <= purpose.keys()
    assert purpose["thirdPartyDisclosure"] is False
    assert all(isinstance(v, str) for v in purpose["purposeCategory"] + purpose["piiCategory"])


def test_the_controller_comes_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_CONTROLLER_NAME", "Harbour Health Trust")
    monkeypatch.setenv("RAPPORT_CONTROLLER_EMAIL", "dpo@harbour.example")
    receipt = build_receipt(*receipt_event())
    owner = receipt["piiControllers"][0]
    assert owner["piiController"] == "Harbour Health Trust"
    assert owner["email"] == "dpo@harbour.example"


def test_the_violations_trend_chart_has_typed_month_and_count_axes() -> None:
    chart = violations_trend_chart(
        [{"month": "2026-01-01", "violations": 3}, {"month": "2026-02-01", "violations": 1}]
    ).to_dict()
    assert chart["mark"]["type"] == "bar"
    assert chart["encoding"]["x"]["type"] == "temporal"
    assert chart["encoding"]["y"]["field"] == "violations"
    assert chart["encoding"]["y"]["type"] == "quantitative"


def test_a_csv_with_a_field_over_the_csv_size_limit_is_one_bad_row_and_imports_nothing() -> None:
    text = (
        "external_ref,purpose,channel,action,occurred_at\n"
        "LEG-1,marketing,email,grant,2025-03-01T09:30:00Z\n"
        f'LEG-2,marketing,email,grant,2025-03-01T09:30:00Z,"{"x" * 140_000}"\n'
    )
    result = parse_consent_csv(text)
    assert not result.rows
    assert [b.column for b in result.bad] == ["file"]
    assert "malformed" in result.bad[0].reason and "nothing was imported" in result.bad[0].reason
