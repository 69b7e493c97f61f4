"""Voice of customers and citizens: consent gating, named and anonymous answers, NPS."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.consent.requests import complete_erasure
from db.consent.state import ConsentState
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.experience.customer_feedback import (
    CUSTOMER_NPS,
    customer_nps_by_team,
    detractor_moments,
    teams_nps_outcome,
)
from db.experience.moments import contact_moments
from db.models.consent import ConsentAction, ConsentPurpose, Notice, RequestKind
from db.models.people import Contact, ContactKind, OrganisationCreate
from db.models.surveys import SurveyInvitation, SurveyResponse
from db.people.contacts import create_organisation
from db.people.timeline import timeline
from db.surveys.answers import submit_answers
from db.surveys.builder import close_survey, list_questions
from db.surveys.distribution import issue_links, open_survey
from db.surveys.held import flush_held_answers
from db.surveys.reports import groups, participation, results
from db.surveys.voice import (
    SKIP_REASONS,
    ContactSurveyCreate,
    create_contact_survey,
    open_contact_survey,
)
from tests.integration.consent_helpers import consent, person, purpose
from tests.integration.test_privacy_requests import request_for

TODAY = date.today()


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def hr(session: Session):  # type: ignore[no-untyped-def]
    found = get_user_by_username(session=session, username="hr")
    assert found is not None
    return found


def customers(
    session: Session,
    count: int,
    feedback: tuple[ConsentPurpose, Notice] | None,
    **extra: object,
) -> list[Contact]:
    """`count` customers with email; those get feedback consent when a purpose is given."""
    made = []
    for number in range(count):
        contact = person(
            session, f"Cust{number}", f"Omer{number}", email=f"c{number}@example.org", **extra
        )
        if feedback is not None:
            made_purpose, notice = feedback
            consent(
                session,
                contact,
                made_purpose,
                ConsentAction.grant,
                utcnow() - timedelta(days=5),
                notice=notice,
            )
        made.append(contact)
    return made


def contact_survey(session: Session, template: str = "customer NPS", **extra: object) -> int:
    survey = create_contact_survey(
        session=session,
        survey_in=ContactSurveyCreate(
            title="How did we do?",
            template=template,
            opens_on=TODAY,
            closes_on=TODAY + timedelta(days=7),
            **extra,  # type: ignore[arg-type]
        ),
        actor=hr(session),
    )
    assert survey.id is not None
    return survey.id


def answer_everyone(session: Session, survey_id: int, scores: list[int]) -> None:
    links = issue_links(
        session=session, survey_id=survey_id, actor=OPERATOR, everyone_unanswered=True
    )
    questions = list_questions(session=session, survey_id=survey_id)
    for link, score in zip(links, scores, strict=False):
        token = parse_qs(urlparse(link.url).query)["token"][0]
        answers: dict[int, int | str | None] = {}
        for q in questions:
            assert q.id is not None
            if q.kind == "scale10":
                answers[q.id] = score
            elif q.kind == "choice":
                answers[q.id] = (q.choices or "").split("\n")[0 if score >= 9 else 3]
        submit_answers(session=session, token=token, answers=answers)
    # Answers are held for a batch: write the rest now, as the close or a later visit would.
    flush_held_answers(session=session, survey_id=survey_id)


def test_only_contacts_allowing_feedback_are_invited_and_the_rest_are_counted_by_reason(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    allowed = customers(world, 5, feedback)
    never = person(world, "Never", "Asked", email="never@example.org")
    gone = person(world, "Gone", "Away", email="gone@example.org")
    consent(
        world,
        gone,
        feedback[0],
        ConsentAction.grant,
        utcnow() - timedelta(days=30),
        notice=feedback[1],
    )
    consent(world, gone, feedback[0], ConsentAction.withdraw, utcnow() - timedelta(days=2))
    survey_id = contact_survey(world)

    outcome = open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))

    invited = set(
        world.exec(
            select(SurveyInvitation.contact_id).where(SurveyInvitation.survey_id == survey_id)
        ).all()
    )
    assert invited == {c.id for c in allowed}
    assert never.id not in invited and gone.id not in invited
    assert outcome.invited == 5
    assert outcome.skipped == {
        SKIP_REASONS[ConsentState.none]: 1,
        SKIP_REASONS[ConsentState.withdrawn]: 1,
    }


def test_without_a_feedback_purpose_nobody_is_invited_and_the_message_says_why(
    world: Session,
) -> None:
    customers(world, 6, None)
    survey_id = contact_survey(world)
    with pytest.raises(ValidationError, match="no 'feedback' purpose"):
        open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))


def test_too_few_consenting_contacts_refuses_to_open_and_names_the_skipped(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 3, feedback)
    customers_without = [person(world, "No", f"Consent{i}", email=f"n{i}@x.org") for i in range(4)]
    assert customers_without
    survey_id = contact_survey(world)
    with pytest.raises(ValidationError, match="4 never agreed to be asked for feedback"):
        open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))


def test_the_audience_is_filtered_by_kind_tag_and_organisation(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    org = create_organisation(
        session=world,
        org_in=OrganisationCreate(name="Acme Ltd"),
        actor=get_user_by_username(session=world, username="sales"),  # type: ignore[arg-type]
    )
    inside = customers(world, 5, feedback, organisation_id=org.id, tags=["vip"])
    customers(world, 5, feedback, tags=["vip"])  # no organisation: left out
    citizens = [
        person(world, "Cit", f"Izen{i}", email=f"z{i}@x.org", kind=ContactKind.citizen)
        for i in range(2)
    ]
    assert citizens
    survey_id = contact_survey(
        world, contact_kind=ContactKind.customer, tag="VIP", organisation_id=org.id
    )
    outcome = open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    assert outcome.invited == 5
    invited = world.exec(
        select(SurveyInvitation.contact_id).where(SurveyInvitation.survey_id == survey_id)
    ).all()
    assert set(invited) == {c.id for c in inside}


def test_contact_and_employee_surveys_each_open_only_through_their_own_command(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 5, feedback)
    survey_id = contact_survey(world)
    with pytest.raises(Conflict, match="asks contacts"):
        open_survey(session=world, survey_id=survey_id, actor=OPERATOR)


def test_only_hr_builds_and_opens_contact_surveys(world: Session) -> None:
    sales = get_user_by_username(session=world, username="sales")
    assert sales is not None
    with pytest.raises(Forbidden):
        create_contact_survey(
            session=world,
            survey_in=ContactSurveyCreate(title="x", opens_on=TODAY, closes_on=TODAY),
            actor=sales,
        )


def test_named_answers_show_on_the_timeline_and_feed_detractors_and_team_nps(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    survey_id = contact_survey(world, anonymous=False)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    before = utcnow() - timedelta(minutes=1)
    # Promoters 9, 10, 10; passive 7; detractors 3, 6 → (3 − 2) / 6 = +16.7
    answer_everyone(world, survey_id, [9, 10, 10, 7, 3, 6])
    after = utcnow() + timedelta(minutes=1)

    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None
    named = world.exec(
        select(SurveyResponse.contact_id).where(SurveyResponse.survey_id == survey_id)
    ).all()
    assert set(named) == {c.id for c in people}

    shown = {}
    for contact in people:
        items, _total = timeline(session=world, contact_id=contact.id or 0, actor=admin)
        survey_items = [i for i in items if i.source == "survey"]
        assert len(survey_items) == 1
        shown[contact.id] = survey_items[0]
    kinds = sorted(item.kind for item in shown.values())
    assert kinds == ["detractor", "detractor", "passive", "promoter", "promoter", "promoter"]
    assert all(item.title == "How did we do?" for item in shown.values())

    moments = detractor_moments(session=world, actor=admin, since=before, until=after)
    detractor_ids = {cid for cid, _at, what in moments if what == "survey_detractor"}
    assert len(moments) == 2 and len(detractor_ids) == 2
    assert detractor_ids <= {c.id for c in people}

    by_team = customer_nps_by_team(session=world, actor=admin, since=before, until=after)
    assert by_team == {"North": (16.7, 6)}  # the demo sales user owns them, team North
    assert (
        detractor_moments(session=world, actor=admin, since=after, until=after + timedelta(days=1))
        == []
    )


def test_team_nps_is_withheld_below_the_surveys_threshold(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 6, feedback)
    survey_id = contact_survey(world, anonymous=False, min_group=6, comment_min=10)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None
    answer_everyone(world, survey_id, [9, 10, 3, 4, 5])  # five of six answer
    window = (utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1))
    assert customer_nps_by_team(session=world, actor=admin, since=window[0], until=window[1]) == {}


def test_anonymous_contact_answers_never_reach_a_contact(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    survey_id = contact_survey(world)  # anonymous by default
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    answer_everyone(world, survey_id, [0, 1, 2, 3, 4, 5])
    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None

    rows = world.execute(
        sa_select(SurveyResponse.contact_id, SurveyResponse.submitted_at).where(
            SurveyResponse.survey_id == survey_id
        )
    ).all()
    assert len(rows) == 6 and all(r == (None, None) for r in rows)
    for contact in people:
        items, _total = timeline(session=world, contact_id=contact.id or 0, actor=admin)
        assert not [i for i in items if i.source == "survey"]
    window = (utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1))
    assert detractor_moments(session=world, actor=admin, since=window[0], until=window[1]) == []
    assert customer_nps_by_team(session=world, actor=admin, since=window[0], until=window[1]) == {}


def test_contact_survey_nps_is_reported_only_at_the_threshold(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 6, feedback)
    survey_id = contact_survey(world)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    answer_everyone(world, survey_id, [10, 9, 8, 2])
    everyone = groups(session=world, survey_id=survey_id, actor=hr(world))[0]
    assert not everyone.shown
    answer_everyone(world, survey_id, [0])  # the fifth answer reaches the threshold
    everyone = groups(session=world, survey_id=survey_id, actor=hr(world))[0]
    assert everyone.shown and everyone.n == 5
    close_survey(session=world, survey_id=survey_id, actor=hr(world))
    result = results(session=world, survey_id=survey_id, group_key="all", actor=hr(world))
    # Promoters 10, 9 (2); detractors 2, 0 (2) → 0
    assert result.enps == 0.0
    rows = participation(session=world, survey_id=survey_id, actor=hr(world))
    assert rows[0]["invited"] == 6 and rows[0]["responses"] == 5


def test_managers_see_contact_survey_groups_which_are_not_staff_teams(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 5, feedback)
    survey_id = contact_survey(world)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    answer_everyone(world, survey_id, [9, 9, 9, 9, 9])
    manager = get_user_by_username(session=world, username="manager")
    assert manager is not None
    seen = groups(session=world, survey_id=survey_id, actor=manager)
    assert [g.label for g in seen] == ["Everyone", "customer", "No organisation"]


def test_erasing_a_contact_unties_their_named_answers_but_keeps_the_totals(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 5, feedback)
    survey_id = contact_survey(world, anonymous=False)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    answer_everyone(world, survey_id, [9, 9, 9, 3, 3])
    gone = people[0]
    request = request_for(world, gone, RequestKind.erasure)
    complete_erasure(
        session=world,
        request_id=request.id or 0,
        version=request.version,
        actor=get_user_by_username(session=world, username="privacy"),  # type: ignore[arg-type]
    )
    linked = world.exec(
        select(SurveyResponse.contact_id).where(SurveyResponse.survey_id == survey_id)
    ).all()
    assert len(linked) == 5
    assert gone.id not in linked and linked.count(None) == 1
    close_survey(session=world, survey_id=survey_id, actor=hr(world))
    result = results(session=world, survey_id=survey_id, group_key="all", actor=hr(world))
    assert result.enps == 20.0  # (3 − 2) / 5, the erased person's answer still counted


def test_named_detractors_are_moments_that_matter_and_team_nps_is_an_outcome(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    survey_id = contact_survey(world, anonymous=False)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    start = utcnow() - timedelta(minutes=1)
    answer_everyone(world, survey_id, [9, 10, 10, 7, 3, 6])  # detractors: the last two
    end = utcnow() + timedelta(minutes=1)
    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None

    per_contact = {
        c.id: contact_moments(session=world, contact_id=c.id or 0, actor=admin) for c in people
    }
    assert [m.get("survey detractor", 0) for m in per_contact.values()] == [0, 0, 0, 0, 1, 1]
    assert teams_nps_outcome(world, ["North", "South"], start, end) == {
        "North": {CUSTOMER_NPS: 16.7},
        "South": {CUSTOMER_NPS: None},
    }
    later = teams_nps_outcome(world, ["North"], end, end + timedelta(days=1))
    assert later == {"North": {CUSTOMER_NPS: None}}


def test_anonymous_detractors_are_never_moments_and_count_towards_no_team(
    world: Session,
) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    people = customers(world, 6, feedback)
    survey_id = contact_survey(world, anonymous=True)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    start = utcnow() - timedelta(minutes=1)
    answer_everyone(world, survey_id, [0, 1, 2, 3, 4, 5])
    end = utcnow() + timedelta(minutes=1)
    admin = get_user_by_username(session=world, username="admin")
    assert admin is not None
    for contact in people:
        moments = contact_moments(session=world, contact_id=contact.id or 0, actor=admin)
        assert "survey detractor" not in moments
    assert teams_nps_outcome(world, ["North"], start, end) == {"North": {CUSTOMER_NPS: None}}


def test_a_team_below_the_threshold_gets_no_customer_nps_outcome(world: Session) -> None:
    feedback = purpose(world, "feedback", marketing=False)
    customers(world, 6, feedback)
    survey_id = contact_survey(world, anonymous=False, min_group=6, comment_min=10)
    open_contact_survey(session=world, survey_id=survey_id, actor=hr(world))
    start = utcnow() - timedelta(minutes=1)
    answer_everyone(world, survey_id, [9, 10, 3, 4, 5])  # five of six answer
    end = utcnow() + timedelta(minutes=1)
    assert teams_nps_outcome(world, ["North"], start, end) == {"North": {CUSTOMER_NPS: None}}
