"""The consent audit: seven findings an auditor can sign, computed in SQL."""

import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from db.auth.actor import Actor, require_role
from db.auth.audit import record, verify_chain
from db.consent.audit.findings import (
    AUDITORS,
    EVENTS,
    INTERACTIONS,
    NOTICES,
    PURPOSES,
    AuditReport,
    Finding,
    iso,
)
from db.consent.audit.marketing import (
    coverage_finding,
    latency_finding,
    trend_from_rows,
    violations_by_month,
    violations_finding,
)
from db.consent.ledger import CHECKPOINT_ACTION, LedgerCheck, check_ledger
from db.consent.requests import answered_on
from db.core.errors import ValidationError
from db.core.types import utcnow
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentCheckpoint,
    LawfulBasis,
    PrivacyRequest,
    RequestStatus,
)
from db.models.people import Purpose


def _stale(session: Session, until: datetime, limit: int | None) -> Finding:
    g = EVENTS.alias()
    later = EVENTS.alias()
    n = NOTICES.alias()
    # A grant still stands unless a later event (later in time, or at the same instant
    # with a higher seq) on its channel or on `any` came by `until`. Written as one row
    # comparison, that is a single range seek per grant in the covering history index
    # (contact, purpose, occurred_at, seq, channel, ...), which only reads the few
    # events that follow the grant. Grouping the whole ledger per channel instead (two
    # GROUP BY passes, a sort and a same-instant check) took nearly twice as long at a
    # million events on SQLite.
    superseded = (
        exists()
        .where(
            later.c.contact_id == g.c.contact_id,
            later.c.purpose_id == g.c.purpose_id,
            tuple_(later.c.occurred_at, later.c.seq) > tuple_(g.c.occurred_at, g.c.seq),
            later.c.occurred_at <= until,
            or_(later.c.channel == g.c.channel, later.c.channel == ConsentChannel.any.value),
        )
        .correlate(g)
    )
    # The newest wording per purpose, once, rather than a subquery per grant.
    newest = (
        select(n.c.purpose_id, func.max(n.c.version).label("version"))
        .where(n.c.published_at <= until)
        .group_by(n.c.purpose_id)
        .subquery()
    )
    expired = g.c.expires_at <= until
    outdated = NOTICES.c.version < newest.c.version
    where = and_(
        g.c.action == ConsentAction.grant.value,
        g.c.occurred_at <= until,
        or_(expired, outdated),
        ~superseded,
    )
    base = (
        select(
            g.c.id,
            g.c.contact_id,
            PURPOSES.c.code,
            g.c.channel,
            g.c.occurred_at,
            g.c.expires_at,
            NOTICES.c.version,
            newest.c.version,
            expired,
            func.count().over().label("total"),
        )
        .join(PURPOSES, PURPOSES.c.id == g.c.purpose_id)
        .outerjoin(NOTICES, NOTICES.c.id == g.c.notice_id)
        .outerjoin(newest, newest.c.purpose_id == g.c.purpose_id)
        .where(where)
    )
    query = base.order_by(g.c.occurred_at)
    if limit is not None:
        query = query.limit(limit)
    found = session.execute(query).all()
    count = int(found[0][9]) if found else 0
    rows = [
        {
            "event_id": r[0],
            "contact_id": r[1],
            "purpose": r[2],
            "channel": str(r[3]),
            "granted_at": iso(r[4]),
            "expires_at": iso(r[5]),
            "notice_version": r[6],
            "current_notice_version": r[7],
            "problem": "past refresh period" if r[8] else "notice changed since",
        }
        for r in found
    ]
    return Finding(
        4,
        "stale_consent",
        "Stale consent: past the refresh period, or under an old notice",
        count,
        rows,
        truncated=limit is not None and count > len(rows),
    )


def _soft_opt_in(session: Session, since: datetime, until: datetime, limit: int | None) -> Finding:
    g = EVENTS.alias()
    s = INTERACTIONS.alias()
    # The period's soft opt-in grants first, then the sale check for each of them. Left
    # to itself SQLite checks every grant of the period for a prior sale before it joins
    # the purpose and drops the grants under other bases (eight times the checks and
    # over twice the time at a million events); MATERIALIZED keeps this order.
    grants = (
        select(g.c.id, g.c.contact_id, PURPOSES.c.code, g.c.channel, g.c.occurred_at)
        .join(PURPOSES, PURPOSES.c.id == g.c.purpose_id)
        .where(
            PURPOSES.c.lawful_basis == LawfulBasis.soft_opt_in.value,
            g.c.action == ConsentAction.grant.value,
            g.c.occurred_at >= since,
            g.c.occurred_at < until,
        )
        .cte("soft_grants")
        .prefix_with("MATERIALIZED")
    )
    prior_sale = (
        exists()
        .where(
            s.c.contact_id == grants.c.contact_id,
            s.c.occurred_at < grants.c.occurred_at,
            or_(s.c.purpose == Purpose.sales.value, s.c.deal_id.is_not(None)),
        )
        .correlate(grants)
    )
    # The total comes with the rows (a window count), not from a second pass.
    query = (
        select(
            grants.c.id,
            grants.c.contact_id,
            grants.c.code,
            grants.c.channel,
            grants.c.occurred_at,
            func.count().over().label("total"),
        )
        .where(~prior_sale)
        .order_by(grants.c.occurred_at, grants.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = session.execute(query).all()
    count = int(found[0][5]) if found else 0
    rows = [
        {
            "event_id": r[0],
            "contact_id": r[1],
            "purpose": r[2],
            "channel": str(r[3]),
            "granted_at": iso(r[4]),
        }
        for r in found
    ]
    return Finding(
        5,
        "soft_opt_in",
        "Soft opt-in used without a prior sale or negotiation",
        count,
        rows,
        truncated=limit is not None and count > len(rows),
    )


def _requests(session: Session, since: datetime, until: datetime, today: date) -> Finding:
    requests = session.exec(
        sqlmodel_select(PrivacyRequest)
        .where(
            col(PrivacyRequest.received_on) >= since.date(),
            col(PrivacyRequest.received_on) < until.date() + timedelta(days=1),
        )
        .order_by(col(PrivacyRequest.received_on))
    ).all()
    durations: list[int] = []
    rows: list[dict[str, Any]] = []
    refused = 0
    for req in requests:
        done = answered_on(req)
        if req.status == RequestStatus.refused:
            refused += 1
        elif done is not None:
            durations.append((done - req.received_on).days)
        # A refusal closes the request: late only if the person was told after the deadline.
        late = (done is not None and done > req.deadline) or (done is None and today > req.deadline)
        if late:
            rows.append(
                {
                    "request_id": req.id,
                    "kind": str(req.kind),
                    "contact_id": req.contact_id,
                    "received_on": req.received_on.isoformat(),
                    "deadline": req.deadline.isoformat(),
                    "completed_on": done.isoformat() if done else "",
                    "status": str(req.status) if done else "overdue",
                }
            )
    summary = {
        "requests": len(requests),
        "completed": len(durations),
        "refused": refused,
        "open": len(requests) - len(durations) - refused,
        "median_days_to_complete": statistics.median(durations) if durations else None,
        "longest_days_to_complete": max(durations) if durations else None,
    }
    return Finding(
        6, "requests", "Data-subject requests past their deadline", len(rows), rows, summary
    )


def _integrity(session: Session, full: bool) -> tuple[Finding, LedgerCheck]:
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


def _save_checkpoint(session: Session, ledger: LedgerCheck, actor: Actor) -> None:
    """Remember how far the ledger verified, so the next audit starts there (in the
    caller's transaction; the audit log records it too, and vouches for it later)."""
    if not ledger.report.ok or ledger.last_seq == 0:
        return
    if ledger.checkpoint is not None and ledger.checkpoint.seq == ledger.last_seq:
        return  # nothing new since the last one
    anchor = record(
        session=session,
        actor=actor,
        action=CHECKPOINT_ACTION,
        entity="consent_ledger",
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
    as_of = min(end, now)
    findings = [
        coverage_finding(session, start, end, row_limit),
        violations_finding(session, start, end, row_limit),
        latency_finding(session, start, end, row_limit),
        _stale(session, as_of, row_limit),
        _soft_opt_in(session, start, end, row_limit),
        _requests(session, start, end, now.date()),
    ]
    integrity, ledger = _integrity(session, full_chain)
    findings.append(integrity)
    violations = findings[1]
    # Every violation is already in hand unless rows were capped: count them by month
    # here rather than running the violations query a second time.
    trend = (
        violations_by_month(session=session, since=start, until=end)
        if violations.truncated
        else trend_from_rows(violations.rows)
    )
    record(
        session=session,
        actor=actor,
        action="consent.audit",
        entity="consent_audit",
        details={
            "since": start.isoformat(),
            "until": end.isoformat(),
            "ledger_check": ledger.mode,
            "ledger_from_event": ledger.from_seq,
        },
    )
    if integrity.count == 0:
        # Only an intact audit log may vouch for a checkpoint.
        _save_checkpoint(session, ledger, actor)
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
