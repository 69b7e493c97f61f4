"""One file imported on SQLite (multi-row INSERT) and PostgreSQL (COPY) stores the same.

PostgreSQL takes an import's new contacts, tags and batch items by COPY; the values must
come out as an INSERT would have stored them, text that COPY's format escapes included."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bench.import_file import HEADERS, contact_rows
from db.auth.accounts import get_user_by_username
from db.core.spreadsheets import rows_csv
from db.demo.fixtures import seed_users
from db.imports.batches import revert_batch, run_import
from db.models.imports import ImportItem
from db.models.people import Contact, ContactTag, Organisation
from tests.conftest import backends, drop_postgres_schema, fresh_engine

HOSTILE = [
    "tab\there",
    "two\nlines",
    "back\\slash \\N \\. end",
    'quote " and, comma',
    "nul\x00gone",
    "=SUM(A1)",
    "Zoë Ünïcødé 名前 🙂",
    "",
]


def the_file() -> bytes:
    rows = contact_rows(
        1500, seed=7, existing_emails=["ana@example.org"], existing_organisations=["Leeds Care"]
    )
    for n, row in enumerate(rows):
        row.append(HOSTILE[n % len(HOSTILE)])
    return rows_csv([*HEADERS, "notes"], rows).encode("utf-8")


def stored(session: Session) -> dict[str, Any]:
    """Everything the import wrote, without the ids each database gave."""
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    tags: dict[int, list[str]] = {}
    for tag in session.exec(select(ContactTag)).all():
        tags.setdefault(tag.contact_id, []).append(tag.tag)
    contacts = sorted(
        (
            c.given_name,
            c.family_name,
            c.email or "",
            c.phone or "",
            c.country or "",
            c.job_title or "",
            c.notes or "",
            orgs.get(c.organisation_id, ""),
            ";".join(sorted(tags.get(c.id or 0, []))),
            c.version,
            c.kind.value,
        )
        for c in session.exec(select(Contact)).all()
    )
    items = Counter((i.entity, i.action) for i in session.exec(select(ImportItem)).all())
    return {"contacts": contacts, "organisations": sorted(orgs.values()), "items": items}


def import_on(engine: Engine) -> tuple[dict[str, Any], dict[str, Any], str]:
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed_users(session=session)
        admin = get_user_by_username(session=session, username="admin")
        session.add(Organisation(name="Leeds Care"))
        session.add(Contact(given_name="Ana", family_name="Silva", email="ana@example.org"))
        session.commit()
        result = run_import(
            session=session, actor=admin, kind="contacts", data=the_file(), filename="c.csv"
        )  # type: ignore[arg-type]
        session.expire_all()
        after_import = stored(session)
        revert_batch(session=session, batch_id=result.batch_id or 0, actor=admin)  # type: ignore[arg-type]
        session.expire_all()
        after_revert = stored(session)
    return after_import, after_revert, result.summary()


@pytest.mark.skipif("postgresql" not in backends(), reason="needs RAPPORT_TEST_POSTGRES_URL")
def test_an_import_and_its_revert_store_the_same_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    outcomes = {}
    for backend in ("sqlite", "postgresql"):
        engine, schema = fresh_engine(backend, tmp_path)
        try:
            outcomes[backend] = import_on(engine)
        finally:
            if schema:
                drop_postgres_schema(engine, schema)
            else:
                engine.dispose()
    lite, pg = outcomes["sqlite"], outcomes["postgresql"]
    assert lite[2] == pg[2], "the same summary"
    assert "created 14" in lite[2] and "updated" in lite[2]
    assert lite[0] == pg[0], "the same contacts, organisations, tags and batch items"
    notes = {c[6] for c in lite[0]["contacts"]}
    assert {"nulgone", "back\\slash \\N \\. end", "Zoë Ünïcødé 名前 🙂"} <= notes
    assert lite[1] == pg[1], "the same world after the revert"
    assert [c[:2] for c in lite[1]["contacts"]] == [("Ana", "Silva")]
