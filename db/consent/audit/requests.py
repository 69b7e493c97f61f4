"""Consent audit finding about data-subject requests and their deadlines."""

import statistics
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from db.consent.audit.findings import (
    Finding,
)
from db.consent.requests import answered_on
from db.models.consent import (
    PrivacyRequest,
    RequestStatus,
)


def requests_finding(session: Session, since: datetime, until: datetime, today: date) -> Finding:
    """Finding 6: data-subject requests answered after, or still open past, their deadline."""
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
