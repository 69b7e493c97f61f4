"""Two reviewers claim one case at the same moment from two processes: exactly one wins."""

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, SQLModel, select

from db.auth.accounts import create_user
from db.auth.actor import OPERATOR
from db.cases.intake import submit_concern
from db.cases.review import claim_case
from db.core.engine import make_engine
from db.core.errors import Conflict
from db.models.auth import Role, User, UserCreate
from db.models.cases import Case, CaseEvent, ConcernCreate
from tests.conftest import IN_CI, POSTGRES_URL, ROOT, drop_postgres_schema, fresh_engine


def claim_in_child(schema: str, case_id: int, user_id: int, go_file: str) -> None:
    """Run in a child process: its own engine and connection, then claim when `go_file` appears."""
    engine = make_engine(POSTGRES_URL)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    with Session(engine, expire_on_commit=False) as session:
        user = session.get(User, user_id)
        session.exec(select(Case).where(Case.id == case_id)).one()  # connection is open
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while not Path(go_file).exists():
            time.sleep(0.001)
        try:
            claim_case(session=session, actor=user, case_id=case_id)
            sys.stdout.write("won\n")
        except Conflict:
            sys.stdout.write("lost\n")
    engine.dispose()


def test_two_processes_claiming_one_case_on_postgresql_yield_exactly_one_winner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("RAPPORT_TEST_POSTGRES_URL is required in CI")
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    monkeypatch.setenv("RAPPORT_RECEIPT_SCRYPT_LOG2N", "10")
    engine, schema = fresh_engine("postgresql", tmp_path)
    assert schema is not None
    try:
        SQLModel.metadata.create_all(engine)
        with Session(engine, expire_on_commit=False) as session:
            ids = []
            for name in ("ann", "bob"):
                user = create_user(
                    session=session,
                    user_in=UserCreate(
                        username=name,
                        display_name=name.title(),
                        email=f"{name}@example.org",
                        password="correct horse battery",
                        roles=[Role.reviewer],
                    ),
                    actor=OPERATOR,
                )
                ids.append(user.id)
            submitted = submit_concern(
                session=session,
                concern_in=ConcernCreate(category="misconduct", what_happened="Claims race"),
            )
            case_id = session.exec(
                select(Case.id).where(Case.reference == submitted.reference)
            ).one()
        go_file = tmp_path / "go"
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys; from tests.integration.test_case_claim_race import claim_in_child;"
                    " claim_in_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])",
                    schema,
                    str(case_id),
                    str(uid),
                    str(go_file),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for uid in ids
        ]
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        go_file.touch()  # both processes are connected and waiting: release them together
        outcomes = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            outcomes.append(out.strip())
        assert sorted(outcomes) == ["lost", "won"]
        with Session(engine) as session:
            case = session.get(Case, case_id)
            assert case is not None and case.assignee_id in ids
            assigned = session.exec(
                select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "assigned")
            ).all()
            assert [e.assignee_id for e in assigned] == [case.assignee_id]
    finally:
        drop_postgres_schema(engine, schema)
