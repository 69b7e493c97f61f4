"""Heavy reports computed once per change of their data, stored in `report_cache`.

A report is stored under a key (what was asked, by whom) with the fingerprint of the
tables it read. Reading it again first takes the fingerprint (a few index lookups); if it
matches, the stored result is decoded, otherwise the report is computed and stored.
Commands never need to clear anything: changing the data changes the fingerprint.

Results are stored as JSON, not pickles, and decoded only into the dataclasses listed in
`register` — a row someone tampered with cannot make the app run code.
"""

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.core.types import utcnow
from db.models.reports import ReportCache

T = TypeVar("T")
_TYPES: dict[str, type] = {}
UNUSED_FOR = timedelta(days=30)


def register(cls: type[T]) -> type[T]:
    """Allow a dataclass to be stored in and rebuilt from the report cache."""
    _TYPES[cls.__name__] = cls
    return cls


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _TYPES.get(name) is not type(value):
            raise TypeError(f"{name} is not registered with the report cache")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": name, "fields": fields}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in the report cache")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$tuple" in value:
        return tuple(_decode(v) for v in value["$tuple"])
    if "$dict" in value:
        return {_decode(k): _decode(v) for k, v in value["$dict"]}
    cls = _TYPES[value["$type"]]
    return cls(**{k: _decode(v) for k, v in value["fields"].items()})


def dumps(value: Any) -> str:
    """The JSON text the cache stores for `value`."""
    return json.dumps(_encode(value), separators=(",", ":"))


def loads(text: str) -> Any:
    """The value stored as `text`."""
    return _decode(json.loads(text))


def stored_fields(text: str, cls: type) -> dict[str, Any] | None:
    """The fields of a stored `cls` dataclass as plain JSON values, not rebuilt: enough
    to see what a large stored report holds (None when `text` holds something else)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("$type") != cls.__name__:
        return None
    fields = value.get("fields")
    return fields if isinstance(fields, dict) else None


def cached(
    *,
    session: Session,
    key: str,
    version: str,
    compute: Callable[[], T],
    max_age: timedelta | None = None,
    refresh: Callable[[Any], T] | None = None,
) -> T:
    """The stored report under `key` if it was computed from data at `version` (and, with
    `max_age`, recently enough); otherwise compute it now, store it, and return it.

    With `refresh`, a stored report of an older version (still within `max_age`) is
    brought up to date by `refresh(stored)` instead of computed from nothing."""
    row = session.get(ReportCache, key)
    fresh = max_age is None or (row is not None and utcnow() - row.computed_at <= max_age)
    stored: Any = None
    if row is not None and fresh:
        try:
            stored = loads(row.payload)
        except (KeyError, TypeError, ValueError):
            stored = None  # written by another release of the code: compute afresh
    if stored is not None and row is not None and row.version == version:
        return stored  # type: ignore[no-any-return]
    result = refresh(stored) if refresh is not None and stored is not None else compute()
    payload = dumps(result)
    try:
        if row is None:
            # Keys name periods and filters, so yesterday's keys are never read again:
            # a new key sweeps out reports nobody has asked for in a month.
            table = ReportCache.__table__  # type: ignore[attr-defined]
            session.execute(delete(table).where(table.c.computed_at < utcnow() - UNUSED_FOR))
            session.add(ReportCache(key=key, version=version, payload=payload))
        else:
            row.version, row.payload, row.computed_at = version, payload, utcnow()
            session.add(row)
        session.commit()
    except IntegrityError:
        # Another server stored the same report a moment ago; theirs is as good.
        session.rollback()
    return result


def computed_at(*, session: Session, key: str) -> datetime | None:
    """When the report under `key` was last computed, if it is stored."""
    row = session.get(ReportCache, key)
    return None if row is None else row.computed_at


def forget(*, session: Session, prefix: str = "") -> int:
    """Drop stored reports whose key starts with `prefix` (all by default); commits."""
    table = ReportCache.__table__  # type: ignore[attr-defined]
    result = session.execute(delete(table).where(table.c.key.startswith(prefix)))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
