"""The violations finding gives the same answer whatever plan the database picks.

SQLite 3.40 answered differently once the ledger had been ANALYZEd: with statistics it
scanned a contact's events purpose by purpose (its IN "seek-scan") and let through an
event later than the send time, so a grant given after a message made that message
look consented. Here the finding is compared, before and after ANALYZE, with the rule
worked out in plain Python from the rows.
"""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from db.consent.audit.marketing import violations_by_month, violations_finding
from db.consent.audit.report import period_bounds
from db.consent.marketing import consent_channel
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.models.consent import ConsentAction, ConsentChannel, ConsentEvent, ConsentPurpose
from db.models.people import Channel, Contact, Direction, Interaction, Purpose
from tests.integration.consent_helpers import consent, person, purpose, sent

GRANT, WITHDRAW, OBJECT = ConsentAction.grant, ConsentAction.withdraw, ConsentAction.object


def rule(session: Session, since: datetime, until: datetime) -> set[tuple[int, str]]:
    """(interaction id, reason) for every violation, straight from the audit's rule.

    An outbound marketing message is a violation when the person had objected before it
    (under a marketing purpose, on its channel or on any), or when no grant of a marketing
    purpose on its channel (or any) was given at or before the send, was unexpired then,
    and was not followed by a withdrawal or objection of that purpose before the send."""
    covering = {p.id for p in session.exec(select(ConsentPurpose)).all() if p.covers_marketing}
    events = [e for e in session.exec(select(ConsentEvent)).all() if e.purpose_id in covering]
    found: set[tuple[int, str]] = set()
    for message in session.exec(select(Interaction)).all():
        if message.purpose != Purpose.marketing or message.direction != Direction.outbound:
            continue
        if not since <= message.occurred_at < until:
            continue
        target = consent_channel(message.channel)
        before = sorted(
            (
                e
                for e in events
                if e.contact_id == message.contact_id
                and e.channel in (target, ConsentChannel.any)
                and e.occurred_at <= message.occurred_at
            ),
            key=lambda e: (e.occurred_at, e.seq),
        )

        def revoked(g: ConsentEvent, before: list[ConsentEvent] = before) -> bool:
            return any(
                w.purpose_id == g.purpose_id
                and w.action != GRANT
                and (w.occurred_at, w.seq) > (g.occurred_at, g.seq)
                for w in before
            )

        valid = any(
            g.action == GRANT
            and g.expires_at is not None
            and g.expires_at > message.occurred_at
            and not revoked(g)
            for g in before
        )
        if any(e.action == OBJECT for e in before):
            reason = "objected"
        elif valid:
            continue
        elif not before:
            reason = "never granted"
        elif before[-1].action == WITHDRAW:
            reason = "withdrawn"
        else:
            reason = "expired"
        found.add((message.id or 0, reason))
    return found


def audited(session: Session, since: datetime, until: datetime) -> set[tuple[int, str]]:
    finding = violations_finding(session, since, until, None)
    rows = {(int(r["interaction_id"]), str(r["reason"])) for r in finding.rows}
    assert finding.count == len(rows)
    by_month = violations_by_month(session=session, since=since, until=until)
    assert sum(m["violations"] for m in by_month) == finding.count
    return rows


@pytest.fixture
def statistics_dropped_afterwards(session: Session) -> Iterator[None]:
    """ANALYZE's statistics would outlive the test in the shared SQLite file; drop them."""
    yield
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()
        session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        session.commit()


def test_violations_are_the_same_with_and_without_planner_statistics(
    session: Session, statistics_dropped_afterwards: None
) -> None:
    seed_users(session=session)
    now = utcnow().replace(microsecond=0)
    rng = random.Random(434)
    marketing, v1 = purpose(session)
    offers, v2 = purpose(session, "customer-offers", months=3)
    research, v3 = purpose(session, "research", marketing=False, months=12)
    notices = {marketing.id: v1, offers.id: v2, research.id: v3}
    people: list[Contact] = [person(session, f"Person{n}", "Example") for n in range(30)]

    # The case found by hand on a large ledger: the only marketing grant, on the second
    # marketing purpose, came after the message; the email was never consented.
    late = people[0]
    consent(session, late, research, GRANT, now - timedelta(days=300), notice=v3)
    consent(session, late, marketing, GRANT, now - timedelta(days=250), ConsentChannel.sms, v1)
    consent(session, late, marketing, WITHDRAW, now - timedelta(days=120), ConsentChannel.sms)
    late_email = sent(session, late, now - timedelta(days=66))
    consent(session, late, offers, GRANT, now - timedelta(days=51), ConsentChannel.any, v2)

    # Everyone else: a random history over three purposes and four channels.
    for someone in people[1:]:
        for _ in range(rng.randint(0, 6)):
            made = rng.choice([marketing, offers, research])
            action = rng.choice(
                [GRANT, GRANT, GRANT, WITHDRAW, OBJECT if made != research else WITHDRAW]
            )
            channel = rng.choice([ConsentChannel.email, ConsentChannel.sms, ConsentChannel.any])
            when = now - timedelta(minutes=rng.randint(60, 60 * 24 * 400))
            notice = notices[made.id] if action == GRANT else None
            consent(session, someone, made, action, when, channel, notice)
        for _ in range(rng.randint(1, 4)):
            channel = rng.choice([Channel.email, Channel.email, Channel.sms, Channel.meeting])
            sent(session, someone, now - timedelta(minutes=rng.randint(60, 60 * 24 * 360)), channel)

    since, until = period_bounds(None, None)
    expected = rule(session, since, until)
    assert (late_email.id, "never granted") in expected
    assert {reason for _, reason in expected} == {
        "objected",
        "never granted",
        "withdrawn",
        "expired",
    }
    assert len(expected) < sum(
        1 for m in session.exec(select(Interaction)).all() if m.purpose == Purpose.marketing
    ), "some messages were properly consented"

    assert audited(session, since, until) == expected, "without statistics"
    session.execute(text("ANALYZE"))
    session.commit()
    assert audited(session, since, until) == expected, "after ANALYZE"
