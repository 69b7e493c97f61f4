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
from db.core.report_cache import cached, loads, register
from db.core.spreadsheets import rows_csv
from db.core.types import utcnow
from db.duplicates.matching import (
    DEFAULT_MIN_SCORE,
    Match,
    Progress,
    best_matches_for,
    fold,
    match_records,
    phone_key,
)
from db.duplicates.model import Model
from db.duplicates.org_matching import find_organisation_matches
from db.models.people import Contact, ContactCreate, Organisation
from db.models.reports import ReportCache

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
    (their ids, comma-separated), so the next run rescores only what changed since."""

    pairs: list[DuplicatePair]
    started_at: datetime
    ids: str
    # The weights the run learned from the contacts, kept so that rescoring the changed
    # contacts weighs evidence as the full run did (None in runs stored before).
    model: Model | None = None


# Contacts edited this long before a run began are rescored too: server clocks may differ.
CLOCK_MARGIN = timedelta(minutes=5)


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
    `previous` run (same actor and threshold), only pairs touching a contact created,
    edited or newly readable since are scored; the pairs equal those of a full run."""
    started_at = utcnow()
    records = contact_records(session=session, actor=actor)
    fresh: set[int] | None = None
    known: dict[tuple[int, int], Match] = {}
    if previous is not None:
        index_of = {r["id"]: i for i, r in enumerate(records)}
        compared = {int(i) for i in previous.ids.split(",") if i}
        edited = session.exec(
            select(Contact.id).where(col(Contact.updated_at) >= previous.started_at - CLOCK_MARGIN)
        ).all()
        fresh = {i for contact_id, i in index_of.items() if contact_id not in compared}
        fresh |= {index_of[c] for c in edited if c in index_of}
        for p in previous.pairs:
            a, b = index_of.get(p.left_id), index_of.get(p.right_id)
            if a is not None and b is not None:
                known[(a, b)] = Match(a, b, p.score, p.reasons)
    model = previous.model if previous is not None else None
    if model is None:
        fresh, known = None, {}  # no weights to rescore with: a full run learns them anew
    pairs = []
    run = match_records(
        records,
        min_score=min_score,
        workers=workers,
        fresh=fresh,
        known=known,
        model=model,
        progress=progress,
    )
    found = run.matches
    for match in found:
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
    ids = ",".join(str(r["id"]) for r in records)
    return PairsRun(pairs=pairs, started_at=started_at, ids=ids, model=run.model)


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
    merge and erasing each change one of these figures, in every server process. Each
    is answered from an index (one aggregate per query, so SQLite can)."""
    table = Contact.__table__  # type: ignore[attr-defined]
    figures = [
        session.execute(sa_select(func.max(table.c.updated_at))).scalar_one(),
        session.execute(sa_select(func.max(table.c.id))).scalar_one(),
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
    try:
        stored = loads(row.payload)
    except (KeyError, TypeError, ValueError):
        return True
    if not isinstance(stored, PairsRun):
        return True
    return stored.model is None and row.version != contacts_data_version(session=session)


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
    run = cached(
        session=session,
        key=_pairs_key(actor, min_score),
        version=contacts_data_version(session=session),
        compute=lambda: match_contacts(
            session=session, actor=actor, min_score=min_score, progress=progress
        ),
        max_age=PAIRS_MAX_AGE,
        refresh=lambda stored: match_contacts(
            session=session,
            actor=actor,
            min_score=min_score,
            previous=stored if isinstance(stored, PairsRun) else None,
            progress=progress,
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
