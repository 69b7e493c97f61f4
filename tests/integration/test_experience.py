"""Customer experience and people and outcomes, on hand-built timelines, on both databases."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import literal
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.accounts import create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.common import ensure_categories
from db.cases.intake import submit_concern
from db.core.errors import Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.experience.channel_choice import channel_share, off_channel_contacts
from db.experience.moments import (
    MOMENT_SOURCES,
    affected_contacts,
    contact_moments,
    flagged_contacts,
    is_flagged,
    moments_by_month,
)
from db.experience.outcomes import (
    NEGATIVE,
    RESPONSE,
    WIN_RATE,
    people_and_outcomes,
    stored_teams_outcomes,
    teams_outcomes,
)
from db.experience.responsiveness import overdue_follow_ups, response_times, unanswered_contacts
from db.models.auth import Role, User, UserCreate
from db.models.cases import Case, ConcernCreate
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    Direction,
    InteractionCreate,
    Purpose,
    Sentiment,
    TaskCreate,
)
from db.models.surveys import EmployeeCreate, SurveyCreate
from db.people.contacts import create_contact
from db.people.interactions import create_task, log_interaction
from db.pipeline.targets import set_target, team_forecast
from db.surveys.answers import submit_answers
from db.surveys.builder import close_survey, create_survey, list_questions
from db.surveys.distribution import issue_links, open_survey
from db.surveys.employees import create_employee


def at(day: int, hour: int) -> datetime:
    """A moment in January 2025 (the 10th is a Friday, the 13th a Monday)."""
    return datetime(2025, 1, day, hour, tzinfo=UTC)


def who(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def contact(session: Session, owner: str, name: str, preferred: Channel | None = None) -> Contact:
    person = who(session, owner)
    return create_contact(
        session=session,
        contact_in=ContactCreate(
            given_name=name,
            family_name="Tester",
            owner_id=person.id,
            preferred_channel=preferred,
        ),
        actor=person,
    )


def log(
    session: Session,
    person: Contact,
    channel: Channel,
    direction: Direction,
    when: datetime,
    sentiment: Sentiment = Sentiment.neutral,
) -> None:
    owner = session.get(User, person.owner_id)
    assert owner is not None
    log_interaction(
        session=session,
        interaction_in=InteractionCreate(
            contact_id=person.id or 0,
            channel=channel,
            direction=direction,
            purpose=Purpose.service,
            occurred_at=when,
            sentiment=sentiment,
        ),
        actor=owner,
    )


@pytest.fixture
def timeline(session: Session) -> dict[str, Contact]:
    """Ana is called back by email after a weekend and answered by phone within hours;
    Ben wrote a letter nobody answered (an earlier outbound to him does not count)."""
    seed_users(session=session)
    ana = contact(session, "sales", "Ana")
    ben = contact(session, "sales", "Ben")
    log(session, ana, Channel.phone, Direction.inbound, at(10, 16))
    log(session, ana, Channel.email, Direction.outbound, at(13, 10))
    log(session, ana, Channel.email, Direction.inbound, at(14, 9))
    log(session, ana, Channel.phone, Direction.outbound, at(14, 12))
    log(session, ben, Channel.phone, Direction.outbound, at(14, 8))
    log(session, ben, Channel.letter, Direction.inbound, at(15, 9))
    return {"ana": ana, "ben": ben}


JANUARY = {"since": date(2025, 1, 1), "until": date(2025, 1, 31)}


def test_an_answer_on_another_channel_counts_and_weekends_leave_business_hours(
    session: Session, timeline: dict[str, Contact]
) -> None:
    rows = {
        r.group: r for r in response_times(session=session, actor=who(session, "admin"), **JANUARY)
    }
    # Friday 16:00 call, answered by email on Monday 10:00: 66 hours, 18 of them weekdays.
    assert rows["call"].answered == 1
    assert rows["call"].median_hours == pytest.approx(66.0)
    assert rows["call"].median_business_hours == pytest.approx(18.0)
    # Tuesday 09:00 email, answered by phone at 12:00.
    assert rows["email"].median_hours == pytest.approx(3.0)
    assert rows["email"].median_business_hours == pytest.approx(3.0)
    # The letter has no outbound after it; the earlier outbound to Ben is not an answer.
    assert (rows["letter"].inbound, rows["letter"].answered) == (1, 0)
    assert rows["letter"].median_hours is None


def test_response_times_group_by_team_and_owner(
    session: Session, timeline: dict[str, Contact]
) -> None:
    admin = who(session, "admin")
    team = response_times(session=session, actor=admin, by="team", **JANUARY)
    assert [(r.group, r.inbound, r.answered, r.unanswered) for r in team] == [("North", 3, 2, 1)]
    assert team[0].median_hours == pytest.approx((66 + 3) / 2)
    assert team[0].median_business_hours == pytest.approx((18 + 3) / 2)
    owner = response_times(session=session, actor=admin, by="owner", **JANUARY)
    assert [r.group for r in owner] == ["Sam Sales"]


def test_only_the_inbound_never_answered_is_waiting(
    session: Session, timeline: dict[str, Contact]
) -> None:
    sales = who(session, "sales")
    waiting, total = unanswered_contacts(session=session, actor=sales)
    assert total == 1
    assert [(w.contact_id, w.waiting) for w in waiting] == [(timeline["ben"].id, 1)]
    assert unanswered_contacts(session=session, actor=sales, channel=Channel.phone)[1] == 0
    assert unanswered_contacts(session=session, actor=sales, channel=Channel.letter)[1] == 1


def test_stored_response_times_follow_a_new_interaction(
    session: Session, timeline: dict[str, Contact]
) -> None:
    admin = who(session, "admin")
    before = {r.group: r for r in response_times(session=session, actor=admin, **JANUARY)}
    assert before["letter"].answered == 0
    log(session, timeline["ben"], Channel.email, Direction.outbound, at(16, 9))
    after = {r.group: r for r in response_times(session=session, actor=admin, **JANUARY)}
    assert after["letter"].answered == 1
    assert after["letter"].median_hours == pytest.approx(24.0)


def test_a_page_past_the_end_is_empty_but_still_gives_the_total(
    session: Session, timeline: dict[str, Contact]
) -> None:
    sales = who(session, "sales")
    assert unanswered_contacts(session=session, actor=sales, offset=25) == ([], 1)
    log(session, timeline["ben"], Channel.phone, Direction.inbound, at(20, 9), Sentiment.negative)
    log(session, timeline["ben"], Channel.email, Direction.inbound, at(21, 9), Sentiment.negative)
    since, until = at(1, 0), at(31, 0)
    found, total = affected_contacts(session=session, actor=sales, since=since, until=until)
    assert (len(found), total) == (1, 1)
    assert affected_contacts(session=session, actor=sales, since=since, until=until, offset=25) == (
        [],
        1,
    )


def test_sales_see_only_their_own_contacts_and_managers_their_team(
    session: Session, timeline: dict[str, Contact]
) -> None:
    south = who(session, "sales2")
    assert response_times(session=session, actor=south, **JANUARY) == []
    assert unanswered_contacts(session=session, actor=south)[1] == 0
    # A South contact waiting is seen by its owner, not by the North manager.
    cara = contact(session, "sales2", "Cara")
    log(session, cara, Channel.chat, Direction.inbound, at(16, 9))
    assert unanswered_contacts(session=session, actor=south)[1] == 1
    assert unanswered_contacts(session=session, actor=who(session, "manager"))[1] == 1
    assert unanswered_contacts(session=session, actor=who(session, "admin"))[1] == 2
    # Sam's colleague in North (the manager) owns a contact Sam must not see here.
    dev = contact(session, "manager", "Dev")
    log(session, dev, Channel.sms, Direction.inbound, at(16, 10))
    assert unanswered_contacts(session=session, actor=who(session, "sales"))[1] == 1
    assert unanswered_contacts(session=session, actor=who(session, "manager"))[1] == 2
    with pytest.raises(Forbidden):
        unanswered_contacts(session=session, actor=who(session, "hr"))


def test_overdue_promised_follow_ups_are_listed_for_the_owner_and_team(
    session: Session, timeline: dict[str, Contact]
) -> None:
    sales = who(session, "sales")
    create_task(
        session=session,
        task_in=TaskCreate(
            title="Call Ben back",
            due_on=date.today() - timedelta(days=3),
            contact_id=timeline["ben"].id,
        ),
        actor=sales,
    )
    create_task(
        session=session,
        task_in=TaskCreate(
            title="Not yet due",
            due_on=date.today() + timedelta(days=3),
            contact_id=timeline["ana"].id,
        ),
        actor=sales,
    )
    rows, total = overdue_follow_ups(session=session, actor=sales)
    assert total == 1 and rows[0].title == "Call Ben back" and rows[0].days_overdue == 3
    assert overdue_follow_ups(session=session, actor=who(session, "manager"))[1] == 1
    assert overdue_follow_ups(session=session, actor=who(session, "sales2"))[1] == 0


def service_concern(session: Session, person: Contact, when: datetime) -> None:
    ensure_categories(session=session)
    submitted = submit_concern(
        session=session,
        concern_in=ConcernCreate(
            category="service_quality",
            what_happened="Nobody called back.",
            anonymous=False,
            contact_name=person.full_name,
            contact_email="someone@example.org",
        ),
        now=when,
        receipt_log2n=10,
    )
    case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
    case.contact_id = person.id
    session.add(case)
    session.commit()


def test_two_negative_moments_in_ninety_days_flag_a_contact(session: Session) -> None:
    seed_users(session=session)
    now = utcnow()
    eve = contact(session, "sales", "Eve")
    finn = contact(session, "sales", "Finn")
    gus = contact(session, "sales", "Gus")
    log(
        session, eve, Channel.phone, Direction.inbound, now - timedelta(days=40), Sentiment.negative
    )
    log(
        session, eve, Channel.email, Direction.inbound, now - timedelta(days=10), Sentiment.negative
    )
    # Finn: one negative interaction and one named service concern.
    log(session, finn, Channel.chat, Direction.inbound, now - timedelta(days=5), Sentiment.negative)
    service_concern(session, finn, now - timedelta(days=20))
    # Gus: the older moment falls outside the 90 days.
    log(
        session,
        gus,
        Channel.phone,
        Direction.inbound,
        now - timedelta(days=100),
        Sentiment.negative,
    )
    log(session, gus, Channel.phone, Direction.inbound, now - timedelta(days=2), Sentiment.negative)
    sales = who(session, "sales")
    flagged, total = flagged_contacts(session=session, actor=sales)
    assert total == 2
    assert {f.contact_id for f in flagged} == {eve.id, finn.id}
    finn_moments = contact_moments(session=session, contact_id=finn.id or 0, actor=sales)
    assert finn_moments == {"negative interaction": 1, "service concern": 1}
    assert is_flagged(finn_moments)
    assert not is_flagged(contact_moments(session=session, contact_id=gus.id or 0, actor=sales))
    assert flagged_contacts(session=session, actor=who(session, "sales2"))[1] == 0
    months = moments_by_month(
        session=session, actor=sales, since=now - timedelta(days=120), until=now
    )
    # Eve two, Finn two (one a service concern), Gus two (one older than 90 days).
    assert sum(m.moments for m in months) == 6
    assert sum(m.moments for m in months if m.kind == "service concern") == 1
    assert {m.team for m in months} == {"North"}


def test_another_area_adds_moments_through_the_registry(session: Session) -> None:
    seed_users(session=session)
    hal = contact(session, "sales", "Hal")
    now = utcnow()
    log(session, hal, Channel.phone, Direction.inbound, now - timedelta(days=3), Sentiment.negative)

    def detractors(s: Session, since: datetime, until: datetime) -> Any:
        # Stands in for the customer-survey area: one detractor answer from Hal.
        return sa_select(
            col(Contact.id).label("contact_id"),
            literal(now - timedelta(days=1)).label("occurred_at"),
            literal("survey detractor").label("kind"),
        ).where(col(Contact.id) == hal.id)

    MOMENT_SOURCES.append(detractors)
    try:
        moments = contact_moments(
            session=session, contact_id=hal.id or 0, actor=who(session, "sales")
        )
    finally:
        MOMENT_SOURCES.remove(detractors)
    assert moments == {"negative interaction": 1, "survey detractor": 1}
    assert is_flagged(moments)


def test_channel_of_choice_counts_people_reached_their_way(session: Session) -> None:
    seed_users(session=session)
    now = utcnow()
    ivy = contact(session, "sales", "Ivy", Channel.email)
    jo = contact(session, "sales", "Jo", Channel.phone)
    contact(session, "sales", "Kim", Channel.sms)  # not contacted at all
    log(session, ivy, Channel.email, Direction.outbound, now - timedelta(days=3))
    log(session, jo, Channel.sms, Direction.outbound, now - timedelta(days=3))
    log(session, jo, Channel.email, Direction.outbound, now - timedelta(days=2))
    sales = who(session, "sales")
    since = now - timedelta(days=30)
    share = channel_share(session=session, actor=sales, since=since, until=now)
    assert (share.reached, share.on_preferred, share.share) == (2, 1, 50.0)
    rows, total = off_channel_contacts(session=session, actor=sales, since=since, until=now)
    assert total == 1
    assert (rows[0].contact_id, rows[0].off_channel, rows[0].preferred) == (jo.id, 2, "phone")


def engagement_wave(session: Session, layout: dict[str, int]) -> int:
    """A closed engagement survey answered by `layout[team]` people per Sales team."""
    number = 0
    for team, size in layout.items():
        for _ in range(size):
            number += 1
            create_employee(
                session=session,
                employee_in=EmployeeCreate(
                    name=f"Person {number}",
                    email=f"p{number}@example.org",
                    department="Sales",
                    team=team,
                    location="Leeds",
                    start_date=date.today() - timedelta(days=400),
                ),
                actor=OPERATOR,
            )
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Engagement",
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=7),
            template="engagement",
        ),
        actor=OPERATOR,
    )
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    questions = list_questions(session=session, survey_id=sid)
    for link in issue_links(session=session, survey_id=sid, actor=OPERATOR):
        token = parse_qs(urlparse(link.url).query)["token"][0]
        answers: dict[int, int | str | None] = {
            q.id or 0: (4 if q.kind == "agree5" else 8 if q.kind == "scale10" else None)
            for q in questions
        }
        submit_answers(session=session, token=token, answers=answers)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    return sid


def east_user(session: Session) -> None:
    create_user(
        session=session,
        user_in=UserCreate(
            username="eli",
            display_name="Eli East",
            email="eli@example.org",
            team="East",
            password="a long enough password",
            roles=[Role.sales],
        ),
        actor=OPERATOR,
    )


def test_a_team_below_the_threshold_never_appears_even_for_hr(session: Session) -> None:
    seed_users(session=session)
    east_user(session)
    # South (2) is below the threshold; East (5) is hidden so South cannot be subtracted.
    sid = engagement_wave(session, {"North": 6, "South": 2, "East": 5})
    for name in ("hr", "manager"):
        rows = people_and_outcomes(session=session, survey_id=sid, actor=who(session, name))
        assert [r.team for r in rows] == ["North"], name
        assert rows[0].engagement_index == 100.0
        assert rows[0].respondents == 6
    for name in ("admin", "sales", "privacy", "reviewer"):
        with pytest.raises(Forbidden):
            people_and_outcomes(session=session, survey_id=sid, actor=who(session, name))


def test_teams_above_the_threshold_show_for_hr_and_a_manager_sees_only_their_own(
    session: Session,
) -> None:
    seed_users(session=session)
    sid = engagement_wave(session, {"North": 5, "South": 5})
    hr_rows = people_and_outcomes(session=session, survey_id=sid, actor=who(session, "hr"))
    assert sorted(r.team for r in hr_rows) == ["North", "South"]
    manager_rows = people_and_outcomes(
        session=session, survey_id=sid, actor=who(session, "manager")
    )
    assert [r.team for r in manager_rows] == ["North"]
    assert set(manager_rows[0].outcomes) >= {"win rate (%)", "service concerns"}


def test_each_team_gets_its_own_outcomes_from_one_grouped_pass(
    session: Session, timeline: dict[str, Contact]
) -> None:
    # North (Sam): Ana answered after 66 h and 3 h, Ben's letter never; one bad call.
    log(session, timeline["ana"], Channel.phone, Direction.inbound, at(20, 9), Sentiment.negative)
    # South (Sian): Cy answered after 2 h; nothing negative.
    cy = contact(session, "sales2", "Cy")
    log(session, cy, Channel.chat, Direction.inbound, at(21, 10))
    log(session, cy, Channel.chat, Direction.outbound, at(21, 12))
    found = teams_outcomes(session=session, teams=["North", "South", "West"], **JANUARY)
    # Ana's call on the 20th is answered by nothing later: North's answered are 66 h and 3 h.
    assert found["North"][RESPONSE] == pytest.approx(34.5)
    assert found["South"][RESPONSE] == pytest.approx(2.0)
    assert found["North"][NEGATIVE] == pytest.approx(round(100 * 1 / 7, 1))
    assert found["South"][NEGATIVE] == 0.0
    assert found["West"][RESPONSE] is None and found["West"][NEGATIVE] is None
    assert found["North"][WIN_RATE] is None  # no deal closed in January


def test_stored_outcomes_follow_new_data(session: Session, timeline: dict[str, Contact]) -> None:
    first = stored_teams_outcomes(session=session, teams=["North"], **JANUARY)
    assert first == teams_outcomes(session=session, teams=["North"], **JANUARY)
    assert first["North"][NEGATIVE] == 0.0
    log(session, timeline["ben"], Channel.phone, Direction.inbound, at(22, 9), Sentiment.negative)
    again = stored_teams_outcomes(session=session, teams=["North"], **JANUARY)
    assert again["North"][NEGATIVE] == pytest.approx(round(100 * 1 / 7, 1))


def test_managers_set_their_own_team_target_and_see_the_forecast_against_it(
    session: Session,
) -> None:
    seed_users(session=session)
    manager = who(session, "manager")
    year, quarter = date.today().year, (date.today().month - 1) // 3 + 1
    set_target(
        session=session,
        team="North",
        year=year,
        quarter=quarter,
        amount=Decimal("1000"),
        actor=manager,
    )
    with pytest.raises(Forbidden):
        set_target(
            session=session,
            team="South",
            year=year,
            quarter=quarter,
            amount=Decimal("1"),
            actor=manager,
        )
    forecast = team_forecast(session=session, team="North", actor=manager)
    assert forecast.target == Decimal("1000.00")
    assert forecast.attainment == 0.0
    with pytest.raises(Forbidden):
        team_forecast(session=session, team="South", actor=manager)
