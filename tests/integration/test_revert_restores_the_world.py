"""Reverting an import that created and updated contacts leaves every table as it was
before the import, field by field: only the updated contacts' versions move on (one for
each update undone, on top of one for each update made) and they name who reverted.
The refusals still refuse, and a refused revert changes nothing."""

from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, select

from db.auth.accounts import get_user_by_username
from db.core.errors import Conflict
from db.demo.fixtures import seed_users
from db.imports.batches import revert_batch, run_import
from db.models.audit import AuditEvent
from db.models.auth import User
from db.models.imports import ImportBatch
from db.models.people import (
    Channel,
    Contact,
    ContactTag,
    ContactUpdate,
    Direction,
    Interaction,
    Organisation,
    Purpose,
)
from db.people.contacts import update_contact

# Ana is updated twice (new organisation, country, phone, title and a tag; then the title
# again), Ben only gains a tag, Dee is created and then updated by a later row, Eve is
# created into an organisation the world holds; Kestrel Health is a new organisation.
FILE = (
    b"given_name,family_name,email,phone,organisation,country,tags,job_title\n"
    b"Ana,Silva,ana@example.org,+44 20 7946 0000,Kestrel Health,IE,donor;vip,Matron\n"
    b"Ben,Okafor,ben@example.org,,,,press,\n"
    b"Dee,Nwosu,dee@example.org,,Kestrel Health,,newsletter,\n"
    b"Ana,Silva,ana@example.org,,,,,Ward sister\n"
    b"Dee,Nwosu,dee@example.org,,,,,Director\n"
    b"Eve,Marsh,eve@example.org,,Leeds Care,FR,,\n"
)
# What an import and its revert record about themselves, rather than about the world.
LEDGERS = {"import_batch", "import_item", "audit_event", "audit_head"}
STAMPS = ("version", "updated_at", "updated_by_id")


def world(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the import and audit ledgers, in primary-key order."""
    session.expire_all()
    tables = {}
    for table in SQLModel.metadata.sorted_tables:
        if table.name in LEDGERS:
            continue
        order = list(table.primary_key.columns)
        rows = session.execute(table.select().order_by(*order)).mappings().all()
        tables[table.name] = [dict(row) for row in rows]
    return tables


def without_stamps(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    unstamped = dict(tables)
    unstamped["contact"] = [
        {k: v for k, v in row.items() if k not in STAMPS} for row in tables["contact"]
    ]
    return unstamped


def stamps(tables: dict[str, list[dict[str, Any]]], contact_id: int | None) -> tuple[Any, ...]:
    row = next(r for r in tables["contact"] if r["id"] == contact_id)
    return tuple(row[k] for k in STAMPS)


@pytest.fixture
def admin(session: Session) -> User:
    seed_users(session=session)
    found = get_user_by_username(session=session, username="admin")
    assert found is not None
    return found


@pytest.fixture
def ana(session: Session, admin: User) -> Contact:
    """A world of two organisations' worth of people; Ana has been edited once already."""
    leeds = Organisation(name="Leeds Care", domain="leedscare.example.org")
    session.add(leeds)
    session.flush()
    ana = Contact(
        given_name="Ana",
        family_name="Silva",
        email="ana@example.org",
        phone="+441132496000",
        country="GB",
        job_title="Nurse",
        notes="Prefers mornings.",
        organisation_id=leeds.id,
        owner_id=admin.id,
    )
    ben = Contact(given_name="Ben", family_name="Okafor", email="ben@example.org")
    cai = Contact(given_name="Cai", family_name="Li", email="cai@example.org", country="FR")
    session.add_all([ana, ben, cai])
    session.flush()
    session.add(ContactTag(contact_id=ana.id or 0, tag="donor"))
    session.commit()
    return update_contact(
        session=session,
        contact_id=ana.id or 0,
        patch=ContactUpdate(region="West Yorkshire"),
        version=ana.version,
        actor=admin,
    )


def imported(session: Session, admin: User) -> int:
    result = run_import(session=session, actor=admin, kind="contacts", data=FILE, filename="c")
    assert (result.created, result.updated, result.rejected) == (2, 4, [])
    assert result.batch_id is not None
    return result.batch_id


def by_email(session: Session, email: str) -> Contact:
    return session.exec(select(Contact).where(Contact.email == email)).one()


def test_a_reverted_import_that_created_and_updated_leaves_the_world_as_it_was(
    session: Session, admin: User, ana: Contact
) -> None:
    before = world(session)
    ben = by_email(session, "ben@example.org")
    batch_id = imported(session, admin)
    during = world(session)
    assert len(during["contact"]) == 5 and len(during["organisation"]) == 2
    kept = by_email(session, "ana@example.org")  # held by the session across the revert
    assert (kept.job_title, kept.country) == ("Ward sister", "IE")
    assert revert_batch(session=session, batch_id=batch_id, actor=admin) == 7
    assert (kept.job_title, kept.country, kept.version) == ("Nurse", "GB", 6), "not stale"
    after = world(session)
    assert without_stamps(after) == without_stamps(before)
    # Versions move on as when the updates were undone one by one: two updates of Ana
    # (version 2 -> 4) undone (-> 6), one of Ben (1 -> 2 -> 3).
    assert stamps(during, ana.id)[0] == 4 and stamps(during, ben.id)[0] == 2
    for contact, version in ((ana, 6), (ben, 3)):
        version_now, updated_at, updated_by = stamps(after, contact.id)
        assert (version_now, updated_by) == (version, admin.id)
        assert updated_at >= stamps(during, contact.id)[1]
    assert stamps(after, before["contact"][2]["id"]) == stamps(before, before["contact"][2]["id"])
    batch = session.get(ImportBatch, batch_id)
    assert batch is not None and batch.reverted_at is not None
    assert batch.reverted_by_name == "admin"
    audit = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert audit is not None and (audit.action, audit.entity_id) == ("import.revert", str(batch_id))
    assert '"items":7' in (audit.details or "").replace(" ", "")


def test_an_edit_since_the_import_still_refuses_the_revert_and_nothing_is_reverted(
    session: Session, admin: User, ana: Contact
) -> None:
    batch_id = imported(session, admin)
    ben = by_email(session, "ben@example.org")
    update_contact(
        session=session,
        contact_id=ben.id or 0,
        patch=ContactUpdate(notes="Called back."),
        version=ben.version,
        actor=admin,
    )
    during = world(session)
    with pytest.raises(Conflict, match=rf"contact {ben.id} \(Ben Okafor\) changed after"):
        revert_batch(session=session, batch_id=batch_id, actor=admin)
    session.rollback()
    assert world(session) == during
    assert session.get(ImportBatch, batch_id).reverted_at is None  # type: ignore[union-attr]


def test_a_record_the_import_did_not_create_pointing_at_one_it_did_refuses_the_revert(
    session: Session, admin: User, ana: Contact
) -> None:
    batch_id = imported(session, admin)
    dee = by_email(session, "dee@example.org")
    note = Interaction(
        contact_id=dee.id or 0,
        channel=Channel.phone,
        direction=Direction.outbound,
        purpose=Purpose.service,
        subject="Welcome call",
    )
    session.add(note)
    session.commit()
    during = world(session)
    with pytest.raises(Conflict, match=rf"Contact {dee.id} is now used by interaction {note.id}"):
        revert_batch(session=session, batch_id=batch_id, actor=admin)
    session.rollback()
    assert world(session) == during, "the updated contacts keep the imported values too"
    assert by_email(session, "ana@example.org").job_title == "Ward sister"
