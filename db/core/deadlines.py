"""Deadline arithmetic for privacy law: calendar months and business days (pure)."""

import calendar
from collections.abc import Collection
from datetime import date, datetime, timedelta

ANSWER_MONTHS = 1  # GDPR Art. 12(3): one month from receipt
EXTENDED_MONTHS = 3  # ... extendable by two further months
OPT_OUT_BUSINESS_DAYS = 10  # CAN-SPAM: honour an opt-out within 10 business days


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def request_due(received_on: date) -> date:
    """When a data-subject request must be answered: one calendar month after receipt."""
    return add_months(received_on, ANSWER_MONTHS)


def extended_due(received_on: date) -> date:
    """The latest allowed deadline once extended: three calendar months after receipt."""
    return add_months(received_on, EXTENDED_MONTHS)


def is_business_day(day: date, holidays: Collection[date] = ()) -> bool:
    """Monday to Friday and not a listed holiday."""
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, holidays: Collection[date] = ()) -> date:
    """The date `days` business days after `start` (weekends and holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            remaining -= 1
    return current


def opt_out_deadline(opted_out_at: datetime, holidays: Collection[date] = ()) -> datetime:
    """The end of the last day an opt-out may take to be honoured (10 business days)."""
    last_day = add_business_days(opted_out_at.date(), OPT_OUT_BUSINESS_DAYS, holidays)
    return datetime.combine(last_day + timedelta(days=1), datetime.min.time(), opted_out_at.tzinfo)


def business_days_between(start: date, end: date, holidays: Collection[date] = ()) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            count += 1
    return count
