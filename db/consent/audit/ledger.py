"""Consent audit finding about the hash chains, and the checkpoint a clean check leaves."""

from sqlmodel import Session

from db.auth.actor import Actor
from db.auth.audit import record, verify_chain
from db.consent.audit.findings import (
    Finding,
)
from db.consent.ledger import CHECKPOINT_ACTION, LedgerCheck, check_ledger
from db.models.consent import (
    ConsentCheckpoint,
)


def integrity_finding(session: Session, full: bool) -> tuple[Finding, LedgerCheck]:
    """Finding 7: whether the consent ledger and the audit log chains are intact."""
    ledger = check_ledger(session=session, full=full)
    rows = []
    for name, report, how in (
        ("consent ledger", ledger.report, ledger.describe()),
        ("audit log", verify_chain(session=session), "full: every event from event 1"),
    ):
        rows.append(
            {
                "chain": name,
                "intact": report.ok,
                "events_verified": report.checked,
                "check": how,
                "first_bad_event": report.first_bad_seq or "",
                "problem": report.reason,
            }
        )
    broken = sum(1 for r in rows if not r["intact"])
    summary = {"ledger_check": ledger.mode, "ledger_checked_from_event": ledger.from_seq}
    finding = Finding(
        7, "integrity", "Hash chains of the ledger and the audit log", broken, rows, summary
    )
    return finding, ledger


def save_checkpoint(session: Session, ledger: LedgerCheck, actor: Actor) -> None:
    """Remember how far the ledger verified, so the next audit starts there (in the
    caller's transaction; the audit log records it too, and vouches for it later)."""
    if not ledger.report.ok or ledger.last_seq == 0:
        return
    if ledger.checkpoint is not None and ledger.checkpoint.seq == ledger.last_seq:
        return  # nothing new since the last one
    anchor = record(
        session,
        actor,
        CHECKPOINT_ACTION,
        "consent_ledger",
        entity_id=ledger.last_seq,
        details={"seq": ledger.last_seq, "hash": ledger.last_hash, "mode": ledger.mode},
    )
    session.add(
        ConsentCheckpoint(
            seq=ledger.last_seq,
            hash=ledger.last_hash,
            verified_by_name=actor.username,
            mode=ledger.mode,
            from_seq=ledger.from_seq,
            audit_seq=anchor.seq,
        )
    )
