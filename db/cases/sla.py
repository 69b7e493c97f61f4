"""The SLA clock: pure arithmetic on a case's dates, no database.

Acknowledge within `ack_days` of receipt; give feedback within `feedback_months`
calendar months of acknowledgement. A reopened case owes feedback again, counted
from the reopening. A closed case has no clock running.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

ACK_DUE_SOON = timedelta(days=2)
FEEDBACK_DUE_SOON = timedelta(days=14)


class ClockState(StrEnum):
    """How a running deadline stands."""

    on_time = "on time"
    due_soon = "due soon"
    overdue = "overdue"
    # Open, with no deadline left to run: the feedback the law asks for was given.
    feedback_given = "feedback given"
    stopped = "stopped"


@dataclass(frozen=True)
class SlaPolicy:
    """The deadlines of one category."""

    ack_days: int = 7
    feedback_months: int = 3


@dataclass(frozen=True)
class SlaClock:
    """The deadline now running for a case, if any, and how it stands."""

    stage: str | None  # "acknowledge", "feedback" or None
    due_at: datetime | None
    state: ClockState


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months later (the month's last day if shorter)."""
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def ack_due(received_at: datetime, policy: SlaPolicy) -> datetime:
    """When the acknowledgement is due."""
    return received_at + timedelta(days=policy.ack_days)


def feedback_due(started_at: datetime, policy: SlaPolicy) -> datetime:
    """When feedback is due, counted from acknowledgement (or reopening)."""
    return add_months(started_at, policy.feedback_months)


def feedback_start(
    acknowledged_at: datetime | None, reopened_at: datetime | None
) -> datetime | None:
    """Where the feedback clock starts: the later of acknowledgement and reopening."""
    if acknowledged_at is None:
        return None
    if reopened_at is not None and reopened_at > acknowledged_at:
        return reopened_at
    return acknowledged_at


def running_deadline(
    *,
    received_at: datetime,
    acknowledged_at: datetime | None,
    feedback_at: datetime | None,
    closed_at: datetime | None,
    reopened_at: datetime | None,
    policy: SlaPolicy,
) -> tuple[str | None, datetime | None]:
    """The stage and due time of the deadline still owed, or (None, None)."""
    if closed_at is not None and (reopened_at is None or reopened_at <= closed_at):
        return None, None
    if acknowledged_at is None:
        return "acknowledge", ack_due(received_at, policy)
    start = feedback_start(acknowledged_at, reopened_at)
    assert start is not None
    if feedback_at is not None and feedback_at >= start:
        return None, None
    return "feedback", feedback_due(start, policy)


def clock_state(stage: str | None, due_at: datetime | None, now: datetime) -> ClockState:
    """On time, due soon or overdue for a running deadline; stopped when none runs."""
    if stage is None or due_at is None:
        return ClockState.stopped
    if now > due_at:
        return ClockState.overdue
    soon = ACK_DUE_SOON if stage == "acknowledge" else FEEDBACK_DUE_SOON
    if due_at - now <= soon:
        return ClockState.due_soon
    return ClockState.on_time


def sla_clock(
    *,
    received_at: datetime,
    acknowledged_at: datetime | None,
    feedback_at: datetime | None,
    closed_at: datetime | None,
    reopened_at: datetime | None,
    policy: SlaPolicy,
    now: datetime,
) -> SlaClock:
    """The whole clock for a case at `now`: every open case says where it stands.

    An open case whose feedback was given has no deadline running, and says so
    ("feedback given", dated by `due_at`); only a closed case has its clock stopped.
    """
    stage, due_at = running_deadline(
        received_at=received_at,
        acknowledged_at=acknowledged_at,
        feedback_at=feedback_at,
        closed_at=closed_at,
        reopened_at=reopened_at,
        policy=policy,
    )
    closed = closed_at is not None and (reopened_at is None or reopened_at <= closed_at)
    if stage is None and not closed and feedback_at is not None:
        return SlaClock("feedback", feedback_at, ClockState.feedback_given)
    return SlaClock(stage, due_at, clock_state(stage, due_at, now))
