"""Shared parts of the consent audit: findings, tables and SQL helpers."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, literal

from db.consent.marketing import CHANNEL_MAP
from db.models.auth import Role, User
from db.models.consent import (
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    Notice,
    PrivacyRequest,
)
from db.models.people import Contact, Direction, Interaction, Purpose

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


def iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def consent_channel_sql(channel_column: Any) -> Any:
    """SQL: the consent channel governing an interaction channel (the mapping of
    db.consent.marketing.CHANNEL_MAP, so the audit and the check can never disagree)."""
    return case(
        *(
            (channel_column == channel.value, literal(consent.value))
            for channel, consent in CHANNEL_MAP.items()
        ),
        else_=literal(ConsentChannel.any.value),
    )


def covering_events(events: Any) -> Any:
    """FROM clause: `events` (a ledger alias) of purposes that cover marketing.

    Joined, never written `purpose_id IN (covering purposes)`: SQLite 3.40 answers that
    IN on the second column of the history index, followed by a range on `occurred_at`,
    with a "seek-scan" once the database has statistics (ANALYZE), and its seek-scan
    skips the range's end check on the next purpose, letting through events later than
    the bound. With a join each purpose is an equality seek and both plans agree."""
    covering = PURPOSES.alias()
    return events.join(
        covering, and_(covering.c.id == events.c.purpose_id, covering.c.covers_marketing.is_(True))
    )


def outbound_marketing(i: Any) -> list[Any]:
    return [i.c.purpose == Purpose.marketing.value, i.c.direction == Direction.outbound.value]


def month_of(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)
