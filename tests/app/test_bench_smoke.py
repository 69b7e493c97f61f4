"""A tiny run of the benchmark, so `make bench` cannot rot unnoticed."""

from pathlib import Path

import pytest

from bench.runner import bench_pages, database_for


def test_the_benchmark_times_pages_on_a_tiny_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", "sqlite:///unused.db")  # restored afterwards
    url = database_for(0.01, f"sqlite:///{tmp_path / 'bench.db'}")
    results = bench_pages(url, 0.01, runs=1, only=lambda p: p in {"app.py", "pages/admin.py"})
    assert {r.page for r in results} == {"app.py", "pages/admin.py"}
    assert all(not r.error for r in results), [r.error for r in results if r.error]
    admin = next(r for r in results if r.page == "pages/admin.py")
    assert admin.rows > 7  # the demo users plus the bulk sellers
    assert all(
        r.first_ms > 0 and r.cold_ms > 0 and r.warm_ms > 0 and r.floor_ms > 0 for r in results
    )
