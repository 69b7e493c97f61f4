"""A refresh of the stored duplicates run after random renames, new emails, erasures,
deletions and merges, among contacts crowded into shared blocks, equals a full run of the
matcher with the stored model; and it reads only the changed contacts' blocks."""

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session

import db.duplicates.report
from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.report_cache import loads
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.duplicates.blocks import key_hash
from db.duplicates.matching import DEFAULT_MIN_SCORE, WINDOW, match_records
from db.duplicates.merge import merge_contacts
from db.duplicates.report import (
    PairsRun,
    contact_records,
    duplicate_pairs_report,
    pairs_need_full_run,
)
from db.models.auth import User
from db.models.people import Contact, ContactCreate, ContactUpdate
from db.models.reports import ContactBlock, ReportCache
from db.people.contacts import create_contact, update_contact

# Few names and postcodes, so that name and postcode blocks hold more than WINDOW contacts
# and are compared by name-order neighbours: a change there moves other pairs in and out.
GIVEN = ("Adaeze", "Adam", "Ada", "Bola", "Chidi", "Grace", "Graham")
FAMILY = ("Okonkwo", "Okonkwu", "Smith", "Smyth", "Reid")
POSTCODES = ("LS1 4AP", "LS1 4AB", "M1 1AE")


def _admin(session: Session) -> User:
    found = get_user_by_username(session=session, username="admin")
    assert found is not None
    return found


def _details(rng: random.Random) -> dict[str, Any]:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    return {
        "given_name": given,
        "family_name": family,
        "email": rng.choice([None, f"{given}.{family}{rng.randrange(30)}@example.org".lower()]),
        "postcode": rng.choice(POSTCODES),
        "phone": rng.choice([None, f"+44770090{rng.randrange(40):04d}"]),
    }


def _create(session: Session, rng: random.Random) -> int:
    contact = create_contact(
        session=session, contact_in=ContactCreate(**_details(rng)), actor=OPERATOR
    )
    return contact.id or 0


def _stored(session: Session, actor: User) -> PairsRun:
    row = session.get(ReportCache, f"duplicate-runs:{actor.id}:{DEFAULT_MIN_SCORE:.4f}")
    assert row is not None
    run = loads(row.payload)
    assert isinstance(run, PairsRun) and run.model is not None and run.crowded is not None
    return run


def _full_run(session: Session, actor: User, run: PairsRun) -> set[tuple[int, int, float, str]]:
    records = contact_records(session=session, actor=actor)
    pairs = set()
    for m in match_records(records, model=run.model).matches:
        a, b = sorted((records[m.left]["id"], records[m.right]["id"]))
        pairs.add((a, b, m.score, "; ".join(m.reasons)))
    return pairs


def _live(session: Session, ids: list[int]) -> list[int]:
    return [
        i
        for i in ids
        if (c := session.get(Contact, i)) and c.merged_into_id is None and c.erased_at is None
    ]


def _change(session: Session, rng: random.Random, admin: User, ids: list[int]) -> None:
    kind = rng.choice(["create", "rename", "email", "erase", "delete", "merge"])
    if kind == "create":
        ids.append(_create(session, rng))
        return
    live = _live(session, ids)
    contact = session.get(Contact, rng.choice(live))
    assert contact is not None
    table = Contact.__table__  # type: ignore[attr-defined]
    if kind in ("rename", "email"):
        details = _details(rng)
        fields = ("given_name", "family_name") if kind == "rename" else ("email",)
        patch = ContactUpdate(**{f: details[f] for f in fields})
        update_contact(
            session=session,
            contact_id=contact.id or 0,
            patch=patch,
            version=contact.version,
            actor=admin,
        )
    elif kind == "erase":
        # What erasure does to the fields matching reads.
        session.execute(
            update(table)
            .where(table.c.id == contact.id)
            .values(
                given_name="Erased",
                family_name=f"person #{contact.id}",
                email=None,
                phone=None,
                postcode=None,
                erased_at=utcnow(),
                updated_at=utcnow(),
                version=contact.version + 1,
            )
        )
        session.commit()
    elif kind == "delete":
        # As undoing an import removes the contacts it created.
        session.execute(delete(table).where(table.c.id == contact.id))
        session.commit()
    else:
        survivor, merged = rng.sample(live, 2)
        merge_contacts(session=session, survivor_id=survivor, merged_id=merged, actor=admin)


def _world(session: Session, rng: random.Random, size: int) -> tuple[User, list[int]]:
    """The demo users and `size` contacts, entered an hour ago (before any run's margin)."""
    seed_users(session=session)
    ids = [_create(session, rng) for _ in range(size)]
    table = Contact.__table__  # type: ignore[attr-defined]
    session.execute(update(table).values(updated_at=utcnow() - timedelta(hours=1)))
    session.commit()
    return _admin(session), ids


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_a_refresh_after_random_changes_in_crowded_blocks_equals_a_full_run(
    session: Session, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    admin, ids = _world(session, rng, 90)
    duplicate_pairs_report(session=session, actor=admin)
    first = _stored(session, admin)
    crowded = [ids.split(",") for ids in first.crowded.values()]  # type: ignore[union-attr]
    assert crowded and all(len(members) > WINDOW for members in crowded)
    row = session.get(ContactBlock, (key_hash(next(iter(first.crowded or {}))), int(crowded[0][0])))
    assert row is not None and row.key == next(iter(first.crowded or {}))
    calls: list[dict[str, Any]] = []
    real = db.duplicates.report.match_records

    def spy(records: Any, **kwargs: Any) -> Any:
        calls.append({"records": len(records), **kwargs})
        return real(records, **kwargs)

    monkeypatch.setattr(db.duplicates.report, "match_records", spy)
    for _round in range(6):
        for _ in range(rng.randint(1, 3)):
            _change(session, rng, admin, ids)
        assert not pairs_need_full_run(session=session, actor=admin)
        refreshed = duplicate_pairs_report(session=session, actor=admin)
        stored = _stored(session, admin)
        assert stored.model == first.model
        got = {(p.left_id, p.right_id, p.score, "; ".join(p.reasons)) for p in refreshed}
        assert got == _full_run(session, admin, stored)
        # The refresh compared the candidates of the changed contacts, not every contact.
        assert calls[-1]["candidates"] is not None
        assert calls[-1]["records"] < len(contact_records(session=session, actor=admin))
        # The crowded blocks it keeps are those a full run finds.
        records = contact_records(session=session, actor=admin)
        full = real(records, model=stored.model)
        assert stored.crowded == {
            key: ",".join(str(records[i]["id"]) for i in ordered)
            for key, ordered in full.crowded.items()
        }


def test_a_visit_with_blocks_never_built_recomputes_every_pair(session: Session) -> None:
    rng = random.Random(5)
    admin, _ids = _world(session, rng, 20)
    duplicate_pairs_report(session=session, actor=admin)
    assert not pairs_need_full_run(session=session, actor=admin)
    session.execute(delete(ContactBlock.__table__))  # type: ignore[attr-defined]
    from db.models.auth import AppMeta

    marker = session.get(AppMeta, "contact-blocks-synced-at")
    assert marker is not None
    session.delete(marker)
    session.commit()
    _create(session, rng)
    assert pairs_need_full_run(session=session, actor=admin)
    duplicate_pairs_report(session=session, actor=admin)
    assert session.get(AppMeta, "contact-blocks-synced-at") is not None
    assert not pairs_need_full_run(session=session, actor=admin)
