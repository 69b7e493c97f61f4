"""Time every page with AppTest, cold and warm, next to an empty page."""

import gc
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import streamlit as st
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from bench.import_file import IMPORT_ROWS, write_contacts_file
from bench.params import QUERY_PARAMS, STATE_PREFIX
from components.nav import SCREENS, Screen
from db.auth.accounts import get_user_by_username, open_session
from db.core.engine import make_engine, reset_engines, session_scope
from db.core.migrate import upgrade
from db.core.report_cache import forget
from db.demo.bulk.seed import SCALE_MARKER, seed_scale
from db.demo.fixtures import demo_user_for
from db.models.auth import AppMeta, Role
from db.models.people import Contact, ContactUpdate, Organisation

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
EMPTY_PAGE = ROOT / "bench" / "empty_page.py"
# A page that recomputes a stored report from nothing (duplicates at scale 10) may take
# minutes on a busy machine; it is measured, not cut off.
PAGE_TIMEOUT_S = 900


@dataclass
class PageResult:
    """One page, for one role, at one scale."""

    page: str
    role: str
    scale: float
    cold_ms: float
    cold_worst_ms: float
    warm_ms: float
    warm_worst_ms: float
    floor_ms: float
    rows: int
    error: str = ""
    first_ms: float = 0.0


@dataclass
class ChangeResult:
    """A page's first visit after `changed` contacts were edited, for one role."""

    page: str
    role: str
    scale: float
    changed: int
    ms: float
    worst_ms: float
    runs_ms: list[float]
    error: str = ""


@dataclass
class CommandResult:
    """One operator command at one scale."""

    command: str
    scale: float
    seconds: float
    ok: bool
    detail: str = ""
    runs_s: list[float] = field(default_factory=list)


def database_for(scale: float, base_url: str | None) -> str:
    """A database holding the world at `scale`, built the first time it is needed."""
    if base_url:
        url = base_url
    else:
        DATA.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA / f'scale-{scale:g}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    fresh = False
    with session_scope(engine) as session:
        marker = session.get(AppMeta, SCALE_MARKER)
        if marker is None:
            print(f"Seeding scale {scale:g} into {make_url(url).render_as_string()} …", flush=True)
            started = time.monotonic()
            counts = seed_scale(session=session, scale=scale)
            took = time.monotonic() - started
            print(f"  seeded {counts} in {took:.0f} s", flush=True)
            fresh = True
        elif float(marker.value) != scale:
            raise SystemExit(
                f"{url} already holds scale {marker.value}; point RAPPORT_DATABASE_URL at an "
                "empty database for each scale."
            )
    if fresh and engine.dialect.name == "postgresql":
        # Planner statistics after a bulk load, as autovacuum would gather them in time.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return url


def _token(url: str, role: Role) -> str:
    engine = make_engine(url)
    with session_scope(engine) as session:
        user = get_user_by_username(session=session, username=demo_user_for(role).username)
        assert user is not None
        token = open_session(session=session, user=user).token
    engine.dispose()
    return token


def _params(url: str, path: str) -> dict[str, str]:
    picker = QUERY_PARAMS.get(path)
    if picker is None:
        return {}
    engine = make_engine(url)
    with session_scope(engine) as session:
        params = picker(session)
    engine.dispose()
    return params


def _new_app(path: str, token: str | None, params: dict[str, str]) -> AppTest:
    if path == str(EMPTY_PAGE):
        return AppTest.from_file(path, default_timeout=PAGE_TIMEOUT_S)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=PAGE_TIMEOUT_S)
    if path != "app.py":
        at.switch_page(path)
    if token:
        at.session_state["rapport_session_token"] = token
    for key, value in params.items():
        if key.startswith(STATE_PREFIX):
            at.session_state[key.removeprefix(STATE_PREFIX)] = value
        else:
            at.query_params[key] = value
    return at


def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    reset_engines()
    gc.collect()


def _rows(at: AppTest) -> int:
    total = 0
    for frame in at.dataframe:
        try:
            total += len(frame.value)
        except TypeError:
            continue
    return total


def _forget_reports(url: str) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        forget(session=session)
    engine.dispose()


def time_first_visit(url: str, path: str, token: str | None, params: dict[str, str]) -> float:
    """One cold run with the stored reports dropped: the first visit after a change.
    A run before it loads the page's modules, which only the first run in a process pays."""
    _new_app(path, token, params).run()
    _forget_reports(url)
    _clear_caches()
    at = _new_app(path, token, params)
    started = time.perf_counter()
    at.run()
    return (time.perf_counter() - started) * 1000


def time_page(
    path: str, token: str | None, params: dict[str, str], runs: int
) -> tuple[list[float], list[float], int, str]:
    """Cold and warm timings in milliseconds, rows shown, and any error."""
    cold: list[float] = []
    for _ in range(runs):
        _clear_caches()
        at = _new_app(path, token, params)
        started = time.perf_counter()
        at.run()
        cold.append((time.perf_counter() - started) * 1000)
        if at.exception:
            return cold, cold, 0, at.exception[0].value
    at = _new_app(path, token, params)
    at.run()
    warm: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        warm.append((time.perf_counter() - started) * 1000)
    error = at.exception[0].value if at.exception else ""
    return cold, warm, _rows(at), error


def roles_for(screen: Screen) -> Sequence[Role | None]:
    """A representative user for each role allowed on the page (none for public pages)."""
    if screen.public:
        return [None]
    return sorted(screen.roles)


def bench_pages(
    url: str, scale: float, runs: int, only: Callable[[str], bool] = lambda _p: True
) -> list[PageResult]:
    """Time every page for every allowed role at one scale."""
    os.environ["RAPPORT_DATABASE_URL"] = url
    _, floor_warm, _, _ = time_page(str(EMPTY_PAGE), None, {}, runs)
    floor = statistics.median(floor_warm)
    tokens = {role: _token(url, role) for role in Role}
    results = []
    for screen in SCREENS:
        if not only(screen.path):
            continue
        params = _params(url, screen.path)
        for role in roles_for(screen):
            token = tokens[role] if role else None
            first = time_first_visit(url, screen.path, token, params)
            cold, warm, rows, error = time_page(screen.path, token, params, runs)
            result = PageResult(
                page=screen.path,
                role=role.value if role else "public",
                scale=scale,
                cold_ms=round(statistics.median(cold), 1),
                cold_worst_ms=round(max(cold), 1),
                warm_ms=round(statistics.median(warm), 1),
                warm_worst_ms=round(max(warm), 1),
                floor_ms=round(floor, 1),
                rows=rows,
                error=error,
                first_ms=round(first, 1),
            )
            print(
                f"  {result.page:<32} {result.role:<9} first {first:7.0f} ms  "
                f"cold {result.cold_ms:7.0f} ms  warm {result.warm_ms:6.0f} ms  "
                f"rows {rows:>5} {error[:60]}",
                flush=True,
            )
            results.append(result)
    return results


# The duplicates budget: the page's first visit after this many contacts changed.
CHANGED_CONTACTS = (1, 10)
CHANGES_PAGE = "pages/duplicates.py"
CHANGE_RUNS = 3
# Contacts are picked this far apart, so each round edits contacts in other blocks.
CHANGE_STRIDE = 7919


def change_contacts(url: str, count: int, round_no: int) -> list[int]:
    """Give `count` live contacts another family name and a new email through the
    domain's update command, as people editing them do; returns their ids."""
    from db.auth.actor import OPERATOR
    from db.people.contacts import update_contact

    engine = make_engine(url)
    changed = []
    with session_scope(engine) as session:
        top = session.exec(select(Contact.id).order_by(col(Contact.id).desc())).first() or 0
        families = ("Okafor", "Lindqvist", "Haddad", "Nakamura", "Byrne")
        for n in range(count):
            wanted = 1 + (round_no * 104_729 + n * CHANGE_STRIDE) % max(top, 1)
            contact = session.exec(
                select(Contact)
                .where(
                    col(Contact.id) >= wanted,
                    col(Contact.merged_into_id).is_(None),
                    col(Contact.erased_at).is_(None),
                )
                .order_by(col(Contact.id))
                .limit(1)
            ).first()
            if contact is None or contact.id is None:
                continue
            family = families[(round_no + n) % len(families)]
            patch = ContactUpdate(
                family_name=family,
                email=f"{(contact.given_name or 'someone').lower()}.{family.lower()}"
                f".{round_no}.{n}@example.net",
            )
            update_contact(
                session=session,
                contact_id=contact.id,
                patch=patch,
                version=contact.version,
                actor=OPERATOR,
            )
            changed.append(contact.id)
    engine.dispose()
    return changed


def bench_changes(url: str, scale: float, workdir: Path) -> list[ChangeResult]:
    """Time the duplicates page's first visit after 1 and after 10 contacts changed, for
    every role allowed on it, on a copy of the world (which stays as it was). Each visit
    follows a visit that stored the run, as a person's edits follow someone's visit."""
    screen = next(s for s in SCREENS if s.path == CHANGES_PAGE)
    results = []
    with world_copy(url, workdir) as copy:
        os.environ["RAPPORT_DATABASE_URL"] = copy
        round_no = 0
        for role in roles_for(screen):
            token = _token(copy, role) if role else None
            _clear_caches()
            _new_app(CHANGES_PAGE, token, {}).run()  # the stored run, up to date
            for count in CHANGED_CONTACTS:
                times, error = [], ""
                for _ in range(CHANGE_RUNS):
                    round_no += 1
                    change_contacts(copy, count, round_no)
                    _clear_caches()
                    at = _new_app(CHANGES_PAGE, token, {})
                    started = time.perf_counter()
                    at.run()
                    times.append(round((time.perf_counter() - started) * 1000, 1))
                    error = error or (at.exception[0].value if at.exception else "")
                result = ChangeResult(
                    page=CHANGES_PAGE,
                    role=role.value if role else "public",
                    scale=scale,
                    changed=count,
                    ms=round(statistics.median(times), 1),
                    worst_ms=max(times),
                    runs_ms=times,
                    error=error,
                )
                runs = ", ".join(f"{t:.0f}" for t in times)
                print(
                    f"  {CHANGES_PAGE:<32} {result.role:<9} after {count:>2} changed "
                    f"{result.ms:7.0f} ms  ({runs}) {error[:60]}",
                    flush=True,
                )
                results.append(result)
        _clear_caches()
    os.environ["RAPPORT_DATABASE_URL"] = url
    return results


def _subcommands() -> set[str]:
    from manage import build_parser

    parser = build_parser()
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        choices = getattr(action, "choices", None)
        if choices:
            return set(choices)
    return set()


@dataclass(frozen=True)
class Command:
    """An operator command the budgets name: its arguments, and the database it runs on.

    `database` prepares what the command needs (in the workdir, before the clock starts)
    and yields the URL to run it against, cleaning up afterwards; by default the command
    runs on the benchmark world itself.
    """

    argv: Callable[[Path], list[str]]
    database: Callable[[str, Path], AbstractContextManager[str]] | None = None
    # The output line to report: the last one containing this (default: the last line).
    summary: str = ""
    # Runs timed; the result is their median. A command that changes its database runs once.
    runs: int = 1


@contextmanager
def _world_itself(url: str, _workdir: Path) -> Iterator[str]:
    yield url


@contextmanager
def import_world(url: str, workdir: Path) -> Iterator[str]:
    """A copy of the world and a contacts file to import into it, so the world stays as it is."""
    _clear_caches()
    with world_copy(url, workdir) as copy:
        engine = make_engine(copy)
        with session_scope(engine) as session:
            emails = session.exec(
                select(Contact.email)
                .where(col(Contact.email).is_not(None))
                .order_by(col(Contact.id))
                .limit(IMPORT_EXISTING)
            ).all()
            names = session.exec(
                select(Organisation.name).order_by(col(Organisation.id)).limit(IMPORT_EXISTING)
            ).all()
        engine.dispose()
        write_contacts_file(
            workdir / IMPORT_FILE,
            IMPORT_ROWS,
            existing_emails=[e for e in emails if e],
            existing_organisations=list(names),
        )
        yield copy


@contextmanager
def world_copy(url: str, workdir: Path) -> Iterator[str]:
    """The URL of a copy of the world (a file in the workdir, or a PostgreSQL database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        copy = workdir / "world-copy.db"
        source, target = sqlite3.connect(parsed.database or ""), sqlite3.connect(copy)
        with target:
            source.backup(target)
        source.close()
        target.close()
        yield f"sqlite:///{copy}"
        return
    name = (parsed.database or "").replace('"', '""')
    copy_name = f"{name}_import"
    # CREATE DATABASE … TEMPLATE needs no one else connected to the template.
    reset_engines()
    server = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{copy_name}"'))
        connection.execute(text(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"'))
    try:
        yield parsed.set(database=f"{parsed.database}_import").render_as_string(hide_password=False)
    finally:
        reset_engines()
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)'))
        server.dispose()


# Operator commands the performance budgets name; each area adds its command here.
# The import budget is for 100k rows (IMPORT_ROWS); 2,000 of them name existing contacts.
IMPORT_FILE, IMPORT_EXISTING = "contacts-import.csv", 2000
# Read-only commands run three times: the first consent audit of a world also walks the
# whole chain and writes the checkpoint that later routine runs start from.
COMMANDS: dict[str, Command] = {
    "duplicates": Command(lambda out: ["duplicates", "--out", str(out / "pairs.csv")], runs=3),
    "consent-audit": Command(
        lambda out: ["consent-audit", "--out", str(out / "audit.json")], runs=3
    ),
    "import contacts": Command(
        lambda out: ["import", "contacts", str(out / IMPORT_FILE)],
        database=import_world,
        summary="rows read",
    ),
}


def bench_commands(
    url: str, scale: float, workdir: Path, only: Callable[[str], bool] = lambda _c: True
) -> list[CommandResult]:
    """Time the heavy operator commands that exist in this build."""
    available = _subcommands()
    results = []
    for name, command in COMMANDS.items():
        if not only(name):
            continue
        argv = command.argv(workdir)
        if argv[0] not in available:
            results.append(CommandResult(name, scale, 0.0, False, "command not in this build"))
            continue
        times: list[float] = []
        with (command.database or _world_itself)(url, workdir) as target:
            env = dict(os.environ, RAPPORT_DATABASE_URL=target)
            for _ in range(max(command.runs, 1)):
                started = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "manage.py", *argv],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                times.append(round(time.monotonic() - started, 2))
                if done.returncode != 0:
                    break
        lines = (done.stdout or done.stderr).strip().splitlines() or [""]
        detail = next((x for x in reversed(lines) if command.summary in x), lines[-1])
        detail = detail.replace(str(workdir), "OUT")  # the run's temporary directory
        took = statistics.median(times)
        results.append(
            CommandResult(name, scale, round(took, 2), done.returncode == 0, detail, times)
        )
        runs = ", ".join(f"{t:.1f}" for t in times)
        print(f"  manage.py {name:<20} {took:6.1f} s  ({runs})  {detail[:60]}", flush=True)
    return results


def peak_memory_mb() -> float:
    """The process's peak resident memory so far, in megabytes."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def as_records(results: Sequence[PageResult | ChangeResult]) -> list[dict[str, object]]:
    """Plain dictionaries for the JSON report."""
    return [asdict(r) for r in results]
