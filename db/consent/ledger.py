"""The consent ledger's own SHA-256 chain: append a link, verify the chain."""

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.audit import ChainReport
from db.core.events import record_event
from db.models.audit import GENESIS_HASH, AuditEvent
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentCheckpoint,
    ConsentEvent,
    ConsentHead,
    ConsentSource,
)


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


# The fields a link covers, in the order they are hashed; rows add prev_hash and hash.
CHAINED = (
    "seq",
    "contact_id",
    "purpose_id",
    "channel",
    "action",
    "notice_id",
    "source",
    "evidence_digest",
    "recorded_by_id",
    "recorded_by_name",
    "occurred_at",
    "recorded_at",
    "expires_at",
    "request_id",
)
SEQ, PREV, HASH = 0, len(CHAINED), len(CHAINED) + 1
# The database stores enum members by name, and the chain hashes their values: where the
# two differ (ConsentSource.import_ is "import"), plain rows are read back through this.
_VALUE_OF_NAME = {
    m.name: m.value
    for enum in (ConsentChannel, ConsentAction, ConsentSource)
    for m in enum
    if m.name != m.value
}


def _digest(v: Sequence[Any], prev_hash: str) -> str:
    """SHA-256 of the CHAINED values `v` (read by position, which is fast) and the
    previous link's hash."""
    payload = "\x1f".join(
        [
            str(v[0]),
            str(v[1]),
            str(v[2]),
            _VALUE_OF_NAME.get(str(v[3]), str(v[3])),
            _VALUE_OF_NAME.get(str(v[4]), str(v[4])),
            "" if v[5] is None else str(v[5]),
            _VALUE_OF_NAME.get(str(v[6]), str(v[6])),
            v[7],
            "" if v[8] is None else str(v[8]),
            v[9],
            _stamp(v[10]),
            _stamp(v[11]),
            _stamp(v[12]),
            "" if v[13] is None else str(v[13]),
            prev_hash,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def link_hash(event: Any, prev_hash: str) -> str:
    """The hash of one ledger event (a ConsentEvent or any object with its fields),
    linked to its predecessor."""
    return _digest([getattr(event, name) for name in CHAINED], prev_hash)


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
    if event.action != "grant":
        record_event(
            session=session,
            kind="consent.withdrawn",
            entity="contact",
            entity_id=event.contact_id,
            data={
                "contact_id": event.contact_id,
                "purpose_id": event.purpose_id,
                "channel": event.channel,
                "action": event.action,
            },
            at=event.occurred_at,
        )
    return event


def _walk(
    rows: Iterable[Sequence[Any]],
    head: ConsentHead | None,
    *,
    after_seq: int = 0,
    after_hash: str = GENESIS_HASH,
) -> ChainReport:
    """Check that `rows` (CHAINED values, prev_hash, hash) continue the chain from event
    `after_seq`, whose hash is `after_hash`."""
    expected_prev = after_hash
    expected_seq = after_seq + 1
    checked = 0
    for row in rows:
        seq = row[SEQ]
        if seq != expected_seq:
            return ChainReport(
                False, checked, expected_seq, f"ledger event {expected_seq} is missing"
            )
        if row[PREV] != expected_prev:
            return ChainReport(
                False, checked, seq, f"ledger event {seq} does not link to its predecessor"
            )
        if _digest(row, expected_prev) != row[HASH]:
            return ChainReport(False, checked, seq, f"ledger event {seq} was altered")
        expected_prev = row[HASH]
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


_SELECT = (
    f"SELECT {', '.join(CHAINED)}, prev_hash, hash FROM consent_event "
    "WHERE seq > :after AND seq <= :upto ORDER BY seq"
)


def _rows(session: Session, after: int = 0, upto: int | None = None) -> Iterator[Sequence[Any]]:
    """Ledger rows in chain order as plain values, streamed.

    Plain SQL read by position: no ORM objects, no type conversion (SQLite's times stay
    the stored text that _stamp reads) and no attribute lookup per field. That is what
    lets a million events verify in seconds."""
    result = session.execute(
        text(_SELECT),
        {"after": after, "upto": upto if upto is not None else 2**62},
        execution_options={"yield_per": 10000},
    )
    yield from result.tuples()


def verify_ledger(*, session: Session) -> ChainReport:
    """Walk the whole consent ledger in order and report the first broken link, if any."""
    return _walk(_rows(session), session.get(ConsentHead, 1))


@dataclass(frozen=True)
class LedgerCheck:
    """A chain check of the ledger and how it was done (full, or after a checkpoint)."""

    report: ChainReport
    mode: str  # "full" or "incremental"
    from_seq: int  # the first event whose link was recomputed
    checkpoint: ConsentCheckpoint | None = None  # the checkpoint an incremental run trusted
    why_full: str = ""  # why a full walk was done ("asked for", "no checkpoint yet")
    last_seq: int = 0
    last_hash: str = GENESIS_HASH

    def describe(self) -> str:
        """One sentence for the report: how the chain was checked and from where."""
        if self.mode == "full":
            return f"full: every event from event 1 ({self.why_full})"
        cp = self.checkpoint
        assert cp is not None
        return (
            f"incremental: events after {cp.seq} (checkpoint verified "
            f"{cp.verified_at:%Y-%m-%d %H:%M} UTC by {cp.verified_by_name}, {cp.mode}); "
            "earlier events are covered by that check, re-run with --full to recompute them"
        )


def latest_checkpoint(*, session: Session) -> ConsentCheckpoint | None:
    """The newest verified checkpoint, if any."""
    return session.exec(
        select(ConsentCheckpoint).order_by(col(ConsentCheckpoint.id).desc()).limit(1)
    ).first()


def _checkpoint_problem(session: Session, cp: ConsentCheckpoint) -> ChainReport | None:
    """Whether the ledger still holds, at the checkpoint, what was verified there."""
    found = list(_rows(session, after=cp.seq - 1, upto=cp.seq))
    if not found:
        return ChainReport(
            False, 0, cp.seq, f"ledger event {cp.seq}, the last verified checkpoint, is missing"
        )
    event = found[0]
    if event[HASH] != cp.hash:
        return ChainReport(
            False,
            0,
            cp.seq,
            f"ledger event {cp.seq} no longer has the hash verified on "
            f"{cp.verified_at:%Y-%m-%d}: the chain was rewritten up to it",
        )
    if _digest(event, event[PREV]) != event[HASH]:
        return ChainReport(False, 0, cp.seq, f"ledger event {cp.seq} was altered")
    if cp.audit_seq is not None:
        # The audit log recorded the checkpoint when it was written; its own chain (checked
        # in full by the same audit) vouches for the row we are about to trust.
        anchor = session.exec(select(AuditEvent).where(AuditEvent.seq == cp.audit_seq)).first()
        details = json.loads(anchor.details) if anchor is not None else {}
        if (
            anchor is None
            or anchor.action != CHECKPOINT_ACTION
            or details.get("seq") != cp.seq
            or details.get("hash") != cp.hash
        ):
            return ChainReport(
                False,
                0,
                cp.seq,
                f"the checkpoint at ledger event {cp.seq} does not match the audit log entry "
                "that recorded it",
            )
    return None


def _checkpoints_agree(session: Session) -> ChainReport | None:
    """After a full walk: every checkpoint still names the hash its event has now (a
    ledger rewritten consistently from an early event would verify, but not match)."""
    events: Table = ConsentEvent.__table__  # type: ignore[attr-defined]
    cps: Table = ConsentCheckpoint.__table__  # type: ignore[attr-defined]
    bad = session.execute(
        sa_select(cps.c.seq, cps.c.verified_at)
        .outerjoin(events, events.c.seq == cps.c.seq)
        .where(or_(events.c.hash.is_(None), events.c.hash != cps.c.hash))
        .order_by(cps.c.seq)
        .limit(1)
    ).first()
    if bad is None:
        return None
    return ChainReport(
        False,
        0,
        bad[0],
        f"ledger event {bad[0]} no longer has the hash verified at a checkpoint: "
        "the chain was rewritten",
    )


def check_ledger(*, session: Session, full: bool = False) -> LedgerCheck:
    """Verify the ledger chain: from the last checkpoint on, or (full) from event 1."""
    head = session.get(ConsentHead, 1)
    cp = None if full else latest_checkpoint(session=session)
    last_seq = head.seq if head else 0
    last_hash = head.last_hash if head else GENESIS_HASH
    if cp is None:
        report = _walk(_rows(session), head)
        if report.ok:
            report = _checkpoints_agree(session) or report
        why = "asked for" if full else "no checkpoint yet"
        return LedgerCheck(report, "full", 1, None, why, last_seq, last_hash)
    problem = _checkpoint_problem(session, cp)
    if problem is not None:
        return LedgerCheck(problem, "incremental", cp.seq, cp)
    report = _walk(_rows(session, after=cp.seq), head, after_seq=cp.seq, after_hash=cp.hash)
    report = ChainReport(report.ok, report.checked + 1, report.first_bad_seq, report.reason)
    return LedgerCheck(report, "incremental", cp.seq, cp, "", last_seq, last_hash)


CHECKPOINT_ACTION = "consent.ledger_checkpoint"
