"""Every db/ command, called directly as every role: done, or Forbidden, as the table says."""

import datetime as dt
import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import db
from db.auth.access import COMMANDS
from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.engine import make_engine
from db.core.errors import DomainError, Forbidden
from db.demo.fixtures import demo_user_for, seed_users
from db.models.auth import Role

# The rules themselves (helpers commands call), not commands.
SKIP_MODULES = {"db.models", "db.migrations", "db.auth.access", "db.auth.visibility"}


def commands_in_code() -> dict[str, Callable[..., Any]]:
    """Public functions of db/ modules that take a keyword-only `actor`."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.walk_packages(db.__path__, "db."):
        if any(info.name == s or info.name.startswith(s + ".") for s in SKIP_MODULES):
            continue
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != info.name:
                continue
            parameter = inspect.signature(function).parameters.get("actor")
            if parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY:
                found[f"{info.name}.{name}"] = function
    return found


CODE = commands_in_code()


def test_every_command_is_in_the_access_table() -> None:
    missing = sorted(set(CODE) - set(COMMANDS))
    stale = sorted(set(COMMANDS) - set(CODE))
    assert not missing, f"add these to db/auth/access.py COMMANDS: {missing}"
    assert not stale, f"these rows of db/auth/access.py name no command: {stale}"


def placeholder(annotation: Any, name: str) -> Any:
    """A harmless argument of the annotated type (the role check must come first)."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return placeholder(options[0], name) if options else None
    if origin in (list, tuple, set, frozenset):
        return origin()
    if annotation is int:
        return 1
    if annotation is str:
        return "placeholder value"
    if annotation is bool:
        return False
    if annotation is float:
        return 1.0
    if annotation is Decimal:
        return Decimal("1")
    if annotation is dt.datetime:
        return dt.datetime.now(dt.UTC)
    if annotation is dt.date:
        return dt.date.today()
    if inspect.isclass(annotation) and issubclass(annotation, SQLModel):
        return annotation.model_construct()
    if inspect.isclass(annotation):
        try:
            return annotation()
        except TypeError:
            return None
    return None


def arguments(function: Callable[..., Any], session: Session, actor: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(function)
    values: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "session":
            values[name] = session
        elif name == "actor":
            values[name] = actor
        elif parameter.default is inspect.Parameter.empty:
            values[name] = placeholder(hints.get(name, Any), name)
    return values


@pytest.fixture(scope="module")
def matrix_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite database for the whole matrix: role checks do not depend on the dialect."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'm.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        seed_users(session=session)
    yield engine
    engine.dispose()


@pytest.fixture
def session(matrix_engine: Engine) -> Iterator[Session]:
    """A session on the matrix database (commands may leave rows behind; that is fine)."""
    with Session(matrix_engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


# Arguments that pass a command's row-level rule for the demo users, so the test sees
# the role check alone (the demo manager leads the North team).
OVERRIDES: dict[str, dict[str, Any]] = {
    "db.surveys.actions.create_action": {"team": "North"},
    "db.pipeline.targets.set_target": {"team": "North", "year": 2026, "quarter": 1},
    "db.pipeline.targets.team_forecast": {"team": "North"},
    "db.consent.receipts.receipts": {"contact_id": 1},
    "db.imports.batches.run_import": {
        "kind": "contacts",
        "data": b"Given name,Family name\nAna,Silva\n",
    },
    "db.imports.batches.preview_rows": {
        "kind": "contacts",
        "headers": ["Given name", "Family name"],
        "rows": [["Ana", "Silva"]],
        "mapping": [("Given name", "given_name"), ("Family name", "family_name")],
    },
    "db.imports.export.export_file": {"kind": "contacts", "fmt": "csv"},
}


CASES = [(name, role) for name in sorted(COMMANDS) if name in CODE for role in Role]


@pytest.mark.parametrize(("command", "role"), CASES, ids=[f"{c}-{r.value}" for c, r in CASES])
def test_each_command_admits_exactly_its_roles(session: Session, command: str, role: Role) -> None:
    actor = get_user_by_username(session=session, username=demo_user_for(role).username)
    function = CODE[command]
    allowed = role in COMMANDS[command]
    try:
        result = function(**(arguments(function, session, actor) | OVERRIDES.get(command, {})))
        if inspect.isgenerator(result):
            list(result)  # a generator checks nothing until it is read
    except Forbidden as err:
        assert not allowed, f"{command} refused {role.value}, which the table allows: {err}"
        return
    except DomainError:
        # Not found, invalid placeholder input, a conflict: the role check was passed.
        session.rollback()
        assert allowed, f"{command} let {role.value} past its role check"
        return
    except Exception:  # noqa: BLE001  (placeholders may upset a command past its role check)
        session.rollback()
        assert allowed, f"{command} let {role.value} past its role check"
        return
    assert allowed, f"{command} ran for {role.value}, which the table does not allow"


def test_every_kind_of_import_is_in_the_access_table() -> None:
    from db.auth.access import IMPORT_KINDS
    from db.imports.kinds import KINDS

    assert set(KINDS) == set(IMPORT_KINDS)
    assert all(KINDS[name].roles == roles for name, roles in IMPORT_KINDS.items())


# A small, valid file of each kind: the role check comes first, then the row handler.
IMPORT_FILES = {
    "contacts": b"given_name,family_name\nAna,Silva\n",
    "organizations": b"name,domain\nKestrel Health,kestrel.example\n",
    "interactions": b"contact_email,channel,occurred_at\nnobody@example.org,email,2024-01-01\n",
    "deals": b"title,stage,amount\nA deal,Nowhere,10\n",
    "employees": b"name,email,department,team,location,start_date\n"
    b"Ana Silva,ana.silva@example.org,Care,North,Leeds,2020-01-01\n",
}
IMPORT_CASES = [(kind, role) for kind in sorted(IMPORT_FILES) for role in Role]


@pytest.mark.parametrize(
    ("kind", "role"), IMPORT_CASES, ids=[f"import-{k}-{r.value}" for k, r in IMPORT_CASES]
)
def test_each_kind_of_import_admits_exactly_its_roles(
    session: Session, kind: str, role: Role
) -> None:
    from db.auth.access import IMPORT_KINDS
    from db.imports.batches import run_import

    actor = get_user_by_username(session=session, username=demo_user_for(role).username)
    try:
        run_import(
            session=session,
            actor=actor or OPERATOR,
            kind=kind,
            data=IMPORT_FILES[kind],
            filename=f"{kind}.csv",
            dry_run=True,
        )
    except Forbidden:
        assert role not in IMPORT_KINDS[kind], f"import {kind} refused {role.value}"
        return
    assert role in IMPORT_KINDS[kind], f"import {kind} ran for {role.value}"
