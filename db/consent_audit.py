"""The consent audit: seven findings an auditor can sign, computed in SQL."""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, Table, and_, cast, case, exists, func, literal, or_, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from db.audit import Actor, record, require_role, verify_chain
from db.consent_ledger import verify_ledger
from db.deadlines import opt_out_deadline
from db.errors import ValidationError
from db.models.auth import Role, User
from db.models.consent import (
    ConsentAction,
    ConsentEvent,
    ConsentPurpose,
    LawfulBasis,
    Notice,
    PrivacyRequest,
    RequestStatus,
)
from db.models.people import Contact, Direction, Interaction, Purpose
from db.types import utcnow

AUDITORS = (Role.privacy, Role.admin)
EVENTS: Table = ConsentEvent.__table__  # type: ignore[attr-defined]
INTERACTIONS: Table = Interaction.__table__  # type: ignore[attr-defined]
NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
PURPOSES: Table = ConsentPurpose.__table__  # type: ignore[attr-defined]
CONTACTS: Table = Contact.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
REQUESTS: Table = PrivacyRequest.__table__  # type: ignore[attr-defined]

SEVERITY = {
    "coverage": "high",
    "violations": "critical",
    "opt_out_latency": "high",
    "stale_consent": "medium",
    "soft_opt_in": "medium",
    "requests": "high",
    "integrity": "critical",
}


@dataclass
class Finding:
    """One finding: what was checked, how bad a failure is, and the rows behind it."""

    number: int
    key: str
    title: str
    count: int
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False

    @property
    def severity(self) -> str:
        """The declared severity when anything was found, else "none"."""
        return SEVERITY[self.key] if self.count else "none"


@dataclass
class AuditReport:
    """The whole report for a period."""

    since: datetime
    until: datetime
    generated_at: datetime
    findings: list[Finding]
    trend: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "period": {"since": self.since.isoformat(), "until": self.until.isoformat()},
            "generated_at": self.generated_at.isoformat(),
            "findings": [
                {
                    "number": f.number,
                    "key": f.key,
                    "title": f.title,
                    "severity": f.severity,
                    "count": f.count,
                    "summary": f.summary,
                    "truncated": f.truncated,
                    "rows": f.rows,
                }
                for f in self.findings
            ],
            "violations_by_month": self.trend,
        }


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _consent_channel(channel_column: Any) -> Any:
    """SQL: the consent channel governing an interaction channel (see consent_check)."""
    return case(
        (channel_column == "email", literal("email")),
        (channel_column == "phone", literal("phone")),
        (channel_column == "sms", literal("sms")),
        (channel_column == "letter", literal("post")),
        else_=literal("any"),
    )


def _covering() -> Any:
    return select(PURPOSES.c.id).where(PURPOSES.c.covers_marketing.is_(True))


def _marketing(i: Any) -> list[Any]:
    return [i.c.purpose == Purpose.marketing.value, i.c.direction == Direction.outbound.value]


def _month(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _violation_query(since: datetime, until: datetime) -> tuple[Any, Any, Any]:
    """(where-clause, reason expression, interaction alias) for finding 2."""
    i = INTERACTIONS.alias()
    g, w, o, last = (EVENTS.alias() for _ in range(4))
    channel = _consent_channel(i.c.channel)

    def on_channel(e: Any) -> Any:
        return or_(cast(e.c.channel, String) == channel, e.c.channel == "any")

    objected = (
        exists()
        .where(
            o.c.contact_id == i.c.contact_id,
            o.c.purpose_id.in_(_covering()),
            o.c.action == ConsentAction.object.value,
            on_channel(o),
            o.c.occurred_at <= i.c.occurred_at,
        )
        .correlate(i)
    )
    revoked_after = (
        exists()
        .where(
            w.c.contact_id == g.c.contact_id,
            w.c.purpose_id == g.c.purpose_id,
            w.c.action != ConsentAction.grant.value,
            on_channel(w),
            w.c.occurred_at <= i.c.occurred_at,
            or_(
                w.c.occurred_at > g.c.occurred_at,
                and_(w.c.occurred_at == g.c.occurred_at, w.c.seq > g.c.seq),
            ),
        )
        .correlate(i, g)
    )
    valid = (
        exists()
        .where(
            g.c.contact_id == i.c.contact_id,
            g.c.purpose_id.in_(_covering()),
            g.c.action == ConsentAction.grant.value,
            on_channel(g),
            g.c.occurred_at <= i.c.occurred_at,
            g.c.expires_at > i.c.occurred_at,
            ~revoked_after,
        )
        .correlate(i)
    )
    latest_action = (
        select(last.c.action)
        .where(
            last.c.contact_id == i.c.contact_id,
            last.c.purpose_id.in_(_covering()),
            on_channel(last),
            last.c.occurred_at <= i.c.occurred_at,
        )
        .order_by(last.c.occurred_at.desc(), last.c.seq.desc())
        .limit(1)
        .correlate(i)
        .scalar_subquery()
    )
    reason = case(
        (objected, literal("objected")),
        (latest_action.is_(None), literal("never granted")),
        (latest_action == ConsentAction.withdraw.value, literal("withdrawn")),
        else_=literal("expired"),
    )
    where = and_(
        *_marketing(i),
        i.c.occurred_at >= since,
        i.c.occurred_at < until,
        or_(objected, ~valid),
    )
    return where, reason, i


def _violations(session: Session, since: datetime, until: datetime, limit: int | None) -> Finding:
    where, reason, i = _violation_query(since, until)
    count = int(session.execute(select(func.count()).select_from(i).where(where)).scalar_one())
    query = (
        select(
            i.c.id,
            i.c.contact_id,
            CONTACTS.c.given_name,
            CONTACTS.c.family_name,
            i.c.occurred_at,
            i.c.channel,
            USERS.c.username,
            i.c.override_reason,
            reason,
        )
        .join(CONTACTS, CONTACTS.c.id == i.c.contact_id)
        .outerjoin(USERS, USERS.c.id == i.c.user_id)
        .where(where)
        .order_by(i.c.occurred_at, i.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        {
            "interaction_id": r[0],
            "contact_id": r[1],
            "contact": f"{r[2]} {r[3]}".strip(),
            "sent_at": _iso(r[4]),
            "channel": str(r[5]),
            "sender": r[6] or "",
            "override_reason": r[7] or "",
            "reason": r[8],
        }
        for r in session.execute(query).all()
    ]
    overridden = int(
        session.execute(
            select(func.count()).select_from(i).where(where, i.c.override_reason.is_not(None))
        ).scalar_one()
    )
    return Finding(
        2,
        "violations",
        "Marketing sent without valid consent",
        count,
        rows,
        {"overridden": overridden},
        truncated=limit is not None and count > len(rows),
    )


def violations_by_month(
    *, session: Session, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Violations counted per calendar month of the period (for the trend chart)."""
    where, _reason, i = _violation_query(since, until)
    month = _month(i.c.occurred_at, session.get_bind().dialect.name)
    rows = session.execute(
        select(month, func.count()).select_from(i).where(where).group_by(month).order_by(month)
    ).all()
    return [{"month": f"{m}-01", "violations": int(n)} for m, n in rows]


def _coverage(session: Session, since: datetime, until: datetime, limit: int | None) -> Finding:
    i = INTERACTIONS.alias()
    e = EVENTS.alias()
    where = and_(
        *_marketing(i),
        i.c.occurred_at >= since,
        i.c.occurred_at < until,
        ~exists().where(e.c.contact_id == i.c.contact_id).correlate(i),
    )
    grouped = (
        select(
            i.c.contact_id, func.count().label("messages"), func.max(i.c.occurred_at).label("last")
        )
        .where(where)
        .group_by(i.c.contact_id)
        .subquery()
    )
    count = int(session.execute(select(func.count()).select_from(grouped)).scalar_one())
    query = (
        select(
            grouped.c.contact_id,
            CONTACTS.c.given_name,
            CONTACTS.c.family_name,
            grouped.c.messages,
            grouped.c.last,
        )
        .join(CONTACTS, CONTACTS.c.id == grouped.c.contact_id)
        .order_by(grouped.c.contact_id)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = [
        {
            "contact_id": r[0],
            "contact": f"{r[1]} {r[2]}".strip(),
            "marketing_messages": int(r[3]),
            "last_sent_at": _iso(r[4]),
        }
        for r in session.execute(query).all()
    ]
    return Finding(
        1,
        "coverage",
        "Contacted for marketing with no consent record at all",
        count,
        rows,
        truncated=limit is not None and count > len(rows),
    )


def _latency(session: Session, since: datetime, until: datetime, limit: int | None) -> Finding:
    r = EVENTS.alias()
    m = INTERACTIONS.alias()
    g = EVENTS.alias()
    m_channel = _consent_channel(m.c.channel)
    regranted = (
        exists()
        .where(
            g.c.contact_id == r.c.contact_id,
            g.c.purpose_id == r.c.purpose_id,
            g.c.action == ConsentAction.grant.value,
            or_(cast(g.c.channel, String) == m_channel, g.c.channel == "any"),
            g.c.occurred_at > r.c.occurred_at,
            g.c.occurred_at <= m.c.occurred_at,
        )
        .correlate(r, m)
    )
    last_sent = (
        select(func.max(m.c.occurred_at))
        .where(
            m.c.contact_id == r.c.contact_id,
            *_marketing(m),
            m.c.occurred_at > r.c.occurred_at,
            or_(r.c.channel == "any", cast(r.c.channel, String) == m_channel),
            or_(r.c.action == ConsentAction.object.value, ~regranted),
        )
        .correlate(r)
        .scalar_subquery()
    )
    inner = (
        select(
            r.c.id.label("event_id"),
            r.c.contact_id.label("contact_id"),
            r.c.action.label("action"),
            r.c.channel.label("channel"),
            r.c.occurred_at.label("opted_out_at"),
            last_sent.label("last_sent_at"),
        )
        .where(
            r.c.action.in_([ConsentAction.withdraw.value, ConsentAction.object.value]),
            r.c.purpose_id.in_(_covering()),
            r.c.occurred_at >= since,
            r.c.occurred_at < until,
        )
        .subquery()
    )
    found = session.execute(
        select(inner).where(inner.c.last_sent_at.is_not(None)).order_by(inner.c.opted_out_at)
    ).all()
    rows: list[dict[str, Any]] = []
    latencies: list[float] = []
    for event_id, contact_id, action, channel, opted_out_at, last_sent_at in found:
        # SQLite hands back the subquery's max() as text; parse it the same way.
        if isinstance(last_sent_at, str):
            last_sent_at = datetime.fromisoformat(last_sent_at).replace(tzinfo=UTC)
        elif last_sent_at.tzinfo is None:
            last_sent_at = last_sent_at.replace(tzinfo=UTC)
        days = (last_sent_at - opted_out_at).total_seconds() / 86400
        latencies.append(days)
        if last_sent_at >= opt_out_deadline(opted_out_at):
            rows.append(
                {
                    "event_id": event_id,
                    "contact_id": contact_id,
                    "action": str(action),
                    "channel": str(channel),
                    "opted_out_at": _iso(opted_out_at),
                    "last_marketing_at": _iso(last_sent_at),
                    "latency_days": round(days, 1),
                }
            )
    count = len(rows)
    shown = rows if limit is None else rows[:limit]
    return Finding(
        3,
        "opt_out_latency",
        "Opt-outs not honoured within 10 business days",
        count,
        shown,
        {
            "opt_outs_followed_by_marketing": len(latencies),
            "longest_latency_days": round(max(latencies), 1) if latencies else 0,
        },
        truncated=len(shown) < count,
    )


def _stale(session: Session, until: datetime, limit: int | None) -> Finding:
    g = EVENTS.alias()
    later = EVENTS.alias()
    n = NOTICES.alias()
    superseded = (
        exists()
        .where(
            later.c.contact_id == g.c.contact_id,
            later.c.purpose_id == g.c.purpose_id,
            or_(later.c.channel == g.c.channel, later.c.channel == "any"),
            later.c.occurred_at <= until,
            or_(
                later.c.occurred_at > g.c.occurred_at,
                and_(later.c.occurred_at == g.c.occurred_at, later.c.seq > g.c.seq),
            ),
        )
        .correlate(g)
    )
    newest_notice = (
        select(func.max(n.c.version))
        .where(n.c.purpose_id == g.c.purpose_id, n.c.published_at <= until)
        .correlate(g)
        .scalar_subquery()
    )
    expired = g.c.expires_at <= until
    outdated = NOTICES.c.version < newest_notice
    where = and_(
        g.c.action == ConsentAction.grant.value,
        g.c.occurred_at <= until,
        ~superseded,
        or_(expired, outdated),
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
            newest_notice,
            expired,
        )
        .join(PURPOSES, PURPOSES.c.id == g.c.purpose_id)
        .outerjoin(NOTICES, NOTICES.c.id == g.c.notice_id)
        .where(where)
    )
    count = int(session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    query = base.order_by(g.c.occurred_at)
    if limit is not None:
        query = query.limit(limit)
    rows = [
        {
            "event_id": r[0],
            "contact_id": r[1],
            "purpose": r[2],
            "channel": str(r[3]),
            "granted_at": _iso(r[4]),
            "expires_at": _iso(r[5]),
            "notice_version": r[6],
            "current_notice_version": r[7],
            "problem": "past refresh period" if r[8] else "notice changed since",
        }
        for r in session.execute(query).all()
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
    prior_sale = (
        exists()
        .where(
            s.c.contact_id == g.c.contact_id,
            s.c.occurred_at < g.c.occurred_at,
            or_(s.c.purpose == Purpose.sales.value, s.c.deal_id.is_not(None)),
        )
        .correlate(g)
    )
    base = (
        select(g.c.id, g.c.contact_id, PURPOSES.c.code, g.c.channel, g.c.occurred_at)
        .join(PURPOSES, PURPOSES.c.id == g.c.purpose_id)
        .where(
            PURPOSES.c.lawful_basis == LawfulBasis.soft_opt_in.value,
            g.c.action == ConsentAction.grant.value,
            g.c.occurred_at >= since,
            g.c.occurred_at < until,
            ~prior_sale,
        )
    )
    count = int(session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    query = base.order_by(g.c.occurred_at)
    if limit is not None:
        query = query.limit(limit)
    rows = [
        {
            "event_id": r[0],
            "contact_id": r[1],
            "purpose": r[2],
            "channel": str(r[3]),
            "granted_at": _iso(r[4]),
        }
        for r in session.execute(query).all()
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
    for req in requests:
        done = req.completed_at.date() if req.completed_at else None
        if done is not None:
            durations.append((done - req.received_on).days)
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
                    "status": str(req.status)
                    if done or req.status != RequestStatus.open
                    else "overdue",
                }
            )
    summary = {
        "requests": len(requests),
        "completed": len(durations),
        "median_days_to_complete": statistics.median(durations) if durations else None,
        "longest_days_to_complete": max(durations) if durations else None,
    }
    return Finding(
        6, "requests", "Data-subject requests past their deadline", len(rows), rows, summary
    )


def _integrity(session: Session) -> Finding:
    rows = []
    for name, report in (
        ("consent ledger", verify_ledger(session=session)),
        ("audit log", verify_chain(session=session)),
    ):
        rows.append(
            {
                "chain": name,
                "intact": report.ok,
                "events_verified": report.checked,
                "problem": report.reason,
            }
        )
    broken = sum(1 for r in rows if not r["intact"])
    return Finding(7, "integrity", "Hash chains of the ledger and the audit log", broken, rows)


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
) -> AuditReport:
    """Compute every finding for the period (privacy officers and administrators)."""
    require_role(actor, *AUDITORS, doing="run the consent audit")
    start, end = period_bounds(since, until)
    now = utcnow()
    as_of = min(end, now)
    findings = [
        _coverage(session, start, end, row_limit),
        _violations(session, start, end, row_limit),
        _latency(session, start, end, row_limit),
        _stale(session, as_of, row_limit),
        _soft_opt_in(session, start, end, row_limit),
        _requests(session, start, end, now.date()),
        _integrity(session),
    ]
    trend = violations_by_month(session=session, since=start, until=end)
    record(
        session=session,
        actor=actor,
        action="consent.audit",
        entity="consent_audit",
        details={"since": start.isoformat(), "until": end.isoformat()},
    )
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
    found = _violations(session, end - timedelta(days=days), end, None)
    return found.count, found.rows[-limit:][::-1]
