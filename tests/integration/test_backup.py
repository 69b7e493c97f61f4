"""Backups of a live database under writes restore with equal counts and a sound chain."""

import threading
from pathlib import Path

import pytest
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.auth.audit import record, verify_chain
from db.core.backup import backup, restore, table_counts
from db.core.errors import Conflict
from db.core.migrate import upgrade
from db.demo.fixtures import seed_users
from tests.conftest import backends, drop_postgres_schema, fresh_engine


def keep_writing(engine: object, stop: threading.Event) -> None:
    """Append audit events until told to stop, as a busy app would."""
    with Session(engine) as session:  # type: ignore[call-overload]
        while not stop.is_set():
            record(session=session, actor=OPERATOR, action="test.write", entity="load")
            session.commit()


@pytest.mark.parametrize("backend", backends())
def test_a_backup_taken_under_writes_restores_with_equal_counts(
    backend: str, tmp_path: Path
) -> None:
    live, live_schema = fresh_engine(backend, tmp_path / "live")
    target, target_schema = fresh_engine(backend, tmp_path / "target")
    try:
        upgrade(live)
        with Session(live) as session:
            seed_users(session=session)
        stop = threading.Event()
        writer = threading.Thread(target=keep_writing, args=(live, stop))
        writer.start()
        try:
            counts = backup(live, tmp_path / "backup.file")
        finally:
            stop.set()
            writer.join()
        assert counts["app_user"] == 7 and counts["audit_event"] >= 7
        if backend != "sqlite":
            upgrade(target)
        restored = restore(target, tmp_path / "backup.file")
        assert restored == counts
        with Session(target) as session:
            assert verify_chain(session=session).ok
        assert table_counts(live)["audit_event"] >= counts["audit_event"]
        with pytest.raises(Conflict, match="not empty"):
            restore(target, tmp_path / "backup.file")
        with pytest.raises(Conflict, match="exists already"):
            backup(live, tmp_path / "backup.file")
    finally:
        for engine, schema in ((live, live_schema), (target, target_schema)):
            if schema:
                drop_postgres_schema(engine, schema)
            else:
                engine.dispose()
