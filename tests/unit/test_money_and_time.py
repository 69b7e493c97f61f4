"""Money with its currency's symbol and separators; stored UTC times in the viewer's zone."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from components import pipeline_ui
from components.pipeline_ui import local_time, money, money_totals


@pytest.mark.parametrize(
    ("amount", "currency", "whole", "shown"),
    [
        (Decimal("1234567.5"), "GBP", False, "£1,234,567.50"),
        (Decimal("1234567.5"), "EUR", True, "€1,234,568"),
        (Decimal("0"), "USD", False, "US$0.00"),
        (None, "GBP", False, "—"),
    ],
)
def test_money_reads_with_the_currencys_symbol_and_thousands_separators(
    amount: Decimal | None, currency: str, whole: bool, shown: str
) -> None:
    assert money(amount, currency, whole=whole) == shown


def test_totals_in_several_currencies_are_listed_side_by_side() -> None:
    totals = {"GBP": Decimal("12000"), "EUR": Decimal("3500")}
    assert money_totals(totals, whole=True) == "€3,500 · £12,000"
    assert money_totals({}) == "nothing"


def test_a_german_browser_reads_german_separators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_ui, "viewer_locale", lambda: pipeline_ui._locale("de-DE"))
    assert money(Decimal("1234.5"), "EUR") == "1.234,50\xa0€"


def test_a_stored_utc_time_is_shown_in_the_viewers_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(pipeline_ui, "viewer_zone", lambda: ZoneInfo("Europe/Paris"))
    assert local_time(moment, "%Y-%m-%d %H:%M") == "2026-07-02 00:30"
    monkeypatch.setattr(pipeline_ui, "viewer_zone", lambda: dt.UTC)
    assert local_time(moment, "%Y-%m-%d %H:%M") == "2026-07-01 22:30"
    assert local_time(None) == "—"
