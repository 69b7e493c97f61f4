"""The SLA clock: acknowledgement and feedback deadlines, due-soon, overdue, reopen."""

from datetime import UTC, datetime, timedelta

import pytest

from db.cases.sla import ClockState, SlaPolicy, add_months, sla_clock

RECEIVED = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
POLICY = SlaPolicy()


def clock(
    now: datetime, **dates: datetime | None
) -> tuple[str | None, datetime | None, ClockState]:
    values: dict[str, datetime | None] = {
        "acknowledged_at": None,
        "feedback_at": None,
        "closed_at": None,
        "reopened_at": None,
    }
    values.update(dates)
    result = sla_clock(received_at=RECEIVED, policy=POLICY, now=now, **values)  # type: ignore[arg-type]
    return result.stage, result.due_at, result.state


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 1, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 11, 15, tzinfo=UTC), 3, datetime(2027, 2, 15, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), -12 * 5, datetime(2021, 3, 31, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months_clamped_to_the_shorter_month(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_months(start, months) == expected


def test_a_new_case_must_be_acknowledged_within_seven_days_of_receipt() -> None:
    stage, due, state = clock(RECEIVED + timedelta(days=1))
    assert stage == "acknowledge"
    assert due == RECEIVED + timedelta(days=7)
    assert state is ClockState.on_time


def test_the_acknowledgement_is_due_soon_in_its_last_two_days_and_overdue_after() -> None:
    assert clock(RECEIVED + timedelta(days=5, hours=1))[2] is ClockState.due_soon
    assert clock(RECEIVED + timedelta(days=7, seconds=1))[2] is ClockState.overdue


def test_feedback_is_due_three_calendar_months_after_acknowledgement() -> None:
    acked = RECEIVED + timedelta(days=2)
    stage, due, state = clock(acked + timedelta(days=1), acknowledged_at=acked)
    assert stage == "feedback"
    assert due == datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
    assert state is ClockState.on_time
    assert clock(due - timedelta(days=10), acknowledged_at=acked)[2] is ClockState.due_soon  # type: ignore[operator]


def test_feedback_given_ends_the_deadline_and_an_open_case_says_so_however_old() -> None:
    acked = RECEIVED + timedelta(days=2)
    fed = acked + timedelta(days=30)
    result = clock(RECEIVED + timedelta(days=600), acknowledged_at=acked, feedback_at=fed)
    assert result == ("feedback", fed, ClockState.feedback_given)


def test_a_closed_case_has_no_clock_running() -> None:
    acked = RECEIVED + timedelta(days=2)
    closed = acked + timedelta(days=10)
    assert clock(closed + timedelta(days=300), acknowledged_at=acked, closed_at=closed)[2] is (
        ClockState.stopped
    )


def test_reopening_owes_feedback_again_counted_from_the_reopening() -> None:
    acked = RECEIVED + timedelta(days=1)
    fed = acked + timedelta(days=20)
    closed = fed + timedelta(days=5)
    reopened = datetime(2026, 6, 1, tzinfo=UTC)
    stage, due, state = clock(
        reopened + timedelta(days=1),
        acknowledged_at=acked,
        feedback_at=fed,
        closed_at=None,
        reopened_at=reopened,
    )
    assert (stage, due, state) == ("feedback", datetime(2026, 9, 1, tzinfo=UTC), ClockState.on_time)
    # Feedback after the reopening stops it again; the old feedback did not count.
    assert (
        clock(
            reopened + timedelta(days=200),
            acknowledged_at=acked,
            feedback_at=reopened + timedelta(days=3),
            reopened_at=reopened,
        )[2]
        is ClockState.feedback_given
    )
    assert closed < reopened


def test_deadlines_follow_the_category_policy() -> None:
    result = sla_clock(
        received_at=RECEIVED,
        acknowledged_at=None,
        feedback_at=None,
        closed_at=None,
        reopened_at=None,
        policy=SlaPolicy(ack_days=2, feedback_months=1),
        now=RECEIVED,
    )
    assert result.due_at == RECEIVED + timedelta(days=2)
    assert result.state is ClockState.due_soon
