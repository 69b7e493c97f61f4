"""Team outcome figures found in SQL equal the same figures counted one by one."""

import random
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.core.errors import Forbidden
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.experience.customer_feedback import CUSTOMER_NPS, teams_nps_outcome
from db.experience.outcomes import (
    RESPONSE,
    against_company,
    company_outcomes,
    people_and_outcomes,
    teams_outcomes,
)
from db.experience.responsiveness import (
    INBOUND_CHANNELS,
    median_response_hours,
    teams_exchanges,
    teams_median_response_hours,
)
from db.experience.scope import COMPANY
from db.models.auth import User
from db.models.consent import ConsentAction, ConsentPurpose, Notice
from db.models.people import Channel, Contact, Direction, Interaction, Purpose
from db.surveys.answers import submit_answers
from db.surveys.builder import list_questions
from db.surveys.distribution import issue_links
from db.surveys.held import flush_held_answers
from db.surveys.voice import open_contact_survey
from tests.integration.consent_helpers import consent, person, purpose
from tests.integration.test_experience import contact, engagement_wave, log, who
from tests.integration.test_survey_voice import contact_survey

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)
TEAMS = ["North", "South", "Quiet"]


def random_world(session: Session, seed: int) -> None:
    """Contacts of two teams (one more with no answers at all), and interactions at
    random microseconds around the period, some merged or erased away."""
    rng = random.Random(seed)
    seed_users(session=session)
    owners = [u for u in session.exec(select(User)).all() if u.team in ("North", "South")]
    contacts = []
    for i in range(30):
        person = Contact(
            given_name=f"Random {i}",
            owner_id=rng.choice(owners).id,
            erased_at=START if i == 7 else None,
        )
        session.add(person)
        contacts.append(person)
    session.flush()
    channels = [*INBOUND_CHANNELS, Channel.meeting]
    for _ in range(600):
        when = START - timedelta(days=5) + timedelta(microseconds=rng.randrange(40 * 86400 * 10**6))
        session.add(
            Interaction(
                contact_id=rng.choice(contacts).id or 0,
                channel=rng.choice(channels),
                direction=rng.choice([Direction.inbound, Direction.outbound]),
                purpose=Purpose.service,
                # Whole seconds now and then: ties between waits must not matter.
                occurred_at=when.replace(microsecond=0) if rng.random() < 0.3 else when,
            )
        )
    session.commit()


def one_by_one(session: Session, teams: list[str]) -> dict[str, float | None]:
    """The straightforward figure: every exchange read, then the median per team."""
    exchanges = teams_exchanges(session=session, teams=teams, start=START, end=END)
    return {team: median_response_hours([e for e in exchanges if e.team == team]) for team in teams}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_median_hours_to_answer_in_sql_equal_the_median_over_every_exchange(
    session: Session, seed: int
) -> None:
    random_world(session, seed)
    found = teams_median_response_hours(session=session, teams=TEAMS, start=START, end=END)
    assert found == one_by_one(session, TEAMS)
    assert found["North"] is not None and found["Quiet"] is None
    together = teams_median_response_hours(
        session=session, teams=TEAMS, start=START, end=END, together=True
    )
    everyone = teams_exchanges(session=session, teams=TEAMS, start=START, end=END)
    assert together == {COMPANY: median_response_hours(everyone)}


def test_a_manager_reads_their_team_against_every_team_of_the_company_taken_together(
    session: Session,
) -> None:
    seed_users(session=session)
    sid = engagement_wave(session, {"North": 5, "South": 5})
    # North (Sam) answers Ana after 2 h; South (Sian) answers Cy after 6 h and Di after 10 h.
    day = datetime.combine(date.today() - timedelta(days=3), datetime.min.time(), UTC)
    for owner, name, hours in (("sales", "Ana", 2), ("sales2", "Cy", 6), ("sales2", "Di", 10)):
        person = contact(session, owner, name)
        log(session, person, Channel.phone, Direction.inbound, day)
        log(session, person, Channel.email, Direction.outbound, day + timedelta(hours=hours))
    manager = who(session, "manager")
    rows = people_and_outcomes(session=session, survey_id=sid, actor=manager)
    assert [r.team for r in rows] == ["North"]
    company = company_outcomes(session=session, survey_id=sid, actor=manager)
    assert company[RESPONSE] == 6.0 and rows[0].outcomes[RESPONSE] == 2.0
    side_by_side = {a.outcome: (a.team, a.company) for a in against_company(rows[0], company)}
    assert side_by_side[RESPONSE] == (2.0, 6.0)
    assert CUSTOMER_NPS not in side_by_side  # no customer answered a survey
    for name in ("admin", "sales"):
        with pytest.raises(Forbidden):
            company_outcomes(session=session, survey_id=sid, actor=who(session, name))


def nps_customers(session: Session, owner: str, scores: list[int]) -> list[tuple[Contact, int]]:
    """Customers of `owner` who allow feedback, each with the score they will give."""
    feedback = session.exec(select(ConsentPurpose).where(ConsentPurpose.code == "feedback")).first()
    made = feedback and (feedback, session.exec(select(Notice)).first())
    if not made:
        made = purpose(session, "feedback", marketing=False)
    found = []
    for score in scores:
        number = len(session.exec(select(Contact)).all())
        customer = person(
            session, f"Cust{number}", "Omer", owner=owner, email=f"n{number}@example.org"
        )
        consent(
            session,
            customer,
            made[0],
            ConsentAction.grant,
            utcnow() - timedelta(days=5),
            notice=made[1],
        )
        found.append((customer, score))
    return found


@pytest.mark.parametrize("south", [2, 5], ids=["small rest", "rest big enough"])
def test_customer_nps_is_credited_to_the_owners_team_and_the_company_hides_a_small_rest(
    session: Session, south: int
) -> None:
    seed_users(session=session)
    north_scores, south_scores = [10, 9, 9, 8, 3, 6], [10, 2, 9, 9, 0][:south]
    scored = {
        c.email: s
        for c, s in nps_customers(session, "sales", north_scores)
        + nps_customers(session, "sales2", south_scores)
    }
    hr_user = who(session, "hr")
    sid = contact_survey(session, anonymous=False)
    open_contact_survey(session=session, survey_id=sid, actor=hr_user)
    start = utcnow() - timedelta(minutes=1)
    questions = list_questions(session=session, survey_id=sid)
    for link in issue_links(session=session, survey_id=sid, actor=OPERATOR):
        score = scored[link.email]
        token = parse_qs(urlparse(link.url).query)["token"][0]
        answers: dict[int, int | str | None] = {
            q.id or 0: score if q.kind == "scale10" else (q.choices or "").split("\n")[0]
            for q in questions
            if q.kind in ("scale10", "choice")
        }
        submit_answers(session=session, token=token, answers=answers)
    flush_held_answers(session=session, survey_id=sid)
    end = utcnow() + timedelta(minutes=1)

    def nps(scores: list[int]) -> float:
        promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
        return round(100 * (promoters - detractors) / len(scores), 1)

    enough = south >= 5
    teams = teams_nps_outcome(session, ["North", "South"], start, end)
    # Two South answers are withheld, and North with them (the small-group rule's cover).
    assert teams["North"] == {CUSTOMER_NPS: nps(north_scores) if enough else None}
    assert teams["South"] == {CUSTOMER_NPS: nps(south_scores) if enough else None}
    company = teams_nps_outcome(session, ["North", "South"], start, end, True)
    # The company minus North's answers would give the two South ones away: withheld.
    expected = nps(north_scores + south_scores) if enough else None
    assert company == {COMPANY: {CUSTOMER_NPS: expected}}
    figures = teams_outcomes(
        session=session, teams=["North", "South"], since=start.date(), until=end.date()
    )
    assert figures["North"][CUSTOMER_NPS] == teams["North"][CUSTOMER_NPS]
    together = teams_outcomes(
        session=session,
        teams=["North", "South"],
        since=start.date(),
        until=end.date(),
        together=True,
    )
    assert together[COMPANY][CUSTOMER_NPS] == expected
