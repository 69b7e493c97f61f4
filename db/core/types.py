"""Column types shared by every table."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel.sql.sqltypes import AutoString


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite has no time zones, so values are stored there as naive UTC and made
    aware again on the way out; naive values are refused on the way in so a
    local time can never be mistaken for UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Naive datetime given; use a timezone-aware UTC datetime.")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# C0 control characters other than tab and newline: never meant in typed or imported
# text, invisible on screen, and NUL cannot be stored by PostgreSQL's text type at all.
_CONTROLS = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}


def storable_text(value: str) -> str:
    """Text as Rapport stores it: line endings as \\n, no NUL and no other C0 controls."""
    if value.isprintable():  # the common case: nothing to do, checked at C speed
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


class CleanString(TypeDecorator[str]):
    """A VARCHAR whose every bound value (insert, update or look-up) passes storable_text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable_text(value) if isinstance(value, str) else value


class CleanText(CleanString):
    """A TEXT column, cleaned like CleanString."""

    impl = Text
    cache_ok = True


def clean_text_columns(metadata: MetaData) -> int:
    """Give every string column of `metadata` the cleaning type; returns how many changed.

    Called once where every table is registered (db.models), so a column added later
    is covered without anyone remembering to: the text rule has one place.
    """
    changed = 0
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if isinstance(kind, CleanString) or isinstance(kind, Enum):
                continue
            if isinstance(kind, Text):
                column.type = CleanText()
            elif isinstance(kind, String | AutoString):
                column.type = CleanString(getattr(kind, "length", None))
            else:
                continue
            changed += 1
    return changed
