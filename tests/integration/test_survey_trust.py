"""Survey confidentiality over time and through distribution, played as the attacker.

HR or a manager who looks at the same survey twice, downloads its links twice, or
answers with links it holds, must learn nothing about any one respondent.
"""

import csv
import io
import json
import re
from itertools import count
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.small_groups import release_step
from db.models.audit import AuditEvent
from db.models.auth import Role, User
from db.models.surveys import Employee, QuestionKind, Survey, SurveyInvitation
from db.surveys import tallies as survey_tallies
from db.surveys.answers import import_response, submit_answers
from db.surveys.builder import add_question, close_survey, list_questions
from db.surveys.choices import choice_results
from db.surveys.distribution import (
    BREAKS_CONFIDENTIALITY,
    SmtpSettings,
    issue_links,
    links_csv,
    open_survey,
    progress,
    send_links,
)
from db.surveys.employees import create_employee
from db.surveys.held import flush_held_answers
from db.surveys.privacy import Group, build_tree, keep_hidden
from db.surveys.reports import comments, drivers, groups, heatmap, participation, results
from tests.integration.test_surveys import (
    TODAY,
    answers_for,
    new_survey,
    person,
    staff,
    tokens_of,
    user,
)
from tests.smtp_sink import plain_text, smtp_sink

NUMBERS = count(1000)


def hr_user(session: Session) -> User:
    return get_user_by_username(session=session, username="hana") or user(session, "hana", Role.hr)


def token_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def everything(session: Session, sid: int, actor: User) -> dict[str, object]:
    """Every figure the results page can show this actor, for every group it may pick."""
    seen: dict[str, object] = {
        "groups": [
            (g.key, g.shown, g.n if g.shown else None)
            for g in groups(session=session, survey_id=sid, actor=actor)
        ],
        "participation": participation(session=session, survey_id=sid, actor=actor),
        "heatmap": heatmap(session=session, survey_id=sid, actor=actor),
    }
    for group in groups(session=session, survey_id=sid, actor=actor):
        result = results(session=session, survey_id=sid, group_key=group.key, actor=actor)
        seen[group.key] = (
            result.items,
            result.factors,
            result.enps,
            result.engagement_index,
            drivers(session=session, survey_id=sid, group_key=group.key, actor=actor),
            sorted(comments(session=session, survey_id=sid, group_key=group.key, actor=actor)),
            [
                (c.shown, c.answered, c.options)
                for c in choice_results(
                    session=session, survey_id=sid, group_key=group.key, actor=actor
                )
            ],
        )
    return seen


def with_choice(session: Session) -> int:
    survey = new_survey(session, comment_min=5)
    sid = survey.id or 0
    add_question(
        session=session,
        survey_id=sid,
        section="About you",
        code="where",
        text="Where do you mostly work?",
        kind=QuestionKind.choice,
        factor=None,
        choices=["Office", "Remote"],
        required=True,
        actor=OPERATOR,
    )
    return sid


def full_answers(
    session: Session, sid: int, score: int, comment: str | None
) -> dict[int, int | str | None]:
    """Answers to every question, the single-choice one included."""
    answers: dict[int, int | str | None] = answers_for(session, sid, score, comment)
    for question in list_questions(session=session, survey_id=sid):
        if question.kind == QuestionKind.choice.value:
            answers[question.id or 0] = "Remote" if score < 3 else "Office"
    return answers


def answer(session: Session, sid: int, token: str, score: int, comment: str | None) -> None:
    submit_answers(session=session, token=token, answers=full_answers(session, sid, score, comment))


def test_hr_comparing_an_open_survey_at_five_and_six_answers_learns_nothing_new(
    session: Session,
) -> None:
    # The attack: note a team's table at n=5, again at n=6, and subtract.
    staff(session, {("Sales", "North"): 8, ("Ops", "Depot"): 6})
    sid = with_choice(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    hr = hr_user(session)
    manager = user(session, "maya", Role.manager, "North")
    north = [f"p{i}@example.org" for i in range(1, 9)]
    for email in north[:5]:
        answer(session, sid, tokens[email], 4, "fine")
    at_five = everything(session, sid, hr)
    mgr_at_five = everything(session, sid, manager)
    answer(session, sid, tokens[north[5]], 1, "my manager shouts")
    at_six = everything(session, sid, hr)
    # The sixth answer moves nothing HR or the manager can see.
    assert at_six == at_five
    assert everything(session, sid, manager) == mgr_at_five
    # While the survey is open nothing but participation is shown at all.
    for key, value in at_six.items():
        if key.startswith("d:") or key == "all":
            items, factors, enps, index, driver_rows, said, choices = value  # type: ignore[misc]
            assert items == factors == driver_rows == said == []
            assert enps is None and index is None
            assert all(not shown for shown, _answered, _options in choices)
    assert at_six["heatmap"] == []
    # Participation moved when North had five answers, and moves again only at ten.
    rows = {r["group"]: r["responses"] for r in at_six["participation"]}  # type: ignore[attr-defined]
    assert rows["North"] == 5
    for email in north[6:]:
        answer(session, sid, tokens[email], 4, "fine")
    rows = {
        r["group"]: r["responses"] for r in participation(session=session, survey_id=sid, actor=hr)
    }
    assert rows["North"] == 5


def test_an_answer_added_after_the_close_moves_no_figure_until_enough_follow(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 12})
    sid = with_choice(session)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    for i in range(1, 6):
        answer(session, sid, tokens[f"p{i}@example.org"], 4, "fine")
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    closed = everything(session, sid, hr)
    assert results(session=session, survey_id=sid, group_key="all", actor=hr).items
    assert comments(session=session, survey_id=sid, group_key="all", actor=hr) == ["fine"] * 5
    late = session.exec(
        select(SurveyInvitation).where(col(SurveyInvitation.answered).is_(False))
    ).all()
    paper = full_answers(session, sid, 1, "a paper answer")

    def add(invitation: SurveyInvitation) -> None:
        import_response(
            session=session,
            invitation_id=invitation.id or 0,
            answers=paper,
            submitted_on=TODAY,
            actor=hr,
        )

    # The attack: read the results, have one late answer added, read them again.
    add(late[0])
    after_one = everything(session, sid, hr)
    for key, value in after_one.items():
        if key in ("all", "d:Sales", "d:Sales/t:North"):
            *scores, said, choices = value  # type: ignore[misc]
            *before, said_before, choices_before = closed[key]  # type: ignore[misc]
            assert scores == before and choices == choices_before
            # Comments read the answers: they wait rather than show the late one.
            assert said in ([], said_before)
        else:
            assert value == closed[key]
    for invitation in late[1:5]:
        add(invitation)
    after = results(session=session, survey_id=sid, group_key="all", actor=hr)
    assert {item["n"] for item in after.items} == {10}
    said = comments(session=session, survey_id=sid, group_key="all", actor=hr)
    assert sorted(said) == ["a paper answer"] * 5 + ["fine"] * 5


def snapshot_counts(views: list[Group]) -> dict[str, int]:
    return {g.key: g.n for g in views if g.shown}


def assert_never_fewer_than(k: int, views: list[dict[str, int]]) -> None:
    for i, first in enumerate(views):
        for second in views[i + 1 :]:
            for key in first.keys() & second.keys():
                moved = abs(second[key] - first[key])
                assert moved == 0 or moved >= k, (key, first[key], second[key])


@settings(max_examples=300)
@given(
    k=st.integers(min_value=3, max_value=6),
    arrivals=st.lists(
        st.lists(st.tuples(st.sampled_from("AB"), st.sampled_from("xyz")), max_size=6),
        min_size=2,
        max_size=12,
    ),
)
def test_released_counts_never_move_a_group_by_fewer_than_the_threshold(
    k: int, arrivals: list[list[tuple[str, str]]]
) -> None:
    # Answers arrive in batches; after each batch somebody looks (a release).
    current: dict[tuple[str, str], int] = {}
    released: dict[tuple[str, str], int] = {}
    views = []
    for batch in arrivals:
        for leaf in batch:
            current[leaf] = current.get(leaf, 0) + 1
        released = release_step(released, current, k)
        views.append(snapshot_counts(build_tree(released, k)))
    assert_never_fewer_than(k, views)


LEAVES = [(d, t) for d in "AB" for t in "xyz"]


@settings(max_examples=300)
@given(
    k=st.integers(min_value=3, max_value=6),
    at_close=st.dictionaries(st.sampled_from(LEAVES), st.integers(1, 9)),
    late=st.lists(st.lists(st.sampled_from(LEAVES), max_size=8), max_size=6),
)
def test_after_the_close_hidden_groups_stay_hidden_and_every_hidden_remainder_is_large(
    k: int, at_close: dict[tuple[str, str], int], late: list[list[tuple[str, str]]]
) -> None:
    closed = build_tree(at_close, k)
    hidden_then = {g.key for g in closed if not g.shown}
    current, released = dict(at_close), dict(at_close)
    for batch in late:
        for leaf in batch:
            current[leaf] = current.get(leaf, 0) + 1
        released = release_step(released, current, k)
        tree = keep_hidden(build_tree(released, k), closed)
        assert hidden_then <= {g.key for g in tree if not g.shown}
        by_key = {g.key: g for g in tree}
        for parent in (g for g in tree if g.shown and g.level < 2):
            children = [
                g
                for g in tree
                if g.level == parent.level + 1
                and (parent.level == 0 or g.department == parent.department)
            ]
            remainder = sum(g.n for g in children if not g.shown)
            assert remainder == 0 or remainder >= k, (parent.key, remainder)
        for g in tree:
            if g.level == 2 and g.shown:
                assert by_key[f"d:{g.department}"].shown


LAYOUT = {("Sales", "North"): 7, ("Sales", "South"): 4, ("Ops", "Depot"): 6}


@settings(max_examples=8)
@given(
    k=st.sampled_from([3, 5]),
    batches=st.lists(st.lists(st.sampled_from(sorted(LAYOUT)), max_size=5), min_size=2, max_size=5),
    late=st.lists(st.lists(st.sampled_from(sorted(LAYOUT)), max_size=4), max_size=3),
)
def test_two_views_of_a_survey_never_differ_by_fewer_than_the_threshold_in_any_group(
    session: Session,
    k: int,
    batches: list[list[tuple[str, str]]],
    late: list[list[tuple[str, str]]],
) -> None:
    # Each example builds its own staff and survey in the shared database.
    people: dict[tuple[str, str], list[str]] = {leaf: [] for leaf in LAYOUT}
    for leaf, size in LAYOUT.items():
        for _ in range(size):
            number = next(NUMBERS)
            employee = person(number, *leaf)
            create_employee(session=session, employee_in=employee, actor=OPERATOR)
            people[leaf].append(employee.email)
    survey = new_survey(session, min_group=k, comment_min=max(k, 5))
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    hr = hr_user(session)
    manager = get_user_by_username(session=session, username="maya") or user(
        session, "maya", Role.manager, "North"
    )
    views: dict[str, list[dict[str, int]]] = {"hr": [], "manager": [], "progress": []}
    for batch in batches:
        for leaf in batch:
            if people[leaf]:
                email = people[leaf].pop()
                answer(session, sid, tokens[email], 3, "")
        for name, actor in (("hr", hr), ("manager", manager)):
            views[name].append(
                {
                    str(r["group"]): int(r["responses"])  # type: ignore[call-overload]
                    for r in participation(session=session, survey_id=sid, actor=actor)
                    if r["responses"] is not None
                }
            )
            assert results(session=session, survey_id=sid, group_key="all", actor=hr).items == []
        answered = progress(session=session, survey_id=sid, actor=hr).answered
        views["progress"].append({"all": answered} if answered is not None else {})
    for seen in views.values():
        assert_never_fewer_than(k, seen)
    # After the close, answers imported later (paper forms) arrive between views.
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    closed: list[dict[str, int]] = []
    for batch in [[], *late]:
        for leaf in batch:
            if people[leaf]:
                email = people[leaf].pop()
                invitation = session.exec(
                    select(SurveyInvitation)
                    .join(Employee, col(Employee.id) == col(SurveyInvitation.employee_id))
                    .where(SurveyInvitation.survey_id == sid, Employee.email == email)
                ).one()
                import_response(
                    session=session,
                    invitation_id=invitation.id or 0,
                    answers=answers_for(session, sid, 2),
                    submitted_on=TODAY,
                    actor=hr,
                )
        seen: dict[str, int] = {}
        for group in groups(session=session, survey_id=sid, actor=hr):
            if group.shown:
                found = results(session=session, survey_id=sid, group_key=group.key, actor=hr)
                seen[group.key] = group.n
                for item in found.items:
                    seen[f"{group.key} {item['code']}"] = int(item["n"])  # type: ignore[call-overload]
        closed.append(seen)
    assert_never_fewer_than(k, closed)


def test_a_second_mail_merge_download_names_nobody_so_comparing_them_tells_nothing(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    first = issue_links(session=session, survey_id=sid, actor=hr)
    assert len(first) == 6
    by_email = {link.email: token_of(link.url) for link in first}
    submit_answers(
        session=session, token=by_email["p3@example.org"], answers=answers_for(session, sid, 4)
    )
    # The attack: download again, and see who dropped off the list.
    second = issue_links(session=session, survey_id=sid, actor=hr)
    assert second == []
    assert {link.email for link in first} - {link.email for link in second} == set(by_email)


def test_reminders_go_by_email_and_leave_no_count_that_ticks_with_each_answer(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    with smtp_sink() as (port, mailbox):
        settings_ = SmtpSettings(host="127.0.0.1", port=port, sender="hr@example.org")
        send_links(session=session, survey_id=sid, actor=hr, smtp=settings_)
        found = re.search(r"token=([A-Za-z0-9_-]+)", plain_text(mailbox.messages[0]))
        assert found is not None
        submit_answers(session=session, token=found.group(1), answers=answers_for(session, sid, 4))
        send_links(session=session, survey_id=sid, actor=hr, smtp=settings_, reminder=True)
        send_links(session=session, survey_id=sid, actor=hr, smtp=settings_, reminder=True)
    sends = session.exec(
        select(AuditEvent).where(col(AuditEvent.action).in_(["survey.send", "survey.remind"]))
    ).all()
    assert len(sends) == 3
    assert all(json.loads(e.details) == {} for e in sends)
    # Nothing HR reads moved with the one answer.
    assert progress(session=session, survey_id=sid, actor=hr).answered is None
    # Mailed links were never in HR's hands.
    assert not any(i.link_downloaded for i in session.exec(select(SurveyInvitation)).all())


def test_a_list_of_everyone_who_has_not_answered_says_it_breaks_confidentiality_and_is_logged(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    with smtp_sink() as (port, _mailbox):
        send_links(session=session, survey_id=sid, actor=hr, smtp=SmtpSettings("127.0.0.1", port))
    assert issue_links(session=session, survey_id=sid, actor=hr) == []
    marked = issue_links(session=session, survey_id=sid, actor=hr, everyone_unanswered=True)
    assert len(marked) == 6
    text = links_csv(marked, breaks_confidentiality=True)
    first_line, rest = text.split("\r\n", 1)
    assert first_line == BREAKS_CONFIDENTIALITY and "BREAKS CONFIDENTIALITY" in first_line
    assert next(csv.reader(io.StringIO(rest))) == ["name", "email", "link"]
    logged = session.exec(
        select(AuditEvent).where(AuditEvent.action == "survey.links.unanswered")
    ).one()
    assert logged.actor_id == hr.id
    assert json.loads(logged.details)["breaks_confidentiality"] is True


def test_answers_hr_gave_with_links_it_downloaded_are_counted_apart_once_closed(
    session: Session,
) -> None:
    # The attack: North has one real respondent; HR answers as four colleagues with
    # links it downloaded, pushing North over the threshold to read her answers.
    staff(session, {("Sales", "North"): 5, ("Sales", "South"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    with smtp_sink() as (port, mailbox):
        send_links(session=session, survey_id=sid, actor=hr, smtp=SmtpSettings("127.0.0.1", port))
        emailed = {
            m["To"]: re.search(r"token=([A-Za-z0-9_-]+)", plain_text(m)).group(1)  # type: ignore[union-attr]
            for m in mailbox.messages
        }
    # The real North respondent and every South colleague answer from their email.
    for email in ["p1@example.org", *(f"p{i}@example.org" for i in range(6, 12))]:
        submit_answers(session=session, token=emailed[email], answers=answers_for(session, sid, 5))
    held = {
        link.email: token_of(link.url)
        for link in issue_links(session=session, survey_id=sid, actor=hr, everyone_unanswered=True)
    }
    for email in (f"p{i}@example.org" for i in range(2, 6)):
        submit_answers(session=session, token=held[email], answers=answers_for(session, sid, 1))
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    rows = {r["group"]: r for r in participation(session=session, survey_id=sid, actor=hr)}
    assert rows["North"]["responses"] == 5
    assert rows["North"]["through a link HR downloaded"] == 4
    assert rows["South"]["through a link HR downloaded"] == 0
    assert rows["Everyone"]["through a link HR downloaded"] == 4


def test_while_a_survey_is_open_the_downloaded_link_count_is_not_shown(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    for link in issue_links(session=session, survey_id=sid, actor=hr):
        submit_answers(
            session=session, token=token_of(link.url), answers=answers_for(session, sid, 3)
        )
    # Answers are written in batches; write the held one as a later visit would.
    flush_held_answers(session=session, survey_id=sid)
    rows = participation(session=session, survey_id=sid, actor=hr)
    assert rows[0]["responses"] == 6
    assert all(r["through a link HR downloaded"] is None for r in rows)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    rows = participation(session=session, survey_id=sid, actor=hr)
    assert rows[0]["through a link HR downloaded"] == 6


def test_late_answers_reach_the_results_at_the_close_even_in_a_team_below_the_threshold(
    session: Session,
) -> None:
    # South is large enough to be kept as a team, but only three of its five answer.
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 5, ("Sales", "East"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    for email in tokens:
        if email in {"p10@example.org", "p11@example.org"}:
            continue
        submit_answers(session=session, token=tokens[email], answers=answers_for(session, sid, 4))
    hr = hr_user(session)
    # South's three answers are never a step of five, so they wait for the close.
    assert participation(session=session, survey_id=sid, actor=hr)[0]["responses"] == 12
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    assert participation(session=session, survey_id=sid, actor=hr)[0]["responses"] == 15
    everyone = results(session=session, survey_id=sid, group_key="all", actor=hr)
    assert {item["n"] for item in everyone.items} == {15}


def test_a_group_that_covered_a_small_team_at_the_close_stays_hidden_after_late_answers(
    session: Session,
) -> None:
    # At the close South (2) is too small and East (5) covers it. The attack: add five
    # paper answers to South, so that South and East are both large enough, then read
    # South at the close as Sales then, minus North, minus East now (East unchanged).
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 7, ("Sales", "East"): 5})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    for i in [*range(1, 9), *range(14, 19)]:  # North, two of South, East
        submit_answers(
            session=session, token=tokens[f"p{i}@example.org"], answers=answers_for(session, sid, 4)
        )
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = hr_user(session)
    shown = {g.key for g in groups(session=session, survey_id=sid, actor=hr) if g.shown}
    assert shown == {"all", "d:Sales", "d:Sales/t:North"}
    south = session.exec(
        select(SurveyInvitation).where(
            SurveyInvitation.team == "South", col(SurveyInvitation.answered).is_(False)
        )
    ).all()
    assert len(south) == 5
    for invitation in south:
        import_response(
            session=session,
            invitation_id=invitation.id or 0,
            answers=answers_for(session, sid, 1),
            submitted_on=TODAY,
            actor=hr,
        )
    now = {g.key: g for g in groups(session=session, survey_id=sid, actor=hr)}
    assert now["d:Sales"].shown and now["d:Sales"].n == 18
    assert {key for key, g in now.items() if g.shown} == shown
    assert results(session=session, survey_id=sid, group_key="d:Sales/t:East", actor=hr).items == []
    assert (
        results(session=session, survey_id=sid, group_key="d:Sales/t:South", actor=hr).items == []
    )


def test_two_views_releasing_at_once_cannot_move_a_team_by_fewer_than_the_threshold(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff(session, {("Sales", "North"): 8})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    for i in range(1, 6):
        submit_answers(
            session=session, token=tokens[f"p{i}@example.org"], answers=answers_for(session, sid, 4)
        )
    hr = hr_user(session)
    assert participation(session=session, survey_id=sid, actor=hr)[0]["responses"] == 5
    for i in range(6, 8):
        submit_answers(
            session=session, token=tokens[f"p{i}@example.org"], answers=answers_for(session, sid, 4)
        )
    # A second view that read the releases before the first one wrote them sees none,
    # so it would release all seven: the stored condition refuses a step of two.
    monkeypatch.setattr(survey_tallies, "released", lambda _session, _sid: {})
    survey = session.get(Survey, sid)
    assert survey is not None
    assert survey_tallies.release(session, survey) == set()
    session.commit()
    monkeypatch.undo()
    assert participation(session=session, survey_id=sid, actor=hr)[0]["responses"] == 5
