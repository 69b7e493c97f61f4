"""The consent ledger's own SHA-256 chain: append a link, verify the chain."""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.audit import ChainReport
from db.models.audit import GENESIS_HASH
from db.models.consent import ConsentEvent, ConsentHead


def evidence_digest(evidence: str | None) -> str:
    """SHA-256 of the evidence note (the chain covers this, not the text)."""
    return hashlib.sha256((evidence or "").encode("utf-8")).hexdigest()


def _stamp(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # SQLite's stored text of a UTC time, read raw for speed (see verify_ledger).
        day, _, clock = value.partition(" ")
        if "." not in clock:
            clock += ".000000"
        return f"{day}T{clock}+00:00"
    return value.isoformat(timespec="microseconds")


def link_hash(event: Any, prev_hash: str) -> str:
    """The hash of one ledger event (a ConsentEvent or a row of its table), linked to its
    predecessor."""
    payload = "\x1f".join(
        [
            str(event.seq),
            str(event.contact_id),
            str(event.purpose_id),
            str(event.channel),
            str(event.action),
            "" if event.notice_id is None else str(event.notice_id),
            str(event.source),
            event.evidence_digest,
            "" if event.recorded_by_id is None else str(event.recorded_by_id),
            event.recorded_by_name,
            _stamp(event.occurred_at),
            _stamp(event.recorded_at),
            _stamp(event.expires_at),
            "" if event.request_id is None else str(event.request_id),
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(*, session: Session, event: ConsentEvent) -> ConsentEvent:
    """Give `event` its sequence number and hash and add it (the caller commits)."""
    # Lock the head row first so concurrent writers queue instead of forking the chain.
    result = session.execute(
        update(ConsentHead).where(col(ConsentHead.id) == 1).values(seq=ConsentHead.seq + 1)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ConsentHead(id=1, seq=1, last_hash=GENESIS_HASH))
        session.flush()
    head = session.exec(
        select(ConsentHead).where(ConsentHead.id == 1).execution_options(populate_existing=True)
    ).one()
    event.seq = head.seq
    event.evidence_digest = evidence_digest(event.evidence)
    event.prev_hash = head.last_hash
    event.hash = link_hash(event, head.last_hash)
    head.last_hash = event.hash
    session.add(event)
    session.add(head)
    return event


def _walk(events: Iterable[Any], head: ConsentHead | None) -> ChainReport:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq, f"ledger event {expected_seq} is missing"
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"ledger event {event.seq} does not link to its predecessor",
            )
        if link_hash(event, event.prev_hash) != event.hash:
            return ChainReport(False, checked, event.seq, f"ledger event {event.seq} was altered")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    last = expected_seq - 1
    if head is not None and (head.seq != last or head.last_hash != expected_prev):
        return ChainReport(
            False,
            checked,
            last + 1,
            f"the ledger ends at event {last} but its head records event {head.seq}",
        )
    return ChainReport(True, checked)


def verify_ledger(*, session: Session) -> ChainReport:
    """Walk the consent ledger in order and report the first broken link, if any."""
    head = session.get(ConsentHead, 1)
    # Plain rows, not ORM objects: a million events verify in seconds.
    table: Table = ConsentEvent.__table__  # type: ignore[attr-defined]
    rows = session.execute(sa_select(table).order_by(table.c.seq).execution_options(yield_per=5000))
    return _walk(rows, head)
