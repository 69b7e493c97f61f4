"""A deleted record's id is never given to a new one, on SQLite as on PostgreSQL.

A reverted import deletes the contacts it created; if the next contact took the newest
one's id, older import items, merge audit entries and stored reports would name someone
else."""

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from db.auth.accounts import get_user_by_username
from db.core.migrate import upgrade
from db.demo.fixtures import seed_users
from db.imports.batches import revert_batch, run_import
from db.models.people import Contact, ContactTag
from tests.conftest import backends, drop_postgres_schema, fresh_engine

IMPORTED = ("organisation", "contact", "interaction", "deal", "stage_change", "employee")


@pytest.fixture
def admin(session: Session) -> object:
    seed_users(session=session)
    return get_user_by_username(session=session, username="admin")


def test_the_next_contact_after_the_newest_is_deleted_gets_a_new_id(session: Session) -> None:
    session.add(Contact(given_name="Ana", family_name="Silva"))
    newest = Contact(given_name="Ben", family_name="Okafor")
    session.add(newest)
    session.commit()
    deleted_id = newest.id or 0
    session.delete(newest)
    session.commit()
    after = Contact(given_name="Cai", family_name="Li")
    session.add(after)
    session.commit()
    assert (after.id or 0) > deleted_id


def test_a_reverted_imports_ids_are_not_given_to_the_next_import(
    session: Session, admin: object
) -> None:
    rows = b"given_name,family_name,email\nAna,Silva,ana@example.org\nBen,Okafor,ben@example.org\n"
    first = run_import(session=session, actor=admin, kind="contacts", data=rows, filename="a.csv")
    gone = {c.id for c in session.exec(select(Contact)).all()}
    assert first.created == 2 and first.batch_id is not None
    revert_batch(session=session, batch_id=first.batch_id, actor=admin)  # type: ignore[arg-type]
    session.expire_all()
    assert not session.exec(select(Contact)).all()
    again = run_import(session=session, actor=admin, kind="contacts", data=rows, filename="b.csv")
    assert again.created == 2
    new = {c.id for c in session.exec(select(Contact)).all()}
    assert len(new) == 2 and min(new) > max(i or 0 for i in gone)  # type: ignore[operator]
    hand = Contact(given_name="Cai", family_name="Li")
    session.add(hand)
    session.commit()
    assert (hand.id or 0) > max(i or 0 for i in new)  # type: ignore[operator]


@pytest.mark.parametrize("backend", backends())
def test_the_migration_rebuilds_the_tables_keeping_every_row_and_reference(
    backend: str, tmp_path: Path
) -> None:
    engine, schema = fresh_engine(backend, tmp_path)
    try:
        upgrade(engine, "0021_auth_attempts")
        with Session(engine) as session:
            ana = Contact(given_name="Ana", family_name="Silva")
            session.add(ana)
            session.flush()
            session.add(ContactTag(contact_id=ana.id or 0, tag="donor"))
            session.add(Contact(given_name="Ana", family_name="Silva", merged_into_id=ana.id))
            session.commit()
        upgrade(engine)
        with Session(engine) as session:
            assert session.exec(select(ContactTag.tag)).all() == ["donor"], "no cascade"
            assert len(session.exec(select(Contact)).all()) == 2
            if backend == "sqlite":
                for name in IMPORTED:
                    sql = session.execute(
                        text("SELECT sql FROM sqlite_master WHERE type='table' AND name=:n"),
                        {"n": name},
                    ).scalar_one()
                    assert "AUTOINCREMENT" in sql, name
                assert session.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            newest = session.exec(select(Contact).order_by(Contact.id.desc())).first()  # type: ignore[union-attr]
            assert newest is not None
            newest_id = newest.id or 0
            session.delete(newest)
            session.commit()
            after = Contact(given_name="Ben", family_name="Okafor")
            session.add(after)
            session.commit()
            assert (after.id or 0) > newest_id
    finally:
        if schema:
            drop_postgres_schema(engine, schema)
        else:
            engine.dispose()
