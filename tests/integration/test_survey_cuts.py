"""Cuts by tenure band, location and manager, alone and two together, on a real survey.

The attacker is HR holding every view: the department view, each cut alone and every
pair of cuts. From the figures shown they try to work out any set of fewer than the
threshold of respondents; it must not come out. Managers see only their own tree.
"""

from datetime import timedelta
from itertools import combinations

import numpy as np
import pytest
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.core.errors import Forbidden, ValidationError
from db.core.small_groups import SMALL
from db.models.auth import Role
from db.models.surveys import EmployeeCreate, SurveyResponse
from db.surveys.answers import submit_answers
from db.surveys.builder import close_survey
from db.surveys.cuts import ADDED_SINCE_CLOSE, PAIRS, WAITING, cut_view
from db.surveys.distribution import open_survey
from db.surveys.employees import create_employee
from db.surveys.held import flush_held_answers
from db.surveys.reports import groups
from tests.integration.test_survey_unlinking import import_paper_answer
from tests.integration.test_surveys import TODAY, answers_for, new_survey, tokens_of, user

YEARS = {"5+ years": 2500, "1-2 years": 500, "under 1 year": 100}
# (department, team, manager, tenure band, location, invited, answering)
LAYOUT = [
    ("Sales", "North", "mia", "5+ years", "Leeds", 5, 5),
    ("Sales", "North", "mia", "1-2 years", "York", 5, 2),
    ("Ops", "South", "olu", "5+ years", "Leeds", 5, 5),
    ("Ops", "South", "olu", "under 1 year", "York", 5, 5),
]


def company(session: Session) -> list[str]:
    """The directory: a board of five, Mia and Olu managing Sales and Ops; who answers."""
    board = (("boss", None), ("mia", "boss"), ("olu", "boss"), ("ava", "boss"), ("ben", "boss"))
    for name, manager in board:
        create_employee(
            session=session,
            employee_in=EmployeeCreate(
                name=name.title(),
                email=f"{name}@example.org",
                department="Exec",
                team="Board",
                location="Leeds",
                manager_email=f"{manager}@example.org" if manager else None,
                start_date=TODAY - timedelta(days=3000),
            ),
            actor=OPERATOR,
        )
    answering: list[str] = []
    number = 0
    for department, team, manager, band, location, invited, answers in LAYOUT:
        for i in range(invited):
            number += 1
            email = f"p{number}@example.org"
            create_employee(
                session=session,
                employee_in=EmployeeCreate(
                    name=f"Person {number}",
                    email=email,
                    department=department,
                    team=team,
                    location=location,
                    manager_email=f"{manager}@example.org",
                    start_date=TODAY - timedelta(days=YEARS[band]),
                ),
                actor=OPERATOR,
            )
            if i < answers:
                answering.append(email)
    return answering


def closed_survey(session: Session) -> int:
    answering = company(session)
    survey = new_survey(session)
    assert survey.id is not None
    open_survey(session=session, survey_id=survey.id, actor=OPERATOR)
    tokens = tokens_of(session, survey.id)
    for email in answering:
        submit_answers(
            session=session,
            token=tokens[email],
            answers=answers_for(session, survey.id, 5 if "1" in email else 2, comment="ok"),
        )
    flush_held_answers(session=session, survey_id=survey.id)
    close_survey(session=session, survey_id=survey.id, actor=OPERATOR)
    return survey.id


CUT_AT = {"department": 0, "tenure band": 2, "location": 3}


def members(row: dict[str, object], cells: list[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """The finest cells a shown row is about (the attacker knows the directory)."""
    found = set(cells)
    for column, value in row.items():
        if column in CUT_AT:
            found = {c for c in found if c[CUT_AT[column]] == value}
        elif column == "manager":
            who, _sep, kind = str(value).partition(": ")
            email = f"{who.lower()}@example.org"
            under = (
                {email} if who.lower() != "boss" else {email, "mia@example.org", "olu@example.org"}
            )
            found = {
                c for c in found if (c[4] == email if kind == "direct reports" else c[4] in under)
            }
    return found


def test_no_view_nor_any_combination_of_views_gives_a_small_group_away(
    session: Session,
) -> None:
    sid = closed_survey(session)
    hr = user(session, "hana", Role.hr)
    stored = session.exec(
        select(
            SurveyResponse.department,
            SurveyResponse.team,
            SurveyResponse.tenure_band,
            SurveyResponse.location,
            SurveyResponse.manager,
        ).where(SurveyResponse.survey_id == sid)
    ).all()
    counts: dict[tuple[str, ...], int] = {}
    for row in stored:
        counts[tuple(row)] = counts.get(tuple(row), 0) + 1
    cells = sorted(counts)
    # The stored cuts kept what the views need: four cells, one of them two people.
    assert sorted(counts.values()) == [2, 5, 5, 5], counts
    equations: list[tuple[set[tuple[str, ...]], int]] = []
    for g in groups(session=session, survey_id=sid, actor=hr):
        if g.shown:
            cell_set = {
                c
                for c in cells
                if (g.department is None or c[0] == g.department)
                and (g.team is None or c[1] == g.team)
            }
            equations.append((cell_set, g.n))
    views = [(c, None) for c in ("tenure_band", "location", "manager", "department")]
    views += list(PAIRS)
    reasons: set[str] = set()
    for first, second in views:
        view = cut_view(session=session, survey_id=sid, first=first, second=second, actor=hr)
        assert view.rows, (first, second)
        for row in view.rows:
            if row["responses"] is None:
                reasons.add(str(row["note"]))
                assert row["% favourable"] is None and row["comments"] is None
                continue
            cell_set = members(row, cells)
            assert sum(counts[c] for c in cell_set) == row["responses"], row
            equations.append((cell_set, int(row["responses"])))  # type: ignore[call-overload]
    assert SMALL.format(k=5) in reasons
    assert any("worked out" in r for r in reasons)
    # The attacker's algebra: which sets of fewer than five people are determined?
    a = np.array([[1.0 if c in s else 0.0 for c in cells] for s, _n in equations])
    _u, sv, vt = np.linalg.svd(a)
    null = vt[int((sv > 1e-9).sum()) :]
    for size in range(1, len(cells) + 1):
        for subset in combinations(cells, size):
            if 0 < sum(counts[c] for c in subset) < 5:
                goal = np.array([1.0 if c in subset else 0.0 for c in cells])
                assert null.size and not np.allclose(null @ goal, 0.0), subset


def test_location_by_tenure_shows_big_cells_and_says_why_small_ones_are_hidden(
    session: Session,
) -> None:
    sid = closed_survey(session)
    hr = user(session, "hana", Role.hr)
    view = cut_view(
        session=session, survey_id=sid, first="tenure_band", second="location", actor=hr
    )
    by_cell = {(r["tenure band"], r["location"]): r for r in view.rows}
    assert by_cell[("1-2 years", "York")]["note"] == SMALL.format(k=5)
    assert by_cell[("1-2 years", "York")]["responses"] is None
    shown = [r for r in view.rows if r["responses"] is not None]
    assert shown and all(r["engagement index"] is not None for r in shown)
    label = "5+ years × Leeds"
    if by_cell[("5+ years", "Leeds")]["responses"] is not None:
        assert view.items[label] and all(i["n"] for i in view.items[label])


def test_a_manager_sees_only_cuts_within_their_own_tree(session: Session) -> None:
    sid = closed_survey(session)
    mia = user(session, "mia", Role.manager, team="North")
    view = cut_view(session=session, survey_id=sid, first="manager", actor=mia)
    assert [r["manager"] for r in view.rows] == ["Mia: whole reporting tree", "Mia: direct reports"]
    crossed = cut_view(
        session=session, survey_id=sid, first="manager", second="location", actor=mia
    )
    assert {str(r["manager"]).split(":")[0] for r in crossed.rows} == {"Mia"}
    with pytest.raises(Forbidden):
        cut_view(session=session, survey_id=sid, first="location", actor=mia)
    nobody = user(session, "nora", Role.manager, team="North")
    assert (
        "nobody" in cut_view(session=session, survey_id=sid, first="manager", actor=nobody).message
    )


def test_cuts_wait_for_the_close_and_stop_when_answers_arrive_after_it(session: Session) -> None:
    answering = company(session)
    survey = new_survey(session)
    assert survey.id is not None
    sid = survey.id
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    tokens = tokens_of(session, sid)
    for email in answering[:-1]:
        submit_answers(session=session, token=tokens[email], answers=answers_for(session, sid, 4))
    flush_held_answers(session=session, survey_id=sid)
    assert cut_view(session=session, survey_id=sid, first="location", actor=hr).message == WAITING
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    assert cut_view(session=session, survey_id=sid, first="location", actor=hr).rows
    import_paper_answer(session, sid, 4, hr)
    late = cut_view(session=session, survey_id=sid, first="location", actor=hr)
    assert late.rows == [] and late.message == ADDED_SINCE_CLOSE.format(k=5)


def test_a_pair_that_is_not_offered_is_refused_with_a_message(session: Session) -> None:
    sid = closed_survey(session)
    hr = user(session, "hana", Role.hr)
    with pytest.raises(ValidationError, match="cannot be shown together"):
        cut_view(session=session, survey_id=sid, first="department", second="manager", actor=hr)
