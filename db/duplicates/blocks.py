"""The blocks of every live contact, kept in `contact_block` for refreshing duplicate runs.

A full run of the matcher blocks the whole table in memory. Afterwards, a refresh needs
only the blocks of the contacts that changed and the other members of those blocks: the
table answers both by index. It is derived data, shared by every user's runs: each sync
derives again the blocks of the contacts created, edited, merged or erased since the last
one (a change bumps `updated_at`), and builds the whole table when it was never built.
"""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from hashlib import blake2b
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.core.types import utcnow
from db.duplicates.matching import Person, block_keys, name_order, prepare
from db.models.auth import AppMeta
from db.models.people import Contact
from db.models.reports import ContactBlock

MATCH_COLUMNS = (
    "id",
    "external_ref",
    "given_name",
    "family_name",
    "email",
    "email2",
    "phone",
    "mobile",
    "date_of_birth",
    "postcode",
    "locality",
    "street",
    "identifier",
)
# Contacts edited this long before a run or a sync began are taken again: server clocks
# may differ, and a transaction may commit a while after it stamped its rows.
CLOCK_MARGIN = timedelta(minutes=5)
SYNCED_KEY = "contact-blocks-synced-at"
# Ids per IN (…) list: well under every database's limit on bound parameters.
CHUNK = 900
INSERT_CHUNK = 5000

LIVE = (col(Contact.merged_into_id).is_(None), col(Contact.erased_at).is_(None))


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """The ids in lists of at most `size`."""
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def records_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The match fields of these contacts (live or not), by id."""
    columns = [getattr(Contact, name) for name in MATCH_COLUMNS]
    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(ids))):
        for row in session.execute(select(*columns).where(col(Contact.id).in_(batch))).all():
            record = dict(zip(MATCH_COLUMNS, row, strict=True))
            found[record["id"]] = record
    return found


def key_hash(key: str) -> int:
    """A block key's 64-bit digest, as a signed integer (what BIGINT holds)."""
    return int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def block_rows(people: Mapping[int, Person]) -> list[dict[str, Any]]:
    """The table's rows for these prepared contacts (keyed by contact id), in the order
    of the table's key, so that a database appends them to its index rather than
    inserting each in the middle."""
    rows = [
        {"key_hash": key_hash(key), "contact_id": contact_id, "key": key, "rank": rank}
        for contact_id, person in people.items()
        for rank in (name_order(person),)
        for key in set(block_keys(person))
    ]
    rows.sort(key=lambda r: (r["key_hash"], r["contact_id"]))
    return rows


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    table = ContactBlock.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Straight to the driver: a first build writes some eight rows per contact, and
        # the values (digests, folded names, normalised keys) need no bind processing.
        columns = ("key_hash", "contact_id", "key", "rank")
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES (?, ?, ?, ?)"
        values = [tuple(row[c] for c in columns) for row in rows]
        for start in range(0, len(values), INSERT_CHUNK):
            connection.exec_driver_sql(statement, values[start : start + INSERT_CHUNK])
        return
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(table), rows[start : start + INSERT_CHUNK])


def _synced_at(session: Session) -> datetime | None:
    row = session.get(AppMeta, SYNCED_KEY)
    if row is None:
        return None
    try:
        return datetime.fromisoformat(row.value)
    except ValueError:
        return None


def blocks_synced(*, session: Session) -> bool:
    """Whether `contact_block` was ever built (so a sync derives only what changed)."""
    return _synced_at(session) is not None


def sync_blocks(
    *,
    session: Session,
    live_people: Mapping[int, Person] | None = None,
    read_at: datetime | None = None,
) -> None:
    """Bring `contact_block` up to date with the contacts; commits. `live_people` (every
    live contact, prepared, by id, as read at `read_at`) saves preparing them again when
    the table is built."""
    started = utcnow() if live_people is None or read_at is None else read_at
    synced_at = _synced_at(session)
    table = ContactBlock.__table__  # type: ignore[attr-defined]
    if synced_at is None:
        if live_people is None:
            columns = [getattr(Contact, name) for name in MATCH_COLUMNS]
            rows = session.execute(select(*columns).where(*LIVE)).all()
            live_people = {
                row[0]: prepare(row[0], dict(zip(MATCH_COLUMNS, row, strict=True))) for row in rows
            }
        session.execute(delete(table))
        _insert(session, block_rows(live_people))
    else:
        changed = [
            int(i or 0)
            for i in session.exec(
                select(Contact.id).where(col(Contact.updated_at) >= synced_at - CLOCK_MARGIN)
            )
        ]
        for batch in chunks(changed):
            session.execute(delete(table).where(table.c.contact_id.in_(batch)))
            live = session.exec(select(Contact.id).where(col(Contact.id).in_(batch), *LIVE))
            records = records_by_id(session=session, ids=(int(i or 0) for i in live))
            _insert(session, block_rows({i: prepare(i, r) for i, r in records.items()}))
    marker = session.get(AppMeta, SYNCED_KEY) or AppMeta(key=SYNCED_KEY, value="")
    marker.value = started.isoformat()
    session.add(marker)
    try:
        session.commit()
    except IntegrityError:
        # Another server synced the same contacts a moment ago; its rows are as good.
        session.rollback()


def blocks_of_contacts(*, session: Session, ids: Iterable[int]) -> dict[int, set[str]]:
    """The blocks each of these contacts falls into, by contact id."""
    found: dict[int, set[str]] = {}
    for batch in chunks(sorted(set(ids))):
        rows = session.execute(
            select(ContactBlock.contact_id, ContactBlock.key).where(
                col(ContactBlock.contact_id).in_(batch)
            )
        ).all()
        for contact_id, key in rows:
            found.setdefault(contact_id, set()).add(key)
    return found


def members_of(*, session: Session, keys: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
    """Each block's members as (rank, contact id), in the matcher's order for a block."""
    found: dict[str, list[tuple[str, int]]] = {}
    wanted = set(keys)
    hashes = sorted({key_hash(key) for key in wanted})
    for start in range(0, len(hashes), CHUNK):
        rows = session.execute(
            select(ContactBlock.key, ContactBlock.rank, ContactBlock.contact_id).where(
                col(ContactBlock.key_hash).in_(hashes[start : start + CHUNK])
            )
        ).all()
        for key, rank, contact_id in rows:
            if key in wanted:  # another key with the same digest is another block
                found.setdefault(key, []).append((rank, contact_id))
    for members in found.values():
        members.sort()
    return found
