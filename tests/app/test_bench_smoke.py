"""A tiny run of the benchmark, so `make bench` cannot rot unnoticed."""

from pathlib import Path

import pytest
from sqlmodel import func, select

import bench.runner
from bench.runner import bench_changes, bench_commands, bench_pages, database_for
from db.core.engine import make_engine, session_scope
from db.models.people import Contact


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The benchmark world at scale 0.01, built once for this module."""
    return database_for(0.01, f"sqlite:///{tmp_path_factory.mktemp('bench') / 'bench.db'}")


def contacts_in(url: str) -> int:
    engine = make_engine(url)
    with session_scope(engine) as session:
        count = int(session.exec(select(func.count()).select_from(Contact)).one())
    engine.dispose()
    return count


def test_the_benchmark_times_pages_on_a_tiny_world(
    tiny_world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///unused.db")  # restored afterwards
    results = bench_pages(
        tiny_world, 0.01, runs=1, only=lambda p: p in {"app.py", "pages/admin.py"}
    )
    assert {r.page for r in results} == {"app.py", "pages/admin.py"}
    assert all(not r.error for r in results), [r.error for r in results if r.error]
    admin = next(r for r in results if r.page == "pages/admin.py")
    assert admin.rows > 7  # the demo users plus the bulk sellers
    assert all(
        r.first_ms > 0 and r.cold_ms > 0 and r.warm_ms > 0 and r.floor_ms > 0 for r in results
    )


def test_the_benchmark_times_an_import_into_a_copy_of_the_world(
    tiny_world: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.runner, "IMPORT_ROWS", 300)
    before = contacts_in(tiny_world)
    [result] = bench_commands(tiny_world, 0.01, tmp_path, only=lambda c: c == "import contacts")
    assert result.ok and result.seconds > 0, result.detail
    assert result.detail.startswith("300 rows read; created ")
    assert "updated 0;" not in result.detail  # some rows name people the world holds
    assert contacts_in(tiny_world) == before  # the pages' world is left as it was
    assert (tmp_path / "world-copy.db").exists()


def test_the_benchmark_times_the_duplicates_page_after_contacts_changed_on_a_copy(
    tiny_world: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///unused.db")  # restored afterwards
    monkeypatch.setattr(bench.runner, "CHANGE_RUNS", 1)
    engine = make_engine(tiny_world)
    with session_scope(engine) as session:
        latest = session.exec(select(func.max(Contact.updated_at))).one()
    engine.dispose()
    results = bench_changes(tiny_world, 0.01, tmp_path)
    assert {(r.role, r.changed) for r in results} == {
        (role, n) for role in ("admin", "manager") for n in (1, 10)
    }
    assert all(not r.error and r.ms > 0 and r.runs_ms == [r.ms] for r in results)
    copy = f"sqlite:///{tmp_path / 'world-copy.db'}"
    engine = make_engine(copy)
    with session_scope(engine) as session:
        edited = session.exec(
            select(func.count()).select_from(Contact).where(Contact.updated_at > latest)
        ).one()
    engine.dispose()
    assert edited == 2 * (1 + 10)  # each role's visits followed their own edits
    engine = make_engine(tiny_world)
    with session_scope(engine) as session:
        assert session.exec(select(func.max(Contact.updated_at))).one() == latest
    engine.dispose()
