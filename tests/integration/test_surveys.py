"""Surveys on SQLite and PostgreSQL: directory, links, anonymity, thresholds, email."""

import hashlib
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from db.auth.accounts import create_user
from db.auth.actor import OPERATOR
from db.core.errors import Forbidden, ValidationError
from db.models.auth import Role, User, UserCreate
from db.models.surveys import (
    Employee,
    EmployeeCreate,
    Survey,
    SurveyAnswer,
    SurveyCreate,
    SurveyInvitation,
    SurveyLink,
    SurveyResponse,
)
from db.surveys.answers import LinkProblem, open_link, submit_answers
from db.surveys.builder import close_survey, copy_to_new_wave, create_survey, list_questions
from db.surveys.distribution import SmtpSettings, issue_links, open_survey, progress, send_links
from db.surveys.employees import create_employee, import_employees_csv
from db.surveys.held import flush_held_answers
from db.surveys.reports import comments, groups, participation, results, trend
from tests.smtp_sink import plain_text, smtp_sink

TODAY = date.today()


def person(number: int, department: str = "Sales", team: str = "North") -> EmployeeCreate:
    return EmployeeCreate(
        name=f"Person {number}",
        email=f"p{number}@example.org",
        department=department,
        team=team,
        location="Leeds",
        start_date=TODAY - timedelta(days=400 + number),
    )


def staff(session: Session, layout: dict[tuple[str, str], int]) -> None:
    number = 0
    for (department, team), size in layout.items():
        for _ in range(size):
            number += 1
            create_employee(
                session=session, employee_in=person(number, department, team), actor=OPERATOR
            )


def user(session: Session, username: str, role: Role, team: str | None = None) -> User:
    return create_user(
        session=session,
        user_in=UserCreate(
            username=username,
            display_name=username.title(),
            email=f"{username}@example.org",
            team=team,
            password="a long enough password",
            roles=[role],
        ),
        actor=OPERATOR,
    )


def new_survey(session: Session, template: str = "pulse", **extra: object) -> Survey:
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Pulse",
            opens_on=TODAY,
            closes_on=TODAY + timedelta(days=7),
            template=template,
            **extra,  # type: ignore[arg-type]
        ),
        actor=OPERATOR,
    )
    assert survey.id is not None
    return survey


def tokens_of(session: Session, survey_id: int) -> dict[str, str]:
    """email -> token of freshly issued links."""
    return {
        link.email: parse_qs(urlparse(link.url).query)["token"][0]
        for link in issue_links(session=session, survey_id=survey_id, actor=OPERATOR)
    }


def opened_pulse(session: Session, people: int = 5) -> tuple[int, list[str]]:
    """A pulse opened to `people` in Sales/North: its id and one fresh link token each."""
    staff(session, {("Sales", "North"): people})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    return sid, list(tokens_of(session, sid).values())


def answers_for(session: Session, survey_id: int, score: int, comment: str | None = None):  # type: ignore[no-untyped-def]
    result: dict[int, int | str | None] = {}
    for q in list_questions(session=session, survey_id=survey_id):
        assert q.id is not None
        if q.kind == "agree5":
            result[q.id] = score
        elif q.kind == "scale10":
            result[q.id] = score * 2
        elif q.kind == "text":
            result[q.id] = comment
    return result


def test_csv_import_adds_good_rows_and_reports_each_bad_one(session: Session) -> None:
    text = (
        "name,email,department,team,location,start_date\n"
        "Ana,ana@example.org,Sales,North,Leeds,2020-01-01\n"
        "Bob,not-an-email,Sales,North,Leeds,2020-01-01\n"
        "Cy,cy@example.org,Sales,North,Leeds,01/02/2020\n"
        "Ana again,ANA@example.org,Sales,North,Leeds,2020-01-01\n"
    )
    report = import_employees_csv(session=session, text=text, actor=OPERATOR)
    assert report.created == 1
    assert [(b["line"], b["reason"].split(":")[0]) for b in report.bad_rows] == [
        (3, "Email"),
        (4, "Start date"),
        (5, "Email"),
    ]


def test_a_csv_without_required_columns_is_refused_naming_them(session: Session) -> None:
    with pytest.raises(ValidationError, match="start_date"):
        import_employees_csv(session=session, text="name,email\nA,a@b.org\n", actor=OPERATOR)


def test_only_hr_edits_the_directory(session: Session) -> None:
    manager = user(session, "maya", Role.manager, "North")
    with pytest.raises(Forbidden):
        create_employee(session=session, employee_in=person(1), actor=manager)


def test_a_threshold_below_three_is_refused(session: Session) -> None:
    with pytest.raises(ValidationError, match="at least 3"):
        new_survey(session, min_group=2)


def test_opening_invites_current_employees_of_the_audience_only(session: Session) -> None:
    staff(session, {("Sales", "North"): 6, ("Ops", "Depot"): 4})
    leaver = session.exec(select(Employee).where(Employee.email == "p1@example.org")).one()
    leaver.left_on = TODAY
    session.add(leaver)
    session.commit()
    survey = new_survey(session, audience_department="Sales")
    invited = open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    assert invited == 5


def test_links_carry_128_bits_or_more_and_only_their_hash_is_stored(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    tokens = tokens_of(session, survey.id or 0)
    stored = set(session.exec(select(SurveyLink.token_hash)).all())
    for token in tokens.values():
        assert len(token) >= 22  # 128 bits in URL-safe base64
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


def test_a_link_works_once_and_says_so_afterwards(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    token = tokens_of(session, survey.id or 0)["p1@example.org"]
    assert open_link(session=session, token=token).title == "Pulse"
    submit_answers(session=session, token=token, answers=answers_for(session, survey.id or 0, 4))
    with pytest.raises(LinkProblem, match="already been used"):
        submit_answers(
            session=session, token=token, answers=answers_for(session, survey.id or 0, 4)
        )
    with pytest.raises(LinkProblem, match="not recognised"):
        open_link(session=session, token="made-up-token")


def test_two_submissions_racing_on_one_link_store_one_response(
    session: Session, engine: object
) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    invitation = session.exec(select(SurveyInvitation)).first()
    assert invitation is not None
    # A second browser loaded the link before the first submitted: its check passed,
    # so only the conditional UPDATE stands between it and a second response.
    with Session(engine, expire_on_commit=False) as other:  # type: ignore[arg-type]
        stale = other.get(SurveyInvitation, invitation.id)
        assert stale is not None and not stale.answered
        invitation.answered = True
        session.add(invitation)
        session.commit()
        from db.surveys.answers import _claim_and_store

        with pytest.raises(LinkProblem, match="already been used"):
            _claim_and_store(other, survey, stale, [], {}, TODAY)
    assert session.exec(select(SurveyResponse)).all() == []


def test_a_closed_survey_refuses_its_links_with_a_clear_message(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    token = tokens_of(session, survey.id or 0)["p2@example.org"]
    close_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    with pytest.raises(LinkProblem, match="closed"):
        open_link(session=session, token=token)


def test_after_submission_nothing_joins_a_response_to_a_person(
    session: Session, engine: object
) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    open_survey(session=session, survey_id=survey.id or 0, actor=OPERATOR)
    token = tokens_of(session, survey.id or 0)["p3@example.org"]
    submit_answers(
        session=session, token=token, answers=answers_for(session, survey.id or 0, 5, "hi")
    )
    # Answers are held for a batch; write this one now to look at what is stored.
    flush_held_answers(session=session, survey_id=survey.id)
    columns = {c["name"] for c in inspect(engine).get_columns("survey_response")}  # type: ignore[arg-type]
    assert columns == {
        "id",
        "survey_id",
        "department",
        "team",
        "location",
        "tenure_band",
        # The line manager, generalised with the other cuts (test_survey_unlinking.py).
        "manager",
        "submitted_on",
        # Filled only for a contact survey declared non-anonymous (test_survey_voice.py).
        "contact_id",
        "submitted_at",
    }
    answer_columns = {c["name"] for c in inspect(engine).get_columns("survey_answer")}  # type: ignore[arg-type]
    assert answer_columns == {"response_id", "question_id", "value", "text"}
    # No foreign key from a response or answer leads to an employee, invitation or link
    # (a contact only for named contact surveys, never for an employee's response).
    for table in ("survey_response", "survey_answer"):
        targets = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys(table)}  # type: ignore[arg-type]
        assert targets <= {"survey", "survey_response", "survey_question", "contact"}
    invitation_columns = {c["name"] for c in inspect(engine).get_columns("survey_invitation")}  # type: ignore[arg-type]
    assert not any(
        "time" in c or c.endswith("_at") or c.endswith("_on") for c in invitation_columns
    )
    response = session.exec(select(SurveyResponse)).one()
    assert re.fullmatch(r"[0-9a-f]{32}", response.id)
    assert response.contact_id is None and response.submitted_at is None
    assert (
        SQLModel.metadata.tables["survey_response"].dialect_options["sqlite"]["with_rowid"] is False
    )


def answer_all(
    session: Session, survey_id: int, scores: dict[str, int], comment: str | None = None
) -> None:
    tokens = tokens_of(session, survey_id)
    for email, score in scores.items():
        submit_answers(
            session=session,
            token=tokens[email],
            answers=answers_for(session, survey_id, score, comment),
        )
    # Answers are held for a batch: write the rest now, as the close or a later visit would.
    flush_held_answers(session=session, survey_id=survey_id)


def test_results_hide_small_groups_and_their_subtraction_cover(session: Session) -> None:
    # North 6, South 2, East 5 answer: South is too small, East covers it. (South has five
    # invitees: a team smaller than the threshold is never stored with a response.)
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 5, ("Sales", "East"): 5})
    survey = new_survey(session, comment_min=5)
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answering = [*range(1, 9), *range(12, 17)]
    answer_all(
        session,
        sid,
        {f"p{i}@example.org": 5 if i <= 6 else 2 for i in answering},
        comment="more coffee",
    )
    # Item results are shown once the survey has closed (participation only before).
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    shown = {g.key: g.shown for g in groups(session=session, survey_id=sid, actor=hr)}
    assert shown == {
        "all": True,
        "d:Sales": True,
        "d:Sales/t:North": True,
        "d:Sales/t:South": False,
        "d:Sales/t:East": False,
    }
    everyone = results(session=session, survey_id=sid, group_key="all", actor=hr)
    # 6 people answered 5, 7 answered 2 on every agreement item.
    eng = next(f for f in everyone.factors if f["factor"] == "engagement")
    assert eng["favourable"] == pytest.approx(100 * 6 / 13, abs=0.1)
    assert everyone.engagement_index == eng["favourable"]
    # eNPS: 6 promoters (10), 7 detractors (4) of 13.
    assert everyone.enps == pytest.approx(100 * (6 - 7) / 13, abs=0.1)
    assert (
        results(session=session, survey_id=sid, group_key="d:Sales/t:South", actor=hr).items == []
    )
    rows = {r["group"]: r for r in participation(session=session, survey_id=sid, actor=hr)}
    assert rows["South"]["responses"] is None and rows["South"]["rate"] is None
    assert rows["North"]["responses"] == 6


def test_managers_see_their_own_team_only_and_admins_nothing(session: Session) -> None:
    staff(session, {("Sales", "North"): 5, ("Sales", "South"): 5})
    survey = new_survey(session)
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer_all(session, sid, {f"p{i}@example.org": 4 for i in range(1, 11)})
    maya = user(session, "maya", Role.manager, "North")
    assert [g.key for g in groups(session=session, survey_id=sid, actor=maya)] == [
        "d:Sales/t:North"
    ]
    with pytest.raises(Forbidden):
        results(session=session, survey_id=sid, group_key="d:Sales/t:South", actor=maya)
    with pytest.raises(Forbidden):
        results(session=session, survey_id=sid, group_key="all", actor=maya)
    admin = user(session, "ada", Role.admin)
    with pytest.raises(Forbidden):
        groups(session=session, survey_id=sid, actor=admin)


def test_comments_need_the_comment_threshold(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    survey = new_survey(session)  # comment threshold 10
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    answer_all(session, sid, {f"p{i}@example.org": 4 for i in range(1, 7)}, comment="tea")
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    assert results(session=session, survey_id=sid, group_key="all", actor=hr).items
    assert comments(session=session, survey_id=sid, group_key="all", actor=hr) == []


def test_a_new_wave_keeps_item_codes_so_results_trend(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    first = new_survey(session)
    open_survey(session=session, survey_id=first.id or 0, actor=OPERATOR)
    answer_all(session, first.id or 0, {f"p{i}@example.org": 2 for i in range(1, 6)})
    close_survey(session=session, survey_id=first.id or 0, actor=OPERATOR)
    second = copy_to_new_wave(
        session=session,
        survey_id=first.id or 0,
        title="Pulse 2",
        opens_on=TODAY,
        closes_on=TODAY,
        actor=OPERATOR,
    )
    assert second.wave == 2
    open_survey(session=session, survey_id=second.id or 0, actor=OPERATOR)
    answer_all(session, second.id or 0, {f"p{i}@example.org": 5 for i in range(1, 6)})
    close_survey(session=session, survey_id=second.id or 0, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    rows = trend(session=session, survey_id=second.id or 0, group_key="all", actor=hr)
    index = [(r["wave"], r["favourable"]) for r in rows if r["code"] == "engagement index"]
    assert index == [(1, 0.0), (2, 100.0)]


def test_links_go_by_email_and_reminders_skip_those_who_answered(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hr@example.org")
        assert send_links(session=session, survey_id=sid, actor=OPERATOR, smtp=settings) == 5
        first = mailbox.messages[0]
        token = re.search(r"token=([A-Za-z0-9_-]+)", plain_text(first))
        assert token is not None
        submit_answers(session=session, token=token.group(1), answers=answers_for(session, sid, 4))
        sent = send_links(
            session=session, survey_id=sid, actor=OPERATOR, smtp=settings, reminder=True
        )
        assert sent == 4
        reminded = {m["To"] for m in mailbox.messages[5:]}
        assert first["To"] not in reminded
        assert all(m["Subject"].startswith("Reminder") for m in mailbox.messages[5:])
    assert progress(session=session, survey_id=sid, actor=OPERATOR).answered is None


def test_a_mail_server_failure_keeps_the_links_already_sent(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    survey = new_survey(session)
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    with smtp_sink() as (port, mailbox):
        mailbox.fail_after = 2
        settings = SmtpSettings(host="127.0.0.1", port=port)
        with pytest.raises(Exception, match="after 2 email"):
            send_links(session=session, survey_id=sid, actor=OPERATOR, smtp=settings)
    assert len(session.exec(select(SurveyLink)).all()) == 2
    assert len(session.exec(select(SurveyAnswer)).all()) == 0
