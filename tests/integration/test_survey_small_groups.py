"""The one small-group rule holds in customer feedback: no team's NPS by subtraction."""

from datetime import timedelta

from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.types import utcnow
from db.experience.customer_feedback import CUSTOMER_NPS, customer_nps_by_team, teams_nps_outcome
from db.models.auth import Role
from db.models.consent import ConsentAction
from db.surveys.builder import close_survey
from db.surveys.distribution import open_survey
from db.surveys.reports import cache_key, results
from db.surveys.voice import open_contact_survey
from tests.integration.consent_helpers import consent, person, purpose
from tests.integration.test_survey_voice import answer_everyone, contact_survey, hr, world
from tests.integration.test_surveys import new_survey, staff, user

__all__ = ["world"]


def test_a_small_team_beside_one_shown_team_cannot_be_worked_out_from_the_total(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    # Seven customers of North's seller answer, and two of South's.
    for number in range(9):
        contact = person(
            world,
            f"Cust{number}",
            f"Omer{number}",
            owner="sales" if number < 7 else "sales2",
            email=f"c{number}@example.org",
        )
        consent(
            world,
            contact,
            feedback[0],
            ConsentAction.grant,
            utcnow() - timedelta(days=5),
            notice=feedback[1],
        )
    survey_id = contact_survey(world, anonymous=False)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    start = utcnow() - timedelta(minutes=1)
    answer_everyone(world, survey_id, [10, 10, 10, 10, 10, 10, 10, 0, 0])
    end = utcnow() + timedelta(minutes=1)
    close_survey(session=world, survey_id=survey_id, actor=hr(world))
    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None

    # The attack: the survey's overall NPS minus North's would give South's two answers.
    overall = results(session=world, survey_id=survey_id, group_key="all", actor=hr(world))
    assert overall.enps is not None
    by_team = customer_nps_by_team(session=world, actor=admin, since=start, until=end)
    assert "South" not in by_team
    assert "North" not in by_team, "North is hidden too, as cover for South"
    outcome = teams_nps_outcome(world, ["North", "South"], start, end)
    assert outcome == {"North": {CUSTOMER_NPS: None}, "South": {CUSTOMER_NPS: None}}


def test_results_are_cached_only_once_closed_and_never_shared_between_different_viewers(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 5, ("Sales", "South"): 5})
    survey = new_survey(session)
    sid = survey.id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    north = user(session, "maya", Role.manager, team="North")
    south = user(session, "sian", Role.manager, team="South")
    assert cache_key(waves=[survey], viewer=north) is None  # open: live, never cached
    closed = close_survey(session=session, survey_id=sid, actor=OPERATOR)
    keys = {cache_key(waves=[closed], viewer=who) for who in (north, south)}
    assert None not in keys and len(keys) == 2
