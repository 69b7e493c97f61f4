"""The import registry: each kind of record brings its fields, roles and a row handler.

Each kind is defined beside its handler (`CONTACTS_KIND` in `db/imports/contacts.py`,
`ORGANIZATIONS_KIND` in `db/imports/rows.py`, …) and listed in `db.wiring.IMPORT_KINDS`,
which fills `KINDS` and the suppression checks below.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from db.auth.actor import Actor
from db.models.auth import Role


class RowError(Exception):
    """A row is rejected: the column and the reason, in words a person can act on."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class Problem:
    """A rejected row or a dropped value: file row number, column and reason."""

    row: int
    column: str
    reason: str


@dataclass
class RowContext:
    """What a row handler needs: the session, who imports, how to match, where to note."""

    session: Session
    actor: Actor
    update_by: str
    row: int
    warnings: list[Problem] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    def warn(self, column: str, reason: str) -> None:
        """Note that a value was dropped from this row."""
        self.warnings.append(Problem(self.row, column, reason))


# The key of an update's `before` that lists the tags the row gave a contact (tags are
# rows of their own, not a field): reverting the update removes them again.
ADDED_TAGS = "+tags"


@dataclass(frozen=True)
class Touched:
    """A record a row created or updated (with its values before, for an update)."""

    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None = None
    version_after: int | None = None


RowHandler = Callable[[RowContext, dict[str, str]], list[Touched]]
# What became of one row: the records it touched, or why it was rejected.
Outcome = list[Touched] | RowError
ChunkHandler = Callable[[Sequence[tuple[RowContext, dict[str, str]]]], list[Outcome]]


@dataclass(frozen=True)
class Kind:
    """One kind of import: its fields, the roles that may run it and its row handler."""

    name: str
    fields: frozenset[str]
    roles: frozenset[Role]
    handle: RowHandler
    description: str = ""
    # Optional: many rows at once, looking up what they refer to in one query each. It must
    # give every row the outcome `handle` would and write nothing for a rejected row, so a
    # chunk of rows needs one savepoint rather than one per row.
    handle_chunk: ChunkHandler | None = None


KINDS: dict[str, Kind] = {}
# Kinds the command line accepts; those not registered explain that they are not wired.
ALL_KIND_NAMES = ("organizations", "contacts", "deals", "interactions", "employees", "consent")

# Checks that refuse to (re)create a person, e.g. someone whose data was erased. The consent
# area registers one; each returns a reason to refuse, or None. Nothing registered: nothing
# is suppressed beyond the erased contacts this module can see itself.
SuppressionCheck = Callable[[Session, dict[str, Any]], str | None]
SUPPRESSION_CHECKS: list[SuppressionCheck] = []
# A check may also answer for many rows in one query: given their values, it gives each
# row's reason (or None), in order. Importers use it where they handle rows in chunks.
ChunkSuppressionCheck = Callable[[Session, Sequence[dict[str, Any]]], list[str | None]]
CHUNK_SUPPRESSION_CHECKS: dict[SuppressionCheck, ChunkSuppressionCheck] = {}
