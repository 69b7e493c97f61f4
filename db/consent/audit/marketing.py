"""Audit findings about marketing messages: coverage, violations, opt-out latency."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select
from sqlmodel import Session

from db.consent.audit.findings import (
    CONTACTS,
    EVENTS,
    INTERACTIONS,
    USERS,
    Finding,
    consent_channel_sql,
    covering_events,
    iso,
    month_of,
    outbound_marketing,
)
from db.core.deadlines import opt_out_deadline
from db.models.consent import (
    ConsentAction,
)


def _violation_query(since: datetime, until: datetime) -> tuple[Any, Any, Any]:
    """(where-clause, reason expression, interaction alias) for finding 2."""
    i = INTERACTIONS.alias()
    g, w, o, last = (EVENTS.alias() for _ in range(4))
    channel = consent_channel_sql(i.c.channel)

    def on_channel(e: Any) -> Any:
        return or_(cast(e.c.channel, String) == channel, e.c.channel == "any")

    # Marketing purposes are joined (covering_events), not IN-listed: see there why.
    objected = (
        select(literal(1))
        .select_from(covering_events(o))
        .where(
            o.c.contact_id == i.c.contact_id,
            o.c.action == ConsentAction.object.value,
            on_channel(o),
            o.c.occurred_at <= i.c.occurred_at,
        )
        .correlate(i)
        .exists()
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
        select(literal(1))
        .select_from(covering_events(g))
        .where(
            g.c.contact_id == i.c.contact_id,
            g.c.action == ConsentAction.grant.value,
            on_channel(g),
            g.c.occurred_at <= i.c.occurred_at,
            g.c.expires_at > i.c.occurred_at,
            ~revoked_after,
        )
        .correlate(i)
        .exists()
    )
    latest_action = (
        select(last.c.action)
        .select_from(covering_events(last))
        .where(
            last.c.contact_id == i.c.contact_id,
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
        *outbound_marketing(i),
        i.c.occurred_at >= since,
        i.c.occurred_at < until,
        or_(objected, ~valid),
    )
    return where, reason, i


def violations_finding(
    session: Session, since: datetime, until: datetime, limit: int | None
) -> Finding:
    where, reason, i = _violation_query(since, until)
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
            func.count().over().label("total"),
            func.count(i.c.override_reason).over().label("overridden"),
        )
        .join(CONTACTS, CONTACTS.c.id == i.c.contact_id)
        .outerjoin(USERS, USERS.c.id == i.c.user_id)
        .where(where)
        .order_by(i.c.occurred_at, i.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = session.execute(query).all()
    count = int(found[0][9]) if found else 0
    overridden = int(found[0][10]) if found else 0
    rows = [
        {
            "interaction_id": r[0],
            "contact_id": r[1],
            "contact": f"{r[2]} {r[3]}".strip(),
            "sent_at": iso(r[4]),
            "channel": str(r[5]),
            "sender": r[6] or "",
            "override_reason": r[7] or "",
            "reason": r[8],
        }
        for r in found
    ]
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
    month = month_of(i.c.occurred_at, session.get_bind().dialect.name)
    rows = session.execute(
        select(month, func.count()).select_from(i).where(where).group_by(month).order_by(month)
    ).all()
    return [{"month": f"{m}-01", "violations": int(n)} for m, n in rows]


def trend_from_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Violations per calendar month from a complete list of violation rows."""
    months: dict[str, int] = {}
    for row in rows:
        month = str(row["sent_at"])[:7]
        months[month] = months.get(month, 0) + 1
    return [{"month": f"{m}-01", "violations": n} for m, n in sorted(months.items())]


def coverage_finding(
    session: Session, since: datetime, until: datetime, limit: int | None
) -> Finding:
    i = INTERACTIONS.alias()
    e = EVENTS.alias()
    where = and_(
        *outbound_marketing(i),
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
    # The total comes with the rows (a window count), not from a second pass.
    query = (
        select(
            grouped.c.contact_id,
            CONTACTS.c.given_name,
            CONTACTS.c.family_name,
            grouped.c.messages,
            grouped.c.last,
            func.count().over().label("total"),
        )
        .join(CONTACTS, CONTACTS.c.id == grouped.c.contact_id)
        .order_by(grouped.c.contact_id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = session.execute(query).all()
    count = int(found[0][5]) if found else 0
    rows = [
        {
            "contact_id": r[0],
            "contact": f"{r[1]} {r[2]}".strip(),
            "marketing_messages": int(r[3]),
            "last_sent_at": iso(r[4]),
        }
        for r in found
    ]
    return Finding(
        1,
        "coverage",
        "Contacted for marketing with no consent record at all",
        count,
        rows,
        truncated=limit is not None and count > len(rows),
    )


def latency_finding(
    session: Session, since: datetime, until: datetime, limit: int | None
) -> Finding:
    r = EVENTS.alias()
    m = INTERACTIONS.alias()
    g = EVENTS.alias()
    m_channel = consent_channel_sql(m.c.channel)
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
            *outbound_marketing(m),
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
        .select_from(covering_events(r))
        .where(
            r.c.action.in_([ConsentAction.withdraw.value, ConsentAction.object.value]),
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
                    "opted_out_at": iso(opted_out_at),
                    "last_marketing_at": iso(last_sent_at),
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
