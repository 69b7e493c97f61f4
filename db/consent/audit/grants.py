"""Consent audit findings about the grants held: stale consent, unsupported soft opt-in."""

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlmodel import Session

from db.consent.audit.findings import (
    EVENTS,
    INTERACTIONS,
    NOTICES,
    PURPOSES,
    Finding,
    iso,
)
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    LawfulBasis,
)
from db.models.people import Purpose


def stale_finding(session: Session, until: datetime, limit: int | None) -> Finding:
    """Finding 4: consent grants that still stand but are older than the notice allows."""
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


def soft_opt_in_finding(
    session: Session, since: datetime, until: datetime, limit: int | None
) -> Finding:
    """Finding 5: soft opt-in grants with no prior sale or negotiation to rest on."""
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
