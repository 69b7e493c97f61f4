"""Reverting an import never loses what was done since: records it created are checked
as much as records it updated, and the refusal names them."""

import pytest
from sqlmodel import Session, select

from db.auth.accounts import get_user_by_username
from db.core.errors import Conflict
from db.demo.fixtures import seed_users
from db.imports.batches import revert_batch, run_import
from db.models.people import Contact, ContactUpdate
from db.people.contacts import update_contact

THREE = (
    b"given_name,family_name,email,notes\n"
    b"Ana,Silva,ana@example.org,\nBen,Okafor,ben@example.org,\nCai,Li,cai@example.org,\n"
)


@pytest.fixture
def admin(session: Session) -> object:
    seed_users(session=session)
    return get_user_by_username(session=session, username="admin")


def emails(session: Session) -> set[str]:
    session.expire_all()
    return {c.email or "" for c in session.exec(select(Contact)).all()}


def test_a_created_contact_edited_since_stops_the_revert_and_is_named(
    session: Session, admin: object
) -> None:
    batch = run_import(session=session, actor=admin, kind="contacts", data=THREE, filename="a.csv")
    assert batch.created == 3 and batch.batch_id is not None
    ben = session.exec(select(Contact).where(Contact.email == "ben@example.org")).one()
    update_contact(
        session=session,
        contact_id=ben.id or 0,
        patch=ContactUpdate(notes="Called on Monday: wants a visit in March."),
        version=ben.version,
        actor=admin,  # type: ignore[arg-type]
    )
    with pytest.raises(Conflict, match=rf"contact {ben.id} \(Ben Okafor\)") as refused:
        revert_batch(session=session, batch_id=batch.batch_id, actor=admin)  # type: ignore[arg-type]
    assert "Nothing was reverted" in str(refused.value)
    session.rollback()
    assert emails(session) == {"ana@example.org", "ben@example.org", "cai@example.org"}
    kept = session.get(Contact, ben.id)
    assert kept is not None and kept.notes == "Called on Monday: wants a visit in March."


def test_a_later_import_that_updated_the_created_contacts_stops_the_first_ones_revert(
    session: Session, admin: object
) -> None:
    first = run_import(session=session, actor=admin, kind="contacts", data=THREE, filename="a.csv")
    update = b"given_name,family_name,email,job_title\nAna,Silva,ana@example.org,Matron\n"
    second = run_import(
        session=session,
        actor=admin,
        kind="contacts",
        data=update,
        filename="b.csv",
        update_by="email",
    )
    assert second.updated == 1 and first.batch_id is not None
    with pytest.raises(Conflict, match="changed after the import"):
        revert_batch(session=session, batch_id=first.batch_id, actor=admin)  # type: ignore[arg-type]
    session.rollback()
    assert len(emails(session)) == 3


def test_an_untouched_batch_still_reverts(session: Session, admin: object) -> None:
    batch = run_import(session=session, actor=admin, kind="contacts", data=THREE, filename="a.csv")
    assert batch.batch_id is not None
    revert_batch(session=session, batch_id=batch.batch_id, actor=admin)  # type: ignore[arg-type]
    assert emails(session) == set()


def test_imports_revert_newest_first_and_an_edit_in_between_still_stops_the_older(
    session: Session, admin: object
) -> None:
    first = run_import(session=session, actor=admin, kind="contacts", data=THREE, filename="a.csv")
    update = b"given_name,family_name,email,job_title\nAna,Silva,ana@example.org,Matron\n"
    second = run_import(
        session=session,
        actor=admin,
        kind="contacts",
        data=update,
        filename="b.csv",
        update_by="email",
    )
    assert first.batch_id is not None and second.batch_id is not None
    revert_batch(session=session, batch_id=second.batch_id, actor=admin)  # type: ignore[arg-type]
    ana = session.exec(select(Contact).where(Contact.email == "ana@example.org")).one()
    assert ana.job_title is None
    update_contact(
        session=session,
        contact_id=ana.id or 0,
        patch=ContactUpdate(notes="Prefers email."),
        version=ana.version,
        actor=admin,  # type: ignore[arg-type]
    )
    with pytest.raises(Conflict, match=rf"contact {ana.id} \(Ana Silva\)"):
        revert_batch(session=session, batch_id=first.batch_id, actor=admin)  # type: ignore[arg-type]
    session.rollback()
    assert len(emails(session)) == 3


def test_a_created_record_that_something_else_now_points_at_stops_the_revert(
    session: Session, admin: object
) -> None:
    batch = run_import(session=session, actor=admin, kind="contacts", data=THREE, filename="a.csv")
    ben = session.exec(select(Contact).where(Contact.email == "ben@example.org")).one()
    pointer = Contact(given_name="Ben", family_name="Okafor", merged_into_id=ben.id)
    session.add(pointer)
    session.commit()
    with pytest.raises(Conflict, match=rf"Contact {ben.id} is now used by contact {pointer.id}"):
        revert_batch(session=session, batch_id=batch.batch_id or 0, actor=admin)  # type: ignore[arg-type]
    session.rollback()
    assert emails(session) == {"ana@example.org", "ben@example.org", "cai@example.org", ""}
