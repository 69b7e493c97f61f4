"""Time the consent audit over a large ledger: python -m bench.consent_scale [--events N].

Builds (once) a SQLite world with `seed_scale` (scale 10: 100k contacts, 1M interactions)
plus a valid, hash-chained consent ledger of N events (default 1M), then times each
finding of the audit, the chain check (full, and incremental after a checkpoint) and
`manage.py consent-audit` as a subprocess, the way an operator runs it.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("RAPPORT_COOKIE_KEY", "bench-" + "k" * 40)

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from db.auth.actor import OPERATOR  # noqa: E402
from db.consent.ledger import evidence_digest, link_hash  # noqa: E402
from db.consent.records import add_months_dt, create_purpose, publish_notice  # noqa: E402
from db.core.engine import make_engine  # noqa: E402
from db.core.migrate import upgrade  # noqa: E402
from db.core.types import utcnow  # noqa: E402
from db.demo.bulk.rows import CHUNK  # noqa: E402
from db.demo.bulk.seed import seed_scale  # noqa: E402
from db.models.audit import GENESIS_HASH  # noqa: E402
from db.models.consent import (  # noqa: E402
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentHead,
    ConsentPurposeCreate,
    ConsentSource,
    LawfulBasis,
)
from db.models.people import Contact  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ConsentEvent.__table__  # type: ignore[attr-defined]
CONTACTS = Contact.__table__  # type: ignore[attr-defined]


def _purposes(session: Session) -> list[tuple[int, int, bool, list[tuple[int, datetime]]]]:
    """(purpose id, refresh months, marketing, [(notice id, published)]) for three purposes."""
    now = utcnow()
    made = []
    for code, basis, months, marketing in (
        ("marketing", LawfulBasis.consent, 24, True),
        ("customer-offers", LawfulBasis.soft_opt_in, 24, True),
        ("research", LawfulBasis.consent, 12, False),
    ):
        purpose = create_purpose(
            session=session,
            purpose_in=ConsentPurposeCreate(
                code=code,
                name=code.title(),
                lawful_basis=basis,
                refresh_months=months,
                covers_marketing=marketing,
            ),
            actor=OPERATOR,
        )
        notices = [
            publish_notice(
                session=session,
                purpose_id=purpose.id or 0,
                wording=f"{code}: wording {n}",
                actor=OPERATOR,
                published_at=now - timedelta(days=days),
            )
            for n, days in enumerate((1500, 300), start=1)
        ]
        made.append(
            (purpose.id or 0, months, marketing, [(n.id or 0, n.published_at) for n in notices])
        )
    return made


def _ledger(session: Session, total: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """`total` chained events: grants, withdrawals, objections and re-grants per person."""
    purposes = _purposes(session)
    contact_ids = list(session.execute(select(CONTACTS.c.id)).scalars())
    now = utcnow().replace(microsecond=0)
    channels = [ConsentChannel.email, ConsentChannel.email, ConsentChannel.any, ConsentChannel.sms]
    prev = GENESIS_HASH
    seq = 0
    while seq < total:
        cid = rng.choice(contact_ids)
        pid, months, marketing, notices = rng.choice(purposes)
        channel = rng.choice(channels)
        when = now - timedelta(minutes=rng.randint(60, 60 * 24 * 1400))
        steps = [ConsentAction.grant]
        roll = rng.random()
        if roll < 0.3:
            steps.append(ConsentAction.withdraw)
            if rng.random() < 0.3:
                steps.append(ConsentAction.grant)
        elif roll < 0.35 and marketing:
            steps.append(ConsentAction.object)
        for action in steps:
            if seq >= total:
                break
            seq += 1
            grant = action == ConsentAction.grant
            notice = max((n for n in notices if n[1] <= when), key=lambda n: n[1], default=None)
            row = {
                "seq": seq,
                "contact_id": cid,
                "purpose_id": pid,
                "channel": (
                    ConsentChannel.any if action == ConsentAction.object else channel
                ).value,
                "action": action.value,
                "notice_id": notice[0] if grant and notice else None,
                "source": ConsentSource.web_form.value,
                "evidence": None,
                "evidence_digest": evidence_digest(None),
                "recorded_by_id": None,
                "recorded_by_name": "operator",
                "occurred_at": when,
                "recorded_at": now,
                "expires_at": add_months_dt(when, months) if grant else None,
                "request_id": None,
                "prev_hash": prev,
            }
            row["hash"] = prev = link_hash(SimpleNamespace(**row), prev)
            yield row
            when = min(now, when + timedelta(minutes=rng.randint(60, 60 * 24 * 200)))
    session.merge(ConsentHead(id=1, seq=seq, last_hash=prev))


def build(path: Path, scale: float, events: int) -> None:
    """Migrate, seed the scale world, then bulk-insert the ledger."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    rng = random.Random(11)
    with Session(engine) as session:
        started = time.monotonic()
        counts = seed_scale(session=session, scale=scale)
        print(f"seeded {counts} in {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        chunk: list[dict[str, Any]] = []
        for row in _ledger(session, events, rng):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                session.execute(insert(EVENTS), chunk)
                chunk = []
        if chunk:
            session.execute(insert(EVENTS), chunk)
        session.commit()
        print(f"ledger of {events:,} events in {time.monotonic() - started:.0f} s", flush=True)
    engine.dispose()


def timed(label: str, action: Callable[[], Any]) -> Any:
    """Run `action`, print how long it took, return its result."""
    started = time.monotonic()
    result = action()
    print(f"  {label:<34} {time.monotonic() - started:7.2f} s", flush=True)
    return result


def measure(path: Path) -> None:
    """Time each finding in-process, then the operator command end to end."""
    from db.auth.audit import verify_chain
    from db.consent.audit.grants import soft_opt_in_finding, stale_finding
    from db.consent.audit.marketing import (
        coverage_finding,
        latency_finding,
        violations_by_month,
        violations_finding,
    )
    from db.consent.audit.report import period_bounds
    from db.consent.audit.requests import requests_finding

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        n = session.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        print(f"{path.name}: {n:,} consent events", flush=True)
        start, end = period_bounds(None, None)
        now = utcnow()
        timed("1 coverage", lambda: coverage_finding(session, start, end, None))
        timed("2 violations", lambda: violations_finding(session, start, end, None))
        timed("3 opt-out latency", lambda: latency_finding(session, start, end, None))
        timed("4 stale consent", lambda: stale_finding(session, min(end, now), None))
        timed("5 soft opt-in", lambda: soft_opt_in_finding(session, start, end, None))
        timed("6 requests", lambda: requests_finding(session, start, end, now.date()))
        timed("trend", lambda: violations_by_month(session=session, since=start, until=end))
        timed("7 audit log chain", lambda: verify_chain(session=session))
    engine.dispose()
    env = os.environ | {"RAPPORT_DATABASE_URL": f"sqlite:///{path}"}
    with tempfile.TemporaryDirectory() as out:
        # No checkpoint yet (a full walk that writes one), then incremental, then --full.
        for extra in ([], [], ["--full"]):
            command = [sys.executable, "manage.py", "consent-audit", "--out", f"{out}/a.json"]
            started = time.monotonic()
            done = subprocess.run(
                command + extra, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            took = time.monotonic() - started
            print(f"  manage.py consent-audit {' '.join(extra):<8} {took:7.2f} s", flush=True)
            print("    " + done.stdout.strip().replace("\n", "\n    "), flush=True)
            if done.returncode:
                print(done.stderr, file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Build the world if missing, then measure."""
    parser = argparse.ArgumentParser(prog="python -m bench.consent_scale", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--scale", type=float, default=10, help="seed_scale factor")
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "data" / "consent-1m.db")
    args = parser.parse_args(argv)
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        build(args.db, args.scale, args.events)
    measure(args.db)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
