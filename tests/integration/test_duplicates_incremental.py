"""The stored duplicates run, brought up to date after random creates, edits and merges,
equals a full run of the matcher over the same contacts with the same model."""

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session

import db.duplicates.report
from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.report_cache import loads
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.duplicates.matching import DEFAULT_MIN_SCORE, match_records
from db.duplicates.merge import merge_contacts
from db.duplicates.report import (
    PairsRun,
    contact_records,
    duplicate_pairs_report,
    pairs_need_full_run,
)
from db.models.auth import User
from db.models.people import Contact, ContactCreate, ContactUpdate
from db.models.reports import ReportCache
from db.people.contacts import create_contact, update_contact

GIVEN = ("Adaeze", "Bola", "Chidi", "Dara", "Eilidh", "Femi", "Grace", "Hamish", "Ines")
FAMILY = ("Okonkwo", "Lindqvist", "Smith", "Ibe", "Macleod", "Adeyemi", "Novak", "Reid")
POSTCODES = ("LS1 4AP", "M1 1AE", "EH1 2NG", "G2 3QX", "CF10 1AA")


def _admin(session: Session) -> User:
    found = get_user_by_username(session=session, username="admin")
    assert found is not None
    return found


def _people(rng: random.Random) -> list[dict[str, Any]]:
    """A dozen people, each of whom is entered several times, a little differently."""
    people = []
    for n in range(12):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        people.append(
            {
                "given_name": given,
                "family_name": family,
                "email": f"{given}.{family}{n}@example.org".lower(),
                "postcode": rng.choice(POSTCODES),
                "date_of_birth": date(1950 + n * 3, 1 + n % 12, 1 + n * 2),
                "phone": f"+4477009001{n:02d}",
            }
        )
    return people


def _details(rng: random.Random, people: list[dict[str, Any]]) -> dict[str, Any]:
    """One person's details with a field or two missing or misspelt."""
    details = dict(rng.choice(people))
    for field in rng.sample(["email", "postcode", "date_of_birth", "phone"], rng.randint(0, 2)):
        details[field] = None
    if rng.random() < 0.3:
        name = details["family_name"]
        i = rng.randrange(len(name) - 1)
        details["family_name"] = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return details


def _create(session: Session, rng: random.Random, people: list[dict[str, Any]]) -> int:
    contact = create_contact(
        session=session, contact_in=ContactCreate(**_details(rng, people)), actor=OPERATOR
    )
    return contact.id or 0


def _full_run_pairs(session: Session, actor: User, run: PairsRun) -> set[tuple[int, int, float]]:
    """A full run over the live contacts with the stored run's model, as id pairs."""
    records = contact_records(session=session, actor=actor)
    found = match_records(records, model=run.model).matches
    pairs = set()
    for m in found:
        a, b = sorted((records[m.left]["id"], records[m.right]["id"]))
        pairs.add((a, b, m.score))
    return pairs


def _stored(session: Session, actor: User) -> PairsRun:
    row = session.get(ReportCache, f"duplicate-runs:{actor.id}:{DEFAULT_MIN_SCORE:.4f}")
    assert row is not None
    run = loads(row.payload)
    assert isinstance(run, PairsRun) and run.model is not None
    return run


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_incremental_run_equals_a_full_run_after_random_changes(
    session: Session, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    seed_users(session=session)
    admin = _admin(session)
    people = _people(rng)
    ids = [_create(session, rng, people) for _ in range(40)]
    # The contacts were entered an hour ago, so the first run's clock margin leaves them out.
    table = Contact.__table__  # type: ignore[attr-defined]
    session.execute(update(table).values(updated_at=utcnow() - timedelta(hours=1)))
    session.commit()
    assert pairs_need_full_run(session=session, actor=admin)
    duplicate_pairs_report(session=session, actor=admin)
    assert not pairs_need_full_run(session=session, actor=admin)
    first = _stored(session, admin)
    model = first.model
    assert len(first.pairs) >= 20, "the contacts hold many people entered twice"
    seen: list[set[int] | None] = []
    real = db.duplicates.report.match_records

    def spy(records: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("fresh"))
        return real(records, **kwargs)

    monkeypatch.setattr(db.duplicates.report, "match_records", spy)
    for _round in range(4):
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["create", "edit", "merge"])
            if kind == "create":
                ids.append(_create(session, rng, people))
                continue
            live = [i for i in ids if (c := session.get(Contact, i)) and c.merged_into_id is None]
            if kind == "edit":
                contact = session.get(Contact, rng.choice(live))
                assert contact is not None
                field, value = rng.choice(list(_details(rng, people).items()))
                update_contact(
                    session=session,
                    contact_id=contact.id or 0,
                    patch=ContactUpdate(**{field: value}),
                    version=contact.version,
                    actor=admin,
                )
            else:
                survivor, merged = rng.sample(live, 2)
                merge_contacts(session=session, survivor_id=survivor, merged_id=merged, actor=admin)
        refreshed = duplicate_pairs_report(session=session, actor=admin)
        stored = _stored(session, admin)
        assert stored.model == model, "a refresh keeps the model it rescores with"
        got = {(p.left_id, p.right_id, p.score) for p in refreshed}
        assert got == _full_run_pairs(session, admin, stored)
        assert len(got) >= 10
        fresh = seen[-1]
        assert fresh is not None, "the refresh started from the stored run"
        assert len(fresh) < len(contact_records(session=session, actor=admin))
