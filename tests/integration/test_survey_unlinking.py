"""Nothing in the database pairs a survey response with its invitation or its author.

Each test plays an administrator with the database: joining on PostgreSQL's
transaction ids, replaying the order of commits, reading SQLite's write-ahead log,
matching stored cuts against the employee directory, reading the audit log and a
backup. Held answers are written in batches, so the tests write them explicitly where
they look at what is stored.
"""

import gzip
import json
import struct
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from db.auth.actor import OPERATOR
from db.core.backup import backup
from db.core.engine import make_engine
from db.models.audit import AuditEvent
from db.models.auth import Role
from db.models.surveys import EmployeeCreate, Survey, SurveyInvitation, SurveyResponse
from db.surveys.answers import CUTS, NOT_STATED, generalise, import_response, submit_answers
from db.surveys.builder import close_survey
from db.surveys.distribution import issue_links, open_survey
from db.surveys.employees import create_employee, tenure_band
from db.surveys.held import flush_held_answers, held_count
from db.surveys.reports import groups
from tests.integration.test_surveys import answers_for, new_survey, staff, tokens_of, user

TODAY = date.today()


def answer(session: Session, survey_id: int, emails: list[str]) -> None:
    # Fresh links for everyone who has not answered yet (a second download of links
    # lists only people never sent one), so answers can arrive over several calls.
    tokens = {
        link.email: parse_qs(urlparse(link.url).query)["token"][0]
        for link in issue_links(
            session=session, survey_id=survey_id, actor=OPERATOR, everyone_unanswered=True
        )
    }
    for email in emails:
        submit_answers(
            session=session, token=tokens[email], answers=answers_for(session, survey_id, 4)
        )


def import_paper_answer(session: Session, survey_id: int, score: int, actor: Any) -> None:
    """HR types in one paper answer, for the first invitation not yet answered."""
    paper = session.exec(
        select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey_id,
            SurveyInvitation.answered.is_(False),  # type: ignore[union-attr]
        )
    ).first()
    assert paper is not None and paper.id is not None
    import_response(
        session=session,
        invitation_id=paper.id,
        answers=answers_for(session, survey_id, score),
        submitted_on=TODAY,
        actor=actor,
    )


def opened(session: Session, **extra: object) -> int:
    survey = new_survey(session, **extra)
    assert survey.id is not None
    open_survey(session=session, survey_id=survey.id, actor=OPERATOR)
    return survey.id


def test_the_xmin_join_pairs_no_response_with_its_invitation(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("xmin is PostgreSQL's transaction id")
    staff(session, {("Sales", "North"): 7, ("Sales", "South"): 6})
    sid = opened(session)
    answer(session, sid, [f"p{i}@example.org" for i in range(1, 12)])
    # One answer typed in by HR from a paper form takes the other path.
    import_paper_answer(session, sid, 2, OPERATOR)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    assert session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 12
    joined = session.execute(
        text(
            "SELECT count(*) FROM survey_invitation i "
            "JOIN survey_response r ON i.xmin = r.xmin WHERE i.answered"
        )
    ).scalar_one()
    assert joined == 0
    joined_answers = session.execute(
        text(
            "SELECT count(*) FROM survey_invitation i "
            "JOIN survey_answer a ON i.xmin = a.xmin WHERE i.answered"
        )
    ).scalar_one()
    assert joined_answers == 0
    # Nor can the ids be ordered to say whose link was spent between two batches:
    # every invitation of the survey carries the same one.
    stamps = session.execute(
        text("SELECT count(DISTINCT xmin::text) FROM survey_invitation WHERE survey_id = :s"),
        {"s": sid},
    ).scalar_one()
    assert stamps == 1


class Commits:
    """Every committed transaction of an engine, as the tables it inserted or updated."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.log: list[set[str]] = []
        event.listen(engine, "after_cursor_execute", self._write)
        event.listen(engine, "commit", self._commit)

    def _write(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        if words and words[0].upper() in {"INSERT", "UPDATE"}:
            table = words[2] if words[0].upper() == "INSERT" else words[1]
            conn.info.setdefault("writes", set()).add(f"{words[0].upper()} {table}")

    def _commit(self, conn: Any) -> None:
        writes = conn.info.pop("writes", set())
        if writes:
            self.log.append(writes)

    def close(self) -> None:
        event.remove(self.engine, "after_cursor_execute", self._write)
        event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def commits(engine: Engine) -> Iterator[Commits]:
    recorder = Commits(engine)
    yield recorder
    recorder.close()


def test_replaying_the_commits_never_pairs_a_spent_link_with_an_answer(
    session: Session, commits: Commits
) -> None:
    staff(session, {("Sales", "North"): 8, ("Ops", "Depot"): 6})
    sid = opened(session, min_group=4)
    tokens = tokens_of(session, sid)
    counts = []
    commits.log.clear()
    for number in range(1, 14):
        submit_answers(
            session=session,
            token=tokens[f"p{number}@example.org"],
            answers=answers_for(session, sid, number % 5 + 1),
        )
        counts.append(
            session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one()
        )
    spent = [c for c in commits.log if "UPDATE survey_invitation" in c]
    stored = [c for c in commits.log if c & {"INSERT survey_response", "INSERT survey_answer"}]
    assert len(spent) == 13 and len(stored) == 3
    # No commit both spends a link and stores an answer (or logs one).
    assert not [c for c in stored if "UPDATE survey_invitation" in c]
    assert not [c for c in spent if "INSERT audit_event" in c]
    # Answers arrive only in batches of at least the threshold, so the commit after a
    # spent link never adds the answer of that link alone.
    steps = [b - a for a, b in zip([0, *counts], counts, strict=False)]
    assert all(step == 0 or step >= 4 for step in steps), steps
    assert counts[-1] == 12 and held_count(session=session, survey_id=sid) == 1


def wal_commits(path: Path) -> list[tuple[set[int], bytes]]:
    """The commits a SQLite WAL file holds: the pages each wrote, and their bytes."""
    if not path.exists() or path.stat().st_size < 32:
        return []
    data = path.read_bytes()
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    result: list[tuple[set[int], bytes]] = []
    pages: set[int] = set()
    images = b""
    offset = 32
    while offset + 24 + page_size <= len(data):
        header = data[offset : offset + 24]
        if header[8:16] != salts:
            break  # a frame left over from an earlier generation of the log
        page, commit_size = struct.unpack(">II", header[:8])
        pages.add(page)
        images += data[offset + 24 : offset + 24 + page_size]
        if commit_size:
            result.append((pages, images))
            pages, images = set(), b""
        offset += 24 + page_size
    return result


def pairs_in_wal(path: Path, invitation_pages: set[int], response_ids: list[str]) -> bool:
    """Whether the log holds a spent link and a stored answer it could be paired with."""
    held = wal_commits(path)
    flips = any(pages & invitation_pages for pages, _ in held)
    answers = any(rid.encode() in images for _, images in held for rid in response_ids)
    return flips and answers


def test_the_sqlite_write_ahead_log_never_holds_a_spent_link_beside_an_answer(
    tmp_path: Path,
) -> None:
    database = tmp_path / "rapport.db"
    engine = make_engine(f"sqlite:///{database}")
    SQLModel.metadata.create_all(engine)
    wal = Path(f"{database}-wal")
    try:
        with Session(engine, expire_on_commit=False) as session:
            staff(session, {("Sales", "North"): 6, ("Sales", "South"): 6})
            sid = opened(session)
            tokens = tokens_of(session, sid)
            roots = {
                int(page)
                for (page,) in session.execute(
                    text("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'survey_invitation'")
                )
            }
            for number in range(1, 12):
                submit_answers(
                    session=session,
                    token=tokens[f"p{number}@example.org"],
                    answers=answers_for(session, sid, 3),
                )
                ids = list(session.exec(select(SurveyResponse.id)).all())
                assert not pairs_in_wal(wal, roots, ids), number
            close_survey(session=session, survey_id=sid, actor=OPERATOR)
            ids = list(session.exec(select(SurveyResponse.id)).all())
            assert len(ids) == 11 and not pairs_in_wal(wal, roots, ids)

            # The reader above does find the pair when one commit holds both, as
            # before: one link spent and one response stored in the same transaction.
            with engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
                connection.execute(
                    text("UPDATE survey_invitation SET answered = 1 WHERE id = :i"),
                    {"i": session.exec(select(SurveyInvitation.id)).all()[-1]},
                )
                connection.execute(
                    text(
                        "INSERT INTO survey_response (id, survey_id, department, team, "
                        "location, tenure_band, submitted_on) VALUES "
                        "('ffffffffffffffffffffffffffffffff', :s, 'Sales', 'South', 'Leeds', "
                        "'1-2 years', :d)"
                    ),
                    {"s": sid, "d": TODAY.isoformat()},
                )
            assert pairs_in_wal(wal, roots, ["ffffffffffffffffffffffffffffffff"])
    finally:
        engine.dispose()


def test_the_audit_log_counts_answers_per_batch_with_no_entry_per_answer(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 9})
    sid = opened(session)

    def answer_events() -> list[AuditEvent]:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action.like("survey.answer%"))  # type: ignore[attr-defined]
                .order_by(AuditEvent.seq)  # type: ignore[arg-type]
            ).all()
        )

    answer(session, sid, [f"p{i}@example.org" for i in range(1, 5)])
    # Four links spent, nothing written yet: the log has no entry to time them by.
    assert answer_events() == []
    answer(session, sid, ["p5@example.org", "p6@example.org", "p7@example.org"])
    [batch] = answer_events()
    assert batch.action == "survey.answers"
    assert json.loads(batch.details or "{}")["count"] == 5
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    events = answer_events()
    assert [json.loads(e.details or "{}")["count"] for e in events] == [5, 2]


def test_a_response_keeps_no_time_of_day_and_only_the_day_of_its_batch(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = opened(session)
    answer(session, sid, [f"p{i}@example.org" for i in range(1, 6)])
    rows = session.execute(select(SurveyResponse.submitted_on, SurveyResponse.submitted_at)).all()
    assert len(rows) == 5 and set(rows) == {(TODAY, None)}


def test_a_backup_lists_responses_in_key_order_not_the_order_they_were_stored(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite backs up the database file, whose tables are in key order")
    staff(session, {("Sales", "North"): 12})
    sid = opened(session)
    answer(session, sid, [f"p{i}@example.org" for i in range(1, 13)])
    target = tmp_path / "backup.jsonl.gz"
    backup(engine, target)
    with gzip.open(target, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    ids = [r["r"]["id"] for r in rows if r.get("t") == "survey_response"]
    assert len(ids) == 10 and ids == sorted(ids)
    keys = [
        (r["r"]["response_id"], r["r"]["question_id"])
        for r in rows
        if r.get("t") == "survey_answer"
    ]
    assert keys == sorted(keys)


def test_a_team_smaller_than_the_threshold_is_never_stored_beside_an_answer(
    session: Session,
) -> None:
    # South has two people: a response naming South would be one of two.
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 2, ("Sales", "East"): 5})
    sid = opened(session)
    answer(session, sid, [f"p{i}@example.org" for i in range(1, 14)])
    flush_held_answers(session=session, survey_id=sid)
    teams = Counter(session.exec(select(SurveyResponse.team)).all())
    # South cannot stand alone and the smallest other team gives it cover.
    assert teams == {"North": 6, NOT_STATED: 7}


def test_answers_still_held_when_the_survey_closes_are_written_and_counted(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 7})
    sid = opened(session)
    answer(session, sid, [f"p{i}@example.org" for i in range(1, 7)])
    assert held_count(session=session, survey_id=sid) == 1
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    assert held_count(session=session, survey_id=sid) == 0
    hr = user(session, "hana", Role.hr)
    [everyone, *_] = groups(session=session, survey_id=sid, actor=hr)
    assert everyone.n == 6


# The directory an attacker holds: department, team, tenure band, location, manager.
people = st.lists(
    st.tuples(
        st.sampled_from(["Sales", "Ops", "Care"]),
        st.sampled_from(["North", "South", "East", "Depot"]),
        st.sampled_from(["under 1 year", "1-2 years", "2-5 years"]),
        st.sampled_from(["Leeds", "York", "Hull"]),
        st.sampled_from(["ann@example.org", "bo@example.org", ""]),  # the line manager
    ),
    min_size=1,
    max_size=60,
)


@given(directory=people, k=st.integers(min_value=3, max_value=8))
def test_every_stored_combination_is_shared_by_at_least_the_threshold_of_invitees(
    directory: list[tuple[str, str, str, str, str]], k: int
) -> None:
    mapping = generalise(directory, k)
    stored = Counter(mapping[person] for person in directory)
    # The attacker who knows the rule re-runs it on the directory: no class is smaller
    # than the threshold (unless the whole audience is).
    assert min(stored.values()) >= min(k, len(directory))
    for person in directory:
        kept = mapping[person]
        # Only whole attributes are given up, location first, then tenure, then team.
        cut = next((i for i, v in enumerate(kept) if v != person[i]), len(CUTS))
        assert kept[:cut] == person[:cut]
        assert set(kept[cut:]) <= {NOT_STATED}
        # The attacker who just matches what is stated finds at least as many.
        matches = [
            p for p in directory if all(v == NOT_STATED or v == p[i] for i, v in enumerate(kept))
        ]
        assert len(matches) >= min(k, len(directory))
    assert generalise(list(reversed(directory)), k) == mapping


def reset(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@settings(max_examples=12)
@given(
    teams=st.lists(
        st.tuples(
            st.sampled_from(["Sales", "Ops"]),
            st.sampled_from(["North", "South", "East"]),
            st.sampled_from(["Leeds", "York"]),
            st.integers(min_value=0, max_value=2000),
        ),
        min_size=5,
        max_size=24,
    ),
    answering=st.floats(min_value=0.3, max_value=1.0),
)
def test_joining_stored_responses_to_the_directory_never_singles_out_an_invitee(
    engine: Engine, teams: list[tuple[str, str, str, int]], answering: float
) -> None:
    reset(engine)
    with Session(engine, expire_on_commit=False) as session:
        for number, (department, team, location, days) in enumerate(teams, start=1):
            create_employee(
                session=session,
                employee_in=EmployeeCreate(
                    name=f"Person {number}",
                    email=f"p{number}@example.org",
                    department=department,
                    team=team,
                    location=location,
                    start_date=TODAY - timedelta(days=days),
                ),
                actor=OPERATOR,
            )
        sid = opened(session)
        survey = session.get(Survey, sid)
        assert survey is not None
        emails = [f"p{n}@example.org" for n in range(1, max(1, int(len(teams) * answering)) + 1)]
        answer(session, sid, emails)
        flush_held_answers(session=session, survey_id=sid)
        responses = session.execute(
            select(
                SurveyResponse.department,
                SurveyResponse.team,
                SurveyResponse.tenure_band,
                SurveyResponse.location,
            )
        ).all()
        # The attacker's directory: everyone invited, as the employee table has them.
        directory = [
            (d, t, tenure_band(TODAY - timedelta(days=days), survey.opens_on), lo)
            for d, t, lo, days in teams
        ]
        mapping = generalise(directory, survey.min_group)
        classes = Counter(mapping[p] for p in directory)
        for row in responses:
            stored = tuple(row)
            naive = [
                p
                for p in directory
                if all(v == NOT_STATED or v == p[i] for i, v in enumerate(stored))
            ]
            assert len(naive) >= survey.min_group, stored
            assert classes[stored] >= survey.min_group, stored
    reset(engine)
