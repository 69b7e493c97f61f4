"""Running an import as one recorded batch, reporting bad rows, and reverting a batch."""

import json
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.spreadsheets import rows_csv
from db.core.types import utcnow
from db.duplicates.merge import reference_columns
from db.imports.bulk import add_rows
from db.imports.files import detect_format, mapping_for, read_table
from db.imports.kinds import (
    ADDED_TAGS,
    ALL_KIND_NAMES,
    KINDS,
    Kind,
    Outcome,
    Problem,
    RowContext,
    RowError,
    Touched,
)
from db.imports.mapping import REJECT_COLUMNS
from db.models.auth import Role, User
from db.models.imports import ImportBatch, ImportItem
from db.models.people import Contact, ContactTag, Interaction, Organisation
from db.models.pipeline import Deal, Pipeline, Stage, StageChange
from db.models.surveys import Employee
from db.pipeline.summary import (
    FACT_COLUMNS,
    apply_deal_deltas,
    deal_facts,
    facts_after,
    facts_of,
)

UPDATE_BY = ("email", "external_ref", "none")
# Rows handled under one savepoint, and looked up together, by kinds that handle chunks.
CHUNK_ROWS = 1000
Progress = Callable[[int, int], None]
_ENTITIES: dict[str, type[Any]] = {
    "contact": Contact,
    "organisation": Organisation,
    "interaction": Interaction,
    "deal": Deal,
    "stage_change": StageChange,
    "employee": Employee,
}
# Import items go in through the table in one executemany, not one ORM object each.
ITEMS: Table = ImportItem.__table__  # type: ignore[attr-defined]
BATCHES: Table = ImportBatch.__table__  # type: ignore[attr-defined]
TAGS: Table = ContactTag.__table__  # type: ignore[attr-defined]
# Everyone who may run some kind of import sees the batches of the kinds they may run.
IMPORTERS = (Role.admin, Role.manager, Role.hr)


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    kind: str
    source_format: str
    mapping: dict[str, list[str]]
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    batch_id: int | None = None
    dry_run: bool = False
    saved: bool = False
    # The file's header and each rejected row's cells as read, by file row number, so the
    # rejected rows can be written back out, fixed and uploaded again.
    headers: list[str] = field(default_factory=list)
    rejected_cells: dict[int, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """One sentence for the command line and the page."""
        verb = "would create" if self.dry_run or not self.saved else "created"
        head = (
            f"{self.rows_read} rows read; {verb} {self.created}, "
            f"{'would update' if verb != 'created' else 'updated'} {self.updated}; "
            f"{len(self.rejected)} rejected, {len(self.warnings)} values dropped with a warning."
        )
        if not self.saved and not self.dry_run:
            head += " Nothing was imported (all or nothing: fix the rejected rows)."
        elif self.dry_run:
            head += " Dry run: nothing was changed."
        return head


def kind_for(name: str) -> Any:
    """The registered kind, or a sentence saying it is not available."""
    if name not in ALL_KIND_NAMES:
        raise ValidationError(
            f"Kind: {name!r} is not a kind of import; use one of {', '.join(ALL_KIND_NAMES)}.",
            field="kind",
        )
    if name not in KINDS:
        raise ValidationError(
            f"Kind: importing {name} is not available yet in this installation.", field="kind"
        )
    return KINDS[name]


def preview(
    *,
    data: bytes,
    filename: str,
    kind: str,
    source_format: str = "auto",
    mapping: Sequence[tuple[str, str]] = (),
) -> tuple[str, dict[str, list[str]], list[str], int]:
    """Detected format, mapping, headers and row count of a file, without importing."""
    headers, count = file_outline(data=data, filename=filename)
    return preview_outline(
        headers=headers, count=count, kind=kind, source_format=source_format, mapping=mapping
    )


def file_outline(*, data: bytes, filename: str) -> tuple[list[str], int]:
    """A file's headers and number of rows: all a preview needs to remember of a parse."""
    table = read_table(data, filename)
    return table.headers, len(table.rows)


def preview_outline(
    *,
    headers: list[str],
    count: int,
    kind: str,
    source_format: str = "auto",
    mapping: Sequence[tuple[str, str]] = (),
) -> tuple[str, dict[str, list[str]], list[str], int]:
    """The preview of a file already outlined: its format and mapping for this kind."""
    spec = kind_for(kind)
    fmt = detect_format(headers) if source_format == "auto" else source_format
    mapped = mapping_for(
        headers, kind=kind, source_format=fmt, fields=set(spec.fields), extra=mapping
    )
    return fmt, mapped, headers, count


SAMPLE_ROWS = 5


def file_sample(
    *, data: bytes, filename: str, rows: int = SAMPLE_ROWS
) -> tuple[list[str], int, list[list[str]]]:
    """A file's headers, number of rows and first rows: what the mapping screen shows."""
    table = read_table(data, filename)
    return table.headers, len(table.rows), [list(r) for r in table.rows[:rows]]


@dataclass(frozen=True)
class PreviewRow:
    """One of a file's first rows as the import would store it, or why it would not."""

    row: int
    outcome: str  # "create", "update", "no change" or "rejected"
    values: dict[str, str]
    note: str = ""


# What a field that names another record shows in a preview: that record's name.
_NAMED: dict[str, tuple[type[Any], str]] = {
    "organisation": (Organisation, "name"),
    "owner": (User, "username"),
    "pipeline": (Pipeline, "name"),
    "stage": (Stage, "name"),
}


def preview_rows(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    headers: list[str],
    rows: Sequence[Sequence[str]],
    mapping: Sequence[tuple[str, str]],
    update_by: str = "email",
) -> list[PreviewRow]:
    """The first rows of a file as they would be stored with this mapping (nothing is saved).

    The rows go through the import itself, inside a transaction that is rolled back, so
    the preview shows what the import would do: normalised emails and phones, parsed
    dates, the records they update, and the rows it would reject, with the reason.
    """
    spec = kind_for(kind)
    require_role(actor, *spec.roles, doing=f"import {kind}")
    if update_by not in UPDATE_BY:
        raise ValidationError(f"Update by: use one of {', '.join(UPDATE_BY)}.", field="update_by")
    mapped = mapping_for(
        headers,
        kind=kind,
        source_format="rapport",
        fields=set(spec.fields),
        extra=mapping,
        only_extra=True,
    )
    position = {h: i for i, h in enumerate(headers)}
    raws = [(n + 2, _mapped_row(cells, mapped, position)) for n, cells in enumerate(rows)]
    main = _main(kind)
    shown: list[PreviewRow] = []
    # Everything happens under one savepoint that is rolled back. SQLite's driver opens a
    # transaction only before a write, so a savepoint taken first is the outermost one and
    # releasing it (as a chunk does) would commit: this one keeps the chunk's nested.
    everything = session.begin_nested()
    try:
        for ctx, outcome in _run_chunk(session, spec, actor, update_by, raws, {}):
            if isinstance(outcome, RowError):
                as_read = dict(raws[ctx.row - 2][1])  # what the file has, to see what to fix
                shown.append(
                    PreviewRow(ctx.row, "rejected", as_read, f"{outcome.column}: {outcome.reason}")
                )
                continue
            dropped = "; ".join(f"{w.column} left out: {w.reason}" for w in ctx.warnings)
            record_of = next((t for t in outcome if t.entity == main), None)
            if record_of is None:
                shown.append(PreviewRow(ctx.row, "no change", {}, dropped))
                continue
            stored = session.get(_ENTITIES[record_of.entity], record_of.entity_id)
            raw = dict(raws[ctx.row - 2][1])
            values = {f: _stored_value(session, stored, f, raw.get(f, "")) for f in mapped}
            action = "create" if record_of.action == "created" else "update"
            shown.append(PreviewRow(ctx.row, action, values, dropped))
    finally:
        everything.rollback()
        session.rollback()
    return shown


def _stored_value(session: Session, stored: Any, name: str, raw: str) -> str:
    """A field of a stored record as text; a field naming another record shows its name."""
    if name == "tags" and isinstance(stored, Contact):
        tags = session.exec(select(ContactTag.tag).where(ContactTag.contact_id == stored.id))
        return ";".join(sorted(tags))
    if name in _NAMED and hasattr(stored, f"{name}_id"):
        model, attribute = _NAMED[name]
        other_id = getattr(stored, f"{name}_id")
        other = session.get(model, other_id) if other_id is not None else None
        return "" if other is None else str(getattr(other, attribute))
    if not hasattr(stored, name):
        return raw  # kept elsewhere (a deal's contact by email): as the file has it
    value = getattr(stored, name)
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def run_import(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    data: bytes,
    filename: str,
    source_format: str = "auto",
    mapping: Sequence[tuple[str, str]] = (),
    update_by: str = "email",
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
    exact_mapping: bool = False,
) -> ImportResult:
    """Import a file as one batch: valid rows saved, bad rows reported, nothing half-done.

    With `exact_mapping`, `mapping` names every column to import (the mapping screen's
    choice); otherwise it adds to the columns recognised by name.
    """
    spec = kind_for(kind)
    require_role(actor, *spec.roles, doing=f"import {kind}")
    if update_by not in UPDATE_BY:
        raise ValidationError(f"Update by: use one of {', '.join(UPDATE_BY)}.", field="update_by")
    if source_format not in {"auto", "hubspot", "salesforce", "rapport"}:
        raise ValidationError("Format: use auto, hubspot, salesforce or rapport.", field="format")
    table = read_table(data, filename)
    fmt = detect_format(table.headers) if source_format == "auto" else source_format
    mapped = mapping_for(
        table.headers,
        kind=kind,
        source_format=fmt,
        fields=set(spec.fields),
        extra=mapping,
        only_extra=exact_mapping,
    )
    if not mapped:
        raise ValidationError(
            f"Mapping: no column of the file is mapped to a field of {kind}; choose a field "
            "for at least one column (--map SRC=DST on the command line).",
            field="map",
        )
    result = ImportResult(kind, fmt, mapped, rows_read=len(table.rows), dry_run=dry_run)
    result.headers = list(table.headers)
    position = {h: i for i, h in enumerate(table.headers)}
    batch = ImportBatch(
        kind=kind,
        filename=filename[:255],
        source_format=fmt,
        created_by_id=actor.id,
        created_by_name=actor.username,
    )
    session.add(batch)
    session.flush()
    cache: dict[str, Any] = {}
    touched: list[Touched] = []
    total, main = len(table.rows), _main(kind)
    for start in range(0, total, CHUNK_ROWS):
        raws = [
            (start + n + 2, _mapped_row(cells, mapped, position))  # the header is row 1
            for n, cells in enumerate(table.rows[start : start + CHUNK_ROWS])
        ]
        for ctx, outcome in _run_chunk(session, spec, actor, update_by, raws, cache):
            if isinstance(outcome, RowError):
                result.rejected.append(Problem(ctx.row, outcome.column, outcome.reason))
                result.rejected_cells[ctx.row] = list(table.rows[ctx.row - 2])
                continue
            touched.extend(outcome)
            result.warnings.extend(ctx.warnings)
            result.created += sum(t.action == "created" and t.entity == main for t in outcome)
            result.updated += sum(t.action == "updated" for t in outcome)
        if progress is not None:
            for n in range(start, start + len(raws)):
                if n % 50 == 0 or n == total - 1:
                    progress(n + 1, total)
    if dry_run or (all_or_nothing and result.rejected):
        session.rollback()
        return result
    if touched:
        add_rows(session, ITEMS, [_item(batch.id or 0, t) for t in touched])
    batch.rows_read = result.rows_read
    batch.created, batch.updated = result.created, result.updated
    batch.rejected, batch.warnings = len(result.rejected), len(result.warnings)
    session.add(batch)
    record(
        session=session,
        actor=actor,
        action="import.run",
        entity="import_batch",
        entity_id=batch.id,
        details={
            "kind": kind,
            "file": filename,
            "format": fmt,
            "created": result.created,
            "updated": result.updated,
            "rejected": len(result.rejected),
        },
    )
    session.commit()
    result.batch_id, result.saved = batch.id, True
    return result


def _mapped_row(
    cells: Sequence[str], mapped: dict[str, list[str]], position: dict[str, int]
) -> dict[str, str]:
    """One file row as field -> text, joining the columns mapped to the same field."""
    return {
        target: " ".join(
            cells[position[s]].strip() for s in sources if position[s] < len(cells)
        ).strip()
        for target, sources in mapped.items()
    }


def _run_chunk(
    session: Session,
    spec: Kind,
    actor: Actor,
    update_by: str,
    raws: list[tuple[int, dict[str, str]]],
    cache: dict[str, Any],
) -> list[tuple[RowContext, Outcome]]:
    """Handle rows under one savepoint when the kind can; otherwise one savepoint a row."""
    if spec.handle_chunk is not None:
        rows = [(RowContext(session, actor, update_by, n, cache=cache), raw) for n, raw in raws]
        savepoint = session.begin_nested()
        try:
            outcomes = spec.handle_chunk(rows)
            session.flush()
        except SQLAlchemyError:
            # A row broke a database rule: redo the chunk a row at a time, so that row
            # fails on its own exactly as it would have without chunks.
            savepoint.rollback()
            cache.clear()
        else:
            savepoint.commit()
            return [(ctx, outcome) for (ctx, _), outcome in zip(rows, outcomes, strict=True)]
    return [
        _run_row(session, spec, RowContext(session, actor, update_by, n, cache=cache), raw)
        for n, raw in raws
    ]


def _run_row(
    session: Session, spec: Kind, ctx: RowContext, raw: dict[str, str]
) -> tuple[RowContext, Outcome]:
    """One row under its own savepoint: a rejected row leaves nothing behind."""
    savepoint = session.begin_nested()
    try:
        done = spec.handle(ctx, raw)
    except RowError as err:
        savepoint.rollback()
        ctx.cache.clear()  # cached look-ups may point at rows that were rolled back
        return ctx, err
    savepoint.commit()
    return ctx, done


def _item(batch_id: int, t: Touched) -> dict[str, Any]:
    """The import_item row that lets a batch be reverted."""
    return {
        "batch_id": batch_id,
        "entity": t.entity,
        "entity_id": t.entity_id,
        "action": t.action,
        "before": json.dumps(t.before, default=str) if t.before is not None else None,
        "version_after": t.version_after,
    }


def _main(kind: str) -> str:
    return {"contacts": "contact", "organizations": "organisation"}.get(kind, kind.rstrip("s"))


def problems_csv(problems: Sequence[Problem]) -> bytes:
    """The rejected rows (or warnings) as a CSV a person can open: row, column, reason."""
    return rows_csv(
        ["row", "column", "reason"], ([p.row, p.column, p.reason] for p in problems)
    ).encode("utf-8")


def rejected_rows_csv(result: ImportResult) -> bytes:
    """The rejected rows as a file to fix and upload again: where and why each was
    rejected, then the row's own cells under the file's own header.

    The three leading columns are never mapped to a field, so the fixed file imports as
    it is; the cells pass through the export's spreadsheet safety like every download.
    """
    width = len(result.headers)
    rows = []
    for problem in result.rejected:
        cells = result.rejected_cells.get(problem.row, [])
        rows.append(
            [problem.row, problem.column, problem.reason, *cells, *[""] * (width - len(cells))]
        )
    return rows_csv([*REJECT_COLUMNS, *result.headers], rows).encode("utf-8")


def kinds_for(actor: Actor) -> list[str]:
    """The kinds of import this actor may run, in the registry's order."""
    return [name for name, spec in KINDS.items() if actor.has_any(set(spec.roles))]


def list_batches(*, session: Session, actor: Actor, limit: int = 50) -> list[ImportBatch]:
    """The latest import batches of the kinds the actor may import, newest first."""
    require_role(actor, *IMPORTERS, doing="see imports")
    return list(
        session.exec(
            select(ImportBatch)
            .where(col(ImportBatch.kind).in_(kinds_for(actor)))
            .order_by(col(ImportBatch.id).desc())
            .limit(min(limit, 500))
        ).all()
    )


def _refuse_if_changed_since(
    session: Session, batch_id: int, items: Sequence[Any]
) -> dict[tuple[str, int], int]:
    """Refuse, naming them, when records the import created or changed were edited since.

    Reverting would delete a created record, or put back an updated one's old values, and
    so lose what a person (or a later import) changed since: created records are checked
    as much as updated ones. A record's version after the import is its last update in
    the batch, or a new record's first version. Versions are read a table and a thousand
    ids at a time; returns the current version of each record that still exists.
    """
    expected: dict[tuple[str, int], int] = {}
    for item in sorted(items, key=lambda i: i.id or 0):
        key = (item.entity, item.entity_id)
        if item.action == "updated" and item.version_after is not None:
            expected[key] = item.version_after
        elif item.action == "created":
            expected.setdefault(key, item.version_after or 1)
    current = _versions(session, expected)
    changed = sorted(
        (key for key, version in current.items() if version != expected[key]),
        key=lambda k: f"{k[0]} {k[1]}",
    )
    if changed:
        shown = ", ".join(_named(session, *key) for key in changed[:10]) + (
            f" and {len(changed) - 10} more" if len(changed) > 10 else ""
        )
        raise Conflict(
            f"Import {batch_id} cannot be reverted: {shown} changed after the import, and "
            "reverting would lose those changes. Nothing was reverted."
        )
    return current


def _versions(session: Session, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The current version of each of these records that exists and has one."""
    ids: dict[str, list[int]] = {}
    for entity, entity_id in keys:
        ids.setdefault(entity, []).append(entity_id)
    found: dict[tuple[str, int], int] = {}
    for entity, wanted in ids.items():
        table: Table = _ENTITIES[entity].__table__
        if "version" not in table.c:
            continue
        for chunk in _chunks(sorted(wanted)):
            rows = session.execute(
                sa_select(table.c.id, table.c.version).where(table.c.id.in_(chunk))
            )
            found.update(((entity, i), v) for i, v in rows if v is not None)
    return found


def _named(session: Session, entity: str, entity_id: int) -> str:
    """A record as a refusal names it: its kind, id and name."""
    row = session.get(_ENTITIES[entity], entity_id)
    name = next(
        (str(v) for a in ("full_name", "name", "title") if (v := getattr(row, a, None))), ""
    )
    return f"{entity} {entity_id}" + (f" ({name})" if name else "")


def _chunks(ids: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def _move_restored_deals(session: Session, before: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Move the forecast summary's share of each deal about to get its old values back."""
    ids = [entity_id for entity, entity_id in before if entity == "deal"]
    deal: Table = Deal.__table__  # type: ignore[attr-defined]
    changes = []
    for start in range(0, len(ids), _IN_CHUNK):
        rows = session.execute(
            sa_select(deal.c.id, *(deal.c[n] for n in FACT_COLUMNS)).where(
                deal.c.id.in_(ids[start : start + _IN_CHUNK])
            )
        ).mappings()
        for row in rows:
            was = facts_of(dict(row))
            changes.append((was, facts_after(was, _restore(Deal, before[("deal", row["id"])]))))
    apply_deal_deltas(session, changes)


def _put_back(
    session: Session,
    items: Sequence[Any],
    current: dict[tuple[str, int], int],
    created: set[tuple[str, int]],
    actor: Actor,
) -> dict[tuple[str, int], int]:
    """Restore the values the batch's updates replaced; each record's new version.

    Each update the batch made counts one version, as undoing them one by one would; where
    several changed one field, the value before the first is the one put back. Records
    the batch also created are about to be deleted, and records deleted since are gone:
    neither is updated. Records that change the same columns go in one executemany, and
    the tags the batch gave contacts are taken off again.
    """
    before: dict[tuple[str, int], dict[str, Any]] = {}
    undone: dict[tuple[str, int], int] = {}
    added: list[dict[str, Any]] = []
    for item in sorted(items, key=lambda i: i.id or 0):
        key = (item.entity, item.entity_id)
        if item.action != "updated" or key in created or key not in current:
            continue
        values = before.setdefault(key, {})
        for name, value in json.loads(item.before or "{}").items():
            if name == ADDED_TAGS:
                added.extend({"t_contact": item.entity_id, "t_tag": tag} for tag in value)
            else:
                values.setdefault(name, value)
        undone[key] = undone.get(key, 0) + 1
    untag = delete(TAGS).where(
        TAGS.c.contact_id == bindparam("t_contact"), TAGS.c.tag == bindparam("t_tag")
    )
    for start in range(0, len(added), _IN_CHUNK):
        session.execute(untag, added[start : start + _IN_CHUNK])
    _move_restored_deals(session, before)
    now, restored = utcnow(), {}
    shapes: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for (entity, entity_id), values in before.items():
        model = _ENTITIES[entity]
        table: Table = model.__table__
        values = {k: v for k, v in _restore(model, values).items() if k in table.c}
        version = current[(entity, entity_id)] + undone[(entity, entity_id)]
        restored[(entity, entity_id)] = version
        params = {f"v_{k}": v for k, v in values.items()}
        shapes.setdefault((entity, tuple(sorted(values))), []).append(
            {**params, "v_id": entity_id, "v_version": version}
        )
    for (entity, columns), rows in shapes.items():
        table = _ENTITIES[entity].__table__
        stamped: dict[str, Any] = {"version": bindparam("v_version")}
        if "updated_at" in table.c:
            stamped["updated_at"] = now
        if "updated_by_id" in table.c:
            stamped["updated_by_id"] = actor.id
        statement = (
            update(table)
            .where(table.c.id == bindparam("v_id"))
            .values(**{c: bindparam(f"v_{c}") for c in columns}, **stamped)
        )
        for start in range(0, len(rows), _IN_CHUNK):
            session.execute(statement, rows[start : start + _IN_CHUNK])
    return restored


def _hand_back(session: Session, batch_id: int, restored: dict[tuple[str, int], int]) -> set[int]:
    """After a revert, the earlier import that last touched each restored record is again
    the last change to it: note the record's new version there, so that import can still
    be reverted (later imports are reverted first, newest to oldest). Returns the ids of
    the earlier import items noted."""
    ids: dict[str, list[int]] = {}
    for entity, entity_id in restored:
        ids.setdefault(entity, []).append(entity_id)
    notes: list[dict[str, Any]] = []
    for entity, wanted in ids.items():
        for chunk in _chunks(sorted(wanted)):
            latest = session.execute(
                sa_select(ITEMS.c.entity_id, func.max(ITEMS.c.id))
                .join(BATCHES, BATCHES.c.id == ITEMS.c.batch_id)
                .where(
                    ITEMS.c.entity == entity,
                    ITEMS.c.entity_id.in_(chunk),
                    ITEMS.c.batch_id < batch_id,
                    BATCHES.c.reverted_at.is_(None),
                )
                .group_by(ITEMS.c.entity_id)
            )
            notes.extend(
                {"n_id": item_id, "n_version": restored[(entity, entity_id)]}
                for entity_id, item_id in latest
            )
    statement = (
        update(ITEMS)
        .where(ITEMS.c.id == bindparam("n_id"))
        .values(version_after=bindparam("n_version"))
    )
    for start in range(0, len(notes), _IN_CHUNK):
        session.execute(statement, notes[start : start + _IN_CHUNK])
    return {note["n_id"] for note in notes}


def _forget_loaded(session: Session, changed: set[tuple[str, Any]]) -> None:
    """Expire the session's copies of rows changed behind its back, so reads see the rows."""
    # By identity key: reading an attribute of an expired object would load it again.
    for key in list(session.identity_map.keys()):
        model, ident = key[0], key[1]
        if (getattr(model, "__tablename__", None), ident[0]) in changed:
            session.expire(session.identity_map[key])


def revert_batch(*, session: Session, batch_id: int, actor: Actor) -> int:
    """Undo an import: remove what it created, restore what it changed; returns rows undone.

    Set-based, a table and a thousand records at a time: the versions are checked, the
    old values put back and the created records deleted in bulk statements, never one
    record at a time.
    """
    require_role(actor, *IMPORTERS, doing="revert an import")
    batch = session.get(ImportBatch, batch_id)
    if batch is None or batch.kind not in kinds_for(actor):
        # A batch of a kind the actor may not import is not theirs to see.
        raise NotFound(f"There is no import {batch_id} that you can revert.")
    if batch.reverted_at is not None:
        raise Conflict(f"Import {batch_id} was already reverted by {batch.reverted_by_name}.")
    session.flush()
    items = session.execute(
        sa_select(*(ITEMS.c[name] for name in _ITEM_COLUMNS))
        .where(ITEMS.c.batch_id == batch_id)
        .order_by(ITEMS.c.id.desc())
    ).all()
    created = {(i.entity, i.entity_id) for i in items if i.action == "created"}
    current = _refuse_if_changed_since(session, batch_id, items)
    restored = _put_back(session, items, current, created, actor)
    doomed: dict[str, list[int]] = {}
    for item in items:
        if item.action != "updated":
            doomed.setdefault(item.entity, []).append(item.entity_id)
    _delete_created(session, doomed, created)
    noted = _hand_back(session, batch_id, restored)
    stale = {(_ENTITIES[e].__tablename__, i) for e, i in restored}
    _forget_loaded(session, stale | {("import_item", i) for i in noted})
    batch.reverted_at = utcnow()
    batch.reverted_by_name = actor.username
    session.add(batch)
    record(
        session=session,
        actor=actor,
        action="import.revert",
        entity="import_batch",
        entity_id=batch_id,
        details={"items": len(items)},
    )
    session.commit()
    return len(items)


# Created records go in this order: what points at others first.
_DELETE_ORDER = ("stage_change", "interaction", "deal", "contact", "organisation", "employee")
_IN_CHUNK = 1000
_ITEM_COLUMNS = ("id", "entity", "entity_id", "action", "before", "version_after")


def _delete_created(
    session: Session, doomed: dict[str, list[int]], created: set[tuple[str, Any]]
) -> None:
    """Delete the records a batch created, a table and a thousand ids at a time.

    Refused (naming one) when anything the batch did not create now points at one of them:
    one query per referring column and chunk, not one per record.
    """
    for entity in sorted(doomed, key=lambda e: _DELETE_ORDER.index(e)):
        model = _ENTITIES[entity]
        table: Table = model.__table__
        ids = sorted(set(doomed[entity]))
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            if entity == "contact":
                session.execute(delete(ContactTag).where(col(ContactTag.contact_id).in_(chunk)))
            session.flush()
            for other, column in reference_columns(entity):
                pk = list(other.primary_key.columns)
                found = session.execute(
                    sa_select(*pk, other.c[column]).where(other.c[column].in_(chunk))
                ).all()
                for row in found:
                    key = row[0] if len(pk) == 1 else tuple(row[: len(pk)])
                    if other.name == entity and key in chunk:
                        continue
                    if (other.name, key) in created:
                        continue
                    raise Conflict(
                        f"{entity.capitalize()} {row[-1]} is now used by {other.name} {key}; "
                        "revert refused. Nothing was reverted."
                    )
            if model is Deal:
                gone = deal_facts(session, [table.c.id.in_(chunk)])
                apply_deal_deltas(session, ((facts, None) for facts in gone))
            session.execute(delete(table).where(table.c.id.in_(chunk)))


def _restore(model: type[Any], before: dict[str, Any]) -> dict[str, Any]:
    """Values saved as JSON text, turned back into the field types of the model."""
    values = dict(before)
    for name, value in values.items():
        info = model.model_fields.get(name)
        if value is None or info is None:
            continue
        kinds = set(typing.get_args(info.annotation)) | {info.annotation}
        if datetime in kinds:
            values[name] = datetime.fromisoformat(value)
        elif date in kinds:
            values[name] = date.fromisoformat(value)
        elif Decimal in kinds:
            values[name] = Decimal(str(value))
    return values
