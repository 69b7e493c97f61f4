"""An import's statements grow with its chunks, not its rows: the organisations that a
chunk's rows name for the first time go in together, with the chunk's contacts."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.demo.fixtures import seed_users
from db.imports.batches import revert_batch, run_import
from db.models.imports import ImportItem
from db.models.people import Contact, Organisation

ROWS = 60


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """Every statement the session's connection sends, as text."""
    sent: list[str] = []
    engine = session.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


def test_sixty_new_organisations_are_written_in_one_statement_and_revert(
    session: Session, statements: list[str]
) -> None:
    seed_users(session=session)
    admin = get_user_by_username(session=session, username="admin")
    session.add(Organisation(name="Held Ltd"))
    session.commit()
    lines = ["given_name,family_name,email,organisation"]
    lines += [f"P{n},Q{n},p{n}@example.org,Org {n % (ROWS // 2)}" for n in range(ROWS)]
    lines += ["Ana,Held,ana@example.org,held ltd"]
    statements.clear()
    result = run_import(
        session=session,
        actor=admin,  # type: ignore[arg-type]
        kind="contacts",
        data="\n".join(lines).encode(),
        filename="orgs.csv",
    )
    assert (result.created, result.rejected) == (ROWS + 1, [])
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO ORGANISATION")]
    assert len(inserts) <= 1, "one statement for the chunk's organisations (none: COPY)"
    session.expire_all()
    orgs = {o.id: o.name for o in session.exec(select(Organisation))}
    assert len(orgs) == ROWS // 2 + 1
    contacts = session.exec(select(Contact).order_by(col(Contact.id))).all()
    assert [orgs[c.organisation_id] for c in contacts[:3]] == ["Org 0", "Org 1", "Org 2"]
    assert orgs[contacts[-1].organisation_id] == "Held Ltd"
    created = session.exec(
        select(ImportItem.entity_id).where(ImportItem.entity == "organisation")
    ).all()
    assert sorted(created) == sorted(i for i, name in orgs.items() if name != "Held Ltd")
    revert_batch(session=session, batch_id=result.batch_id or 0, actor=admin)  # type: ignore[arg-type]
    session.expire_all()
    assert [o.name for o in session.exec(select(Organisation))] == ["Held Ltd"]
