"""The consent audit: seven findings an auditor can sign, computed in SQL.

Each family of findings has its module (marketing, grants, requests, ledger); this one
lists them in `FINDINGS` and walks the list.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.consent.audit.findings import (
    AUDITORS,
    AuditReport,
    Finding,
)
from db.consent.audit.grants import soft_opt_in_finding, stale_finding
from db.consent.audit.ledger import integrity_finding, save_checkpoint
from db.consent.audit.marketing import (
    coverage_finding,
    latency_finding,
    trend_from_rows,
    violations_by_month,
    violations_finding,
)
from db.consent.audit.requests import requests_finding
from db.core.errors import ValidationError
from db.core.types import utcnow


@dataclass(frozen=True)
class AuditPeriod:
    """What every finding is computed over: the period, when "now" is, and a row cap."""

    session: Session
    start: datetime
    end: datetime
    as_of: datetime
    today: date
    row_limit: int | None


# Every finding of the audit, by name, in the report's order; the integrity of the
# chains (finding 7) is checked last, and also tells which checkpoint to keep.
FINDINGS: tuple[tuple[str, Callable[[AuditPeriod], Finding]], ...] = (
    ("coverage", lambda p: coverage_finding(p.session, p.start, p.end, p.row_limit)),
    ("violations", lambda p: violations_finding(p.session, p.start, p.end, p.row_limit)),
    ("opt_out_latency", lambda p: latency_finding(p.session, p.start, p.end, p.row_limit)),
    ("stale_consent", lambda p: stale_finding(p.session, p.as_of, p.row_limit)),
    ("soft_opt_in", lambda p: soft_opt_in_finding(p.session, p.start, p.end, p.row_limit)),
    ("requests", lambda p: requests_finding(p.session, p.start, p.end, p.today)),
)


def period_bounds(since: date | None, until: date | None) -> tuple[datetime, datetime]:
    """Whole UTC days: [since 00:00, the day after until 00:00); default the last year."""
    today = utcnow().date()
    end = until or today
    start = since or end - timedelta(days=365)
    if start > end:
        raise ValidationError("Period: the start must be on or before the end.", field="since")
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def run_audit(
    *,
    session: Session,
    actor: Actor,
    since: date | None = None,
    until: date | None = None,
    row_limit: int | None = None,
    full_chain: bool = False,
) -> AuditReport:
    """Compute every finding for the period (privacy officers and administrators).

    The ledger's chain is checked from the last verified checkpoint on, unless
    `full_chain` asks to recompute it from the first event."""
    require_role(actor, *AUDITORS, doing="run the consent audit")
    start, end = period_bounds(since, until)
    now = utcnow()
    period = AuditPeriod(session, start, end, min(end, now), now.date(), row_limit)
    found = {name: compute(period) for name, compute in FINDINGS}
    integrity, ledger = integrity_finding(session, full_chain)
    findings = [*found.values(), integrity]
    violations = found["violations"]
    # Every violation is already in hand unless rows were capped: count them by month
    # here rather than running the violations query a second time.
    trend = (
        violations_by_month(session=session, since=start, until=end)
        if violations.truncated
        else trend_from_rows(violations.rows)
    )
    record(
        session,
        actor,
        "consent.audit",
        "consent_audit",
        details={
            "since": start.isoformat(),
            "until": end.isoformat(),
            "ledger_check": ledger.mode,
            "ledger_from_event": ledger.from_seq,
        },
    )
    if integrity.count == 0:
        # Only an intact audit log may vouch for a checkpoint.
        save_checkpoint(session, ledger, actor)
    session.commit()
    return AuditReport(start, end, now, findings, trend)


CSV_COLUMNS = ["finding", "title", "severity", "count", "detail"]


def report_csv_rows(report: AuditReport) -> list[dict[str, Any]]:
    """One CSV line per finding (its summary) and one per underlying row."""
    lines: list[dict[str, Any]] = []
    for f in report.findings:
        base = {"finding": f.number, "title": f.title, "severity": f.severity, "count": f.count}
        summary = "; ".join(f"{k}={v}" for k, v in f.summary.items())
        lines.append(base | {"detail": summary})
        for row in f.rows:
            lines.append(base | {"detail": "; ".join(f"{k}={v}" for k, v in row.items())})
    return lines


def recent_violations(
    *, session: Session, actor: Actor, days: int = 7, limit: int = 5
) -> tuple[int, list[dict[str, Any]]]:
    """Violations in the last `days` days: their count and the latest few (for Home)."""
    require_role(actor, *AUDITORS, doing="see consent violations")
    end = utcnow()
    found = violations_finding(session, end - timedelta(days=days), end, None)
    return found.count, found.rows[-limit:][::-1]
