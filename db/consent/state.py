"""Deriving current consent from ledger events (pure; the page and tests use it).

Rules: for a channel, the latest event on that channel or on `any` decides; a grant
lapses at its expiry (the purpose's refresh period); for purposes that permit direct
marketing an objection is absolute (GDPR Art. 21) and later grants do not undo it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.models.consent import ConsentAction, ConsentChannel


class ConsentState(StrEnum):
    """What a derived state means for contacting the person."""

    granted = "granted"
    withdrawn = "withdrawn"
    objected = "objected"
    expired = "expired"
    none = "no record"


@dataclass(frozen=True)
class LedgerEntry:
    """The parts of a consent event the derivation needs."""

    seq: int
    channel: ConsentChannel
    action: ConsentAction
    occurred_at: datetime
    expires_at: datetime | None = None


def derive_state(
    entries: Iterable[LedgerEntry],
    channel: ConsentChannel,
    at: datetime,
    *,
    marketing: bool,
) -> ConsentState:
    """The state for one contact × purpose × channel at time `at`."""
    relevant = sorted(
        (
            e
            for e in entries
            if e.occurred_at <= at and (e.channel == channel or e.channel == ConsentChannel.any)
        ),
        key=lambda e: (e.occurred_at, e.seq),
    )
    if not relevant:
        return ConsentState.none
    if marketing and any(e.action == ConsentAction.object for e in relevant):
        return ConsentState.objected
    last = relevant[-1]
    if last.action == ConsentAction.withdraw:
        return ConsentState.withdrawn
    if last.action == ConsentAction.object:
        return ConsentState.objected
    if last.expires_at is not None and last.expires_at <= at:
        return ConsentState.expired
    return ConsentState.granted


def state_grid(
    entries: Iterable[LedgerEntry], at: datetime, *, marketing: bool
) -> dict[ConsentChannel, ConsentState]:
    """The state on every channel (including `any`) at time `at`."""
    listed = list(entries)
    return {c: derive_state(listed, c, at, marketing=marketing) for c in ConsentChannel}
