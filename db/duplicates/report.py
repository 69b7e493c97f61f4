"""Likely duplicate contacts: across the whole table, and for one contact about to be saved."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.visibility import owner_filter, require_reader
from db.core.normalise import normalise_email
from db.core.report_cache import cached, register, stored_fields
from db.core.spreadsheets import rows_csv
from db.core.types import utcnow
from db.duplicates.blocks import (
    CLOCK_MARGIN,
    MATCH_COLUMNS,
    blocks_of_contacts,
    blocks_synced,
    members_of,
    records_by_id,
    sync_blocks,
)
from db.duplicates.matching import (
    CHAIN_LINK,
    CHAIN_REASON,
    DEFAULT_MIN_SCORE,
    WINDOW,
    Match,
    MatchRun,
    Progress,
    best_matches_for,
    block_pairs,
    fold,
    linked_groups,
    match_records,
    phone_key,
)
from db.duplicates.model import Model
from db.duplicates.org_matching import find_organisation_matches
from db.models.people import Contact, ContactCreate, Organisation
from db.models.reports import ReportCache

CSV_HEADER = ("left_id", "left_external_ref", "right_id", "right_external_ref", "score", "reasons")


@register
@dataclass(frozen=True)
class DuplicatePair:
    """Two live contacts that are probably one person."""

    left_id: int
    left_external_ref: str | None
    left_name: str
    right_id: int
    right_external_ref: str | None
    right_name: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """An existing contact that a new one probably duplicates."""

    contact: Contact
    score: float
    reasons: tuple[str, ...]


def _live_conditions(actor: Actor) -> list[Any]:
    conditions: list[Any] = [
        col(Contact.merged_into_id).is_(None),
        col(Contact.erased_at).is_(None),
    ]
    scope = owner_filter(actor, Contact.owner_id)
    if scope is not None:
        conditions.append(scope)
    return conditions


def contact_records(*, session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Live contacts the actor may read, as plain dicts of the fields matching compares."""
    require_reader(actor, what="contacts")
    columns = [getattr(Contact, name) for name in MATCH_COLUMNS]
    rows = session.execute(
        select(*columns).where(*_live_conditions(actor)).order_by(col(Contact.id))
    ).all()
    return [dict(zip(MATCH_COLUMNS, row, strict=True)) for row in rows]


register(Model)


@register
@dataclass(frozen=True)
class PairsRun:
    """One run of the matcher: its pairs, when it began, and the contacts it compared
    (their ids as comma-separated runs, "1-9500,9502"), so the next run rescores only
    what changed since."""

    pairs: list[DuplicatePair]
    started_at: datetime
    ids: str
    # The weights the run learned from the contacts, kept so that rescoring the changed
    # contacts weighs evidence as the full run did (None in runs stored before).
    model: Model | None = None
    # The blocks too crowded to compare every pair of (more than WINDOW members): their
    # members' ids in the order compared, comma-separated, so a refresh knows which pairs
    # a change added or removed there (None in runs stored before).
    crowded: dict[str, str] | None = None


def find_duplicate_pairs(
    *, session: Session, actor: Actor, min_score: float = DEFAULT_MIN_SCORE, workers: int = 1
) -> list[DuplicatePair]:
    """Every likely duplicate pair of live contacts, best first."""
    return match_contacts(session=session, actor=actor, min_score=min_score, workers=workers).pairs


def match_contacts(
    *,
    session: Session,
    actor: Actor,
    min_score: float = DEFAULT_MIN_SCORE,
    workers: int = 1,
    previous: PairsRun | None = None,
    progress: Progress | None = None,
) -> PairsRun:
    """A run of the matcher over the live contacts the actor may read. Given the
    `previous` run (same actor and threshold), only the candidate pairs that a contact
    created, edited, merged, erased or newly readable since could change are scored (see
    `_refresh_run`); the pairs equal those of a full run with the previous run's model."""
    require_reader(actor, what="contacts")
    if previous is not None and _can_refresh(session, previous):
        return _refresh_run(
            session=session, actor=actor, previous=previous, min_score=min_score, progress=progress
        )
    started_at = utcnow()
    records = contact_records(session=session, actor=actor)
    run = match_records(records, min_score=min_score, workers=workers, progress=progress)
    return _as_run(records, run, started_at, {int(r["id"]) for r in records})


def _can_refresh(session: Session, previous: "PairsRun | None") -> bool:
    """Whether `previous` holds what a refresh needs, and the blocks were built."""
    if previous is None or previous.model is None or previous.crowded is None:
        return False
    return blocks_synced(session=session)


def _as_run(
    records: list[dict[str, Any]], run: MatchRun, started_at: datetime, live: set[int]
) -> PairsRun:
    pairs = []
    for match in run.matches:
        left, right = records[match.left], records[match.right]
        if left["id"] > right["id"]:
            left, right = right, left
        pairs.append(
            DuplicatePair(
                left_id=left["id"],
                left_external_ref=left["external_ref"],
                left_name=_name(left),
                right_id=right["id"],
                right_external_ref=right["external_ref"],
                right_name=_name(right),
                score=match.score,
                reasons=match.reasons,
            )
        )
    crowded = {
        key: ",".join(str(records[i]["id"]) for i in ordered)
        for key, ordered in run.crowded.items()
    }
    return PairsRun(
        pairs=pairs,
        started_at=started_at,
        ids=_id_ranges(live),
        model=run.model,
        crowded=crowded,
    )


def _id_ranges(ids: set[int]) -> str:
    """Ids as comma-separated runs ("1-9500,9502-10000"): a table's ids are mostly
    consecutive, so 100k of them take a few bytes rather than 600 kB to store and read."""
    runs: list[str] = []
    ordered = sorted(ids)
    start = 0
    for n in range(1, len(ordered) + 1):
        if n == len(ordered) or ordered[n] != ordered[n - 1] + 1:
            first, last = ordered[start], ordered[n - 1]
            runs.append(str(first) if first == last else f"{first}-{last}")
            start = n
    return ",".join(runs)


def _id_list(text: str) -> list[int]:
    """The ids of `_id_ranges` text (or of plain comma-separated ids)."""
    found: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        if last:
            found.extend(range(int(first), int(last) + 1))
        elif first:
            found.append(int(first))
    return found


def _refresh_run(
    *,
    session: Session,
    actor: Actor,
    previous: PairsRun,
    min_score: float,
    progress: Progress | None,
) -> PairsRun:
    """The previous run brought up to date. A candidate pair comes from a block its two
    contacts share: all pairs of a small block, name-order neighbours in a crowded one.
    So only the blocks a changed contact falls (or fell) into can gain or lose pairs:
    their members now come from the stored blocks, their order then from the run."""
    started_at = utcnow()
    if progress is not None:
        progress("Finding the contacts changed since the last run", 0.0)
    sync_blocks(session=session)
    table = Contact.__table__  # type: ignore[attr-defined]
    live = set(session.execute(sa_select(table.c.id).where(*_live_conditions(actor))).scalars())
    compared = set(_id_list(previous.ids))
    edited = set(
        session.execute(
            sa_select(table.c.id).where(table.c.updated_at >= previous.started_at - CLOCK_MARGIN)
        ).scalars()
    )
    changed = (live ^ compared) | (edited & (live | compared))
    # The crowded blocks a changed contact was in: found in the stored text, and only
    # those read as numbers (a large table has thousands of crowded blocks).
    marks = [f",{i}," for i in changed]
    crowded = dict(previous.crowded or {})
    before = {
        key: _id_list(ids)
        for key, ids in crowded.items()
        if any(mark in f",{ids}," for mark in marks)
    }
    affected = set(before)
    for keys in blocks_of_contacts(session=session, ids=changed & live).values():
        affected |= keys
    generated: set[tuple[int, int]] = set()
    to_score: set[tuple[int, int]] = set()
    near: set[int] = set()  # every contact in an affected block, then or now
    for key in affected:
        crowded.pop(key, None)
    for key, members in members_of(session=session, keys=affected).items():
        ordered = [i for _rank, i in members if i in live]
        pairs = set(block_pairs(ordered))
        generated |= pairs
        to_score |= {p for p in pairs if p[0] in changed or p[1] in changed}
        if key in before:
            # Pairs of unchanged contacts that a contact leaving brought within the window.
            to_score |= pairs - set(block_pairs(before[key]))
        if len(ordered) > WINDOW:
            crowded[key] = ",".join(str(i) for i in ordered)
        near.update(ordered)
    for ids in before.values():
        near.update(ids)
    kept = _kept_pairs(session, previous.pairs, changed, generated, near, affected, crowded)
    # Records are read only for the pairs to score and for the chains they may join.
    involved = {i for p in to_score for i in p} | _chain_members(
        [p for p, pair in kept.items() if pair.score >= CHAIN_LINK] + list(to_score)
    )
    inside = {p: pair for p, pair in kept.items() if p[0] in involved and p[1] in involved}
    records = sorted(
        records_by_id(session=session, ids=involved | {i for p in inside for i in p}).values(),
        key=lambda r: int(r["id"]),
    )
    index_of = {int(r["id"]): i for i, r in enumerate(records)}
    run = match_records(
        records,
        min_score=min_score,
        fresh={index_of[i] for i in changed if i in index_of},
        known={
            (index_of[a], index_of[b]): Match(index_of[a], index_of[b], p.score, p.reasons)
            for (a, b), p in inside.items()
        },
        model=previous.model,
        progress=progress,
        candidates=[(index_of[a], index_of[b]) for a, b in to_score | set(inside)],
    )
    found = _as_run(records, run, started_at, set()).pairs
    found += [pair for p, pair in kept.items() if p not in inside]
    found.sort(key=lambda p: (-p.score, p.left_id, p.right_id))
    same = live == compared
    return PairsRun(
        pairs=found,
        started_at=started_at,
        ids=previous.ids if same else _id_ranges(live),
        model=previous.model,
        crowded=crowded,
    )


def _kept_pairs(
    session: Session,
    pairs: list[DuplicatePair],
    changed: set[int],
    generated: set[tuple[int, int]],
    near: set[int],
    affected: set[str],
    crowded: dict[str, str],
) -> dict[tuple[int, int], DuplicatePair]:
    """The previous direct matches of two unchanged contacts that are still candidates
    (so still matches: their score depends on the two contacts alone)."""
    kept: dict[tuple[int, int], DuplicatePair] = {}
    unsure: list[DuplicatePair] = []
    for pair in pairs:
        ends = (pair.left_id, pair.right_id)
        if CHAIN_REASON in pair.reasons or not changed.isdisjoint(ends):
            continue
        if ends in generated or near.isdisjoint(ends):
            kept[ends] = pair
        else:
            unsure.append(pair)
    keys_of = blocks_of_contacts(
        session=session, ids={i for p in unsure for i in (p.left_id, p.right_id)}
    )
    for pair in unsure:
        shared = keys_of.get(pair.left_id, set()) & keys_of.get(pair.right_id, set())
        if any(_still_paired(crowded.get(k), pair) for k in shared - affected):
            kept[(pair.left_id, pair.right_id)] = pair
    return kept


def _chain_members(links: list[tuple[int, int]]) -> set[int]:
    """Contacts in a group of three or more joined by these links (chains can form only
    there; the links are a superset of the sure matches)."""
    return {i for group in linked_groups(links) if len(group) >= 3 for i in group}


def _still_paired(ordered: str | None, pair: DuplicatePair) -> bool:
    """Whether a block unaffected by the changes (None: a small one) still pairs these."""
    if ordered is None:
        return True
    where = {i: n for n, i in enumerate(_id_list(ordered))}
    return abs(where[pair.left_id] - where[pair.right_id]) < WINDOW


def find_duplicate_organisations(
    *, session: Session, actor: Actor, min_score: float = DEFAULT_MIN_SCORE
) -> list[DuplicatePair]:
    """Likely duplicate organisations (same domain, or the same name give or take a suffix)."""
    require_reader(actor, what="organisations")
    query = (
        sa_select(
            col(Organisation.id),
            col(Organisation.name),
            col(Organisation.domain),
            col(Organisation.postcode),
            col(Organisation.locality),
        )
        .where(col(Organisation.merged_into_id).is_(None))
        .order_by(col(Organisation.id))
    )
    scope = owner_filter(actor, Organisation.owner_id)
    if scope is not None:
        query = query.where(scope)
    records = [
        dict(zip(("id", "name", "domain", "postcode", "locality"), row, strict=True))
        for row in session.execute(query).all()
    ]
    return [
        DuplicatePair(
            left_id=records[m.left]["id"],
            left_external_ref=None,
            left_name=records[m.left]["name"],
            right_id=records[m.right]["id"],
            right_external_ref=None,
            right_name=records[m.right]["name"],
            score=m.score,
            reasons=m.reasons,
        )
        for m in find_organisation_matches(records, min_score=min_score)
    ]


def _name(record: dict[str, Any]) -> str:
    return " ".join(p for p in (record["given_name"], record["family_name"]) if p)


def pairs_csv(pairs: Sequence[DuplicatePair]) -> str:
    """The pairs as CSV text with the documented columns."""
    return rows_csv(
        CSV_HEADER,
        (
            [
                p.left_id,
                p.left_external_ref or "",
                p.right_id,
                p.right_external_ref or "",
                f"{p.score:.4f}",
                "; ".join(p.reasons),
            ]
            for p in pairs
        ),
    )


def likely_duplicates_of(
    *,
    session: Session,
    candidate: ContactCreate,
    actor: Actor,
    min_score: float = DEFAULT_MIN_SCORE,
    limit: int = 5,
) -> list[Candidate]:
    """Existing contacts the actor can see that the one about to be saved probably duplicates."""
    require_reader(actor, what="contacts")
    values = candidate.model_dump(exclude={"tags"})
    given, family = fold(values.get("given_name")), fold(values.get("family_name"))
    # Narrow in SQL with the same kinds of blocks the matcher uses, then score in Python.
    ors: list[Any] = []
    for email in (values.get("email"), values.get("email2")):
        if email:
            try:
                normal = normalise_email(email)
            except Exception:  # a malformed email simply does not narrow the search
                normal = None
            if normal:
                ors += [col(Contact.email) == normal, col(Contact.email2) == normal]
    for phone in (values.get("phone"), values.get("mobile")):
        key = phone_key(phone)
        if key:
            ors += [col(Contact.phone).like(f"%{key}"), col(Contact.mobile).like(f"%{key}")]
    if values.get("date_of_birth"):
        ors.append(col(Contact.date_of_birth) == values["date_of_birth"])
    if values.get("identifier"):
        ors.append(col(Contact.identifier) == values["identifier"].strip())
    for name in (family, given):
        if len(name) >= 2:
            ors.append(func.lower(Contact.family_name).like(f"{name[:2]}%"))
    if not ors:
        return []
    columns = [getattr(Contact, name) for name in MATCH_COLUMNS]
    rows = session.execute(
        select(*columns).where(*_live_conditions(actor), or_(*ors)).limit(2000)
    ).all()
    records = [dict(zip(MATCH_COLUMNS, row, strict=True)) for row in rows]
    found = best_matches_for(values, records, min_score=min_score, limit=limit)
    return [
        Candidate(session.get(Contact, records[m.right]["id"]), m.score, m.reasons)  # type: ignore[arg-type]
        for m in found
    ]


# A safety net for changes made around the commands (a hand-edited row): at most a day old.
PAIRS_MAX_AGE = timedelta(hours=24)


def contacts_data_version(*, session: Session) -> str:
    """A fingerprint of the contacts matching reads: creating, editing, merging, undoing a
    merge, erasing and deleting (undoing an import) each change one of these figures, in
    every server process. Each is answered from an index (one aggregate per query, so
    SQLite can)."""
    table = Contact.__table__  # type: ignore[attr-defined]
    figures = [
        session.execute(sa_select(func.max(table.c.updated_at))).scalar_one(),
        session.execute(sa_select(func.max(table.c.id))).scalar_one(),
        session.execute(sa_select(func.count()).select_from(table)).scalar_one(),
        session.execute(
            sa_select(func.count()).select_from(table).where(table.c.merged_into_id.is_not(None))
        ).scalar_one(),
    ]
    return ":".join(str(f or 0) for f in figures)


def _pairs_key(actor: Actor, min_score: float) -> str:
    return f"duplicate-runs:{actor.id}:{min_score:.4f}"


def pairs_need_full_run(
    *, session: Session, actor: Actor, min_score: float = DEFAULT_MIN_SCORE
) -> bool:
    """Whether the next duplicate_pairs_report compares every contact from nothing: no
    stored run (or one older than PAIRS_MAX_AGE, unreadable, or without its model to
    rescore changes with). Otherwise it reads the stored run or rescores only changes."""
    require_reader(actor, what="contacts")
    row = session.get(ReportCache, _pairs_key(actor, min_score))
    if row is None or utcnow() - row.computed_at > PAIRS_MAX_AGE:
        return True
    # Only what the run holds matters here: rebuilding it would cost as much as reading it.
    fields = stored_fields(row.payload, PairsRun)
    if fields is None:
        return True
    refreshable = (
        fields.get("model") is not None
        and fields.get("crowded") is not None
        and blocks_synced(session=session)
    )
    return not refreshable and row.version != contacts_data_version(session=session)


def _full_run(
    *, session: Session, actor: Actor, min_score: float, progress: Progress | None
) -> PairsRun:
    """A full run that also brings the stored blocks up to date for later refreshes."""
    started_at = utcnow()
    records = contact_records(session=session, actor=actor)
    run = match_records(records, min_score=min_score, progress=progress)
    if progress is not None:
        progress("Storing the blocks for later refreshes", 1.0)
    # An actor who reads every contact has just prepared them all: the blocks' first
    # build reuses that work.
    everyone = owner_filter(actor, Contact.owner_id) is None
    sync_blocks(
        session=session,
        live_people={int(r["id"]): run.people[i] for i, r in enumerate(records)}
        if everyone
        else None,
        read_at=started_at,
    )
    return _as_run(records, run, started_at, {int(r["id"]) for r in records})


def duplicate_pairs_report(
    *,
    session: Session,
    actor: Actor,
    min_score: float = DEFAULT_MIN_SCORE,
    progress: Progress | None = None,
) -> list[DuplicatePair]:
    """find_duplicate_pairs, stored until a contact changes (the match takes seconds at
    100k contacts; reading it back takes milliseconds). After a change, the stored run
    is brought up to date by rescoring only the pairs that touch changed contacts.
    `progress` is told of each step of the matching, when there is any to do."""
    require_reader(actor, what="contacts")

    def full_run() -> PairsRun:
        return _full_run(session=session, actor=actor, min_score=min_score, progress=progress)

    run = cached(
        session=session,
        key=_pairs_key(actor, min_score),
        version=contacts_data_version(session=session),
        compute=full_run,
        max_age=PAIRS_MAX_AGE,
        refresh=lambda stored: (
            _refresh_run(
                session=session,
                actor=actor,
                previous=stored,
                min_score=min_score,
                progress=progress,
            )
            if isinstance(stored, PairsRun) and _can_refresh(session, stored)
            else full_run()
        ),
    )
    return run.pairs


def organisations_data_version(*, session: Session) -> str:
    """A fingerprint of the organisations: creating or editing one changes it."""
    table = Organisation.__table__  # type: ignore[attr-defined]
    figures = [
        session.execute(sa_select(func.max(table.c.updated_at))).scalar_one(),
        session.execute(sa_select(func.max(table.c.id))).scalar_one(),
        session.execute(sa_select(func.count()).select_from(table)).scalar_one(),
    ]
    return ":".join(str(f or 0) for f in figures)


def duplicate_organisations_report(
    *, session: Session, actor: Actor, min_score: float = DEFAULT_MIN_SCORE
) -> list[DuplicatePair]:
    """find_duplicate_organisations, stored until an organisation changes."""
    require_reader(actor, what="organisations")
    return cached(
        session=session,
        key=f"duplicate-organisations:{actor.id}:{min_score:.4f}",
        version=organisations_data_version(session=session),
        compute=lambda: find_duplicate_organisations(
            session=session, actor=actor, min_score=min_score
        ),
        max_age=PAIRS_MAX_AGE,
    )
