"""Demo data for the surveys area: a directory, three engagement waves and a pulse."""

import csv
import io
import random
from datetime import date, timedelta

from sqlmodel import Session, col, select

from db.auth.actor import OPERATOR
from db.core.errors import DomainError
from db.models.people import ContactKind
from db.models.surveys import (
    ActionPlanCreate,
    QuestionKind,
    SurveyCreate,
    SurveyInvitation,
)
from db.surveys.actions import create_action
from db.surveys.answers import import_response
from db.surveys.builder import close_survey, copy_to_new_wave, create_survey, list_questions
from db.surveys.distribution import open_survey
from db.surveys.employees import import_employees_csv
from db.surveys.languages import save_translations
from db.surveys.voice import ContactSurveyCreate, create_contact_survey, open_contact_survey

# Team names match the demo users' teams (North, South) so engagement can be read
# beside sales results.
ORG: dict[str, tuple[str, ...]] = {
    "Sales": ("North", "South", "East"),
    "Operations": ("Logistics", "Facilities"),
    "Engineering": ("Platform", "Apps"),
    "People": ("Talent", "Payroll"),
}
LOCATIONS = ("London", "Leeds", "Remote")
FIRST = (
    "Alex",
    "Sam",
    "Jo",
    "Priya",
    "Omar",
    "Lena",
    "Kofi",
    "Mei",
    "Ravi",
    "Ines",
    "Tom",
    "Zara",
    "Luis",
    "Anna",
    "Yusuf",
    "Ella",
    "Noah",
    "Aisha",
    "Finn",
    "Maya",
)
LAST = (
    "Smith",
    "Khan",
    "Jones",
    "Garcia",
    "Okafor",
    "Chen",
    "Patel",
    "Novak",
    "Silva",
    "Brown",
    "Ahmed",
    "Larsen",
    "Rossi",
    "Kim",
    "Murphy",
    "Dubois",
)
CUSTOMER_REASONS = (
    "Quick, friendly answers when I called.",
    "The delivery was late twice.",
    "Good value, but the website is confusing.",
    "Your team solved my problem first time.",
)
COMMENTS = (
    "More time for training would help.",
    "Clearer priorities from leadership, please.",
    "My team is great; the tools are slow.",
    "Workload spikes at quarter end are hard.",
    "I would like more feedback on my growth.",
    "Flexible hours made a real difference this year.",
)


def _directory_csv(rng: random.Random, size: int, today: date) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "name",
            "email",
            "department",
            "team",
            "location",
            "manager_email",
            "start_date",
            "employment_type",
        ]
    )
    teams = [(d, t) for d, ts in ORG.items() for t in ts]
    # Payroll is deliberately tiny, so the demo shows a suppressed group.
    weights = [1 if t == "Payroll" else 6 if d == "Sales" else 4 for d, t in teams]
    for number in range(size):
        department, team = rng.choices(teams, weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        start = today - timedelta(days=rng.randint(30, 365 * 9))
        writer.writerow(
            [
                f"{first} {last}",
                f"{first}.{last}.{number}@example.org".lower(),
                department,
                team,
                rng.choice(LOCATIONS),
                # Each team has its line manager; North's is the demo manager.
                "manager@example.org" if team == "North" else f"lead.{team}@example.org".lower(),
                start.isoformat(),
                rng.choices(["full-time", "part-time", "contractor"], [8, 2, 1])[0],
            ]
        )
    return buffer.getvalue()


def _answer(rng: random.Random, kind: str, mood: float) -> int | str | None:
    if kind == QuestionKind.agree5.value:
        return max(1, min(5, round(rng.gauss(mood, 0.9))))
    if kind == QuestionKind.scale10.value:
        return max(0, min(10, round(rng.gauss(mood * 2.1, 1.8))))
    return rng.choice(COMMENTS) if rng.random() < 0.35 else None


def _answer_wave(
    session: Session, rng: random.Random, survey_id: int, lift: float, on: date
) -> int:
    questions = list_questions(session=session, survey_id=survey_id)
    invitations = session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey_id)
        .order_by(col(SurveyInvitation.id))
    ).all()
    team_mood = {t: rng.uniform(3.0, 4.2) for ts in ORG.values() for t in ts}
    answered = 0
    for invitation in invitations:
        if rng.random() > 0.78:
            continue
        mood = team_mood[invitation.team] + lift + rng.gauss(0, 0.5)
        answers = {q.id: _answer(rng, q.kind, mood) for q in questions if q.id is not None}
        assert invitation.id is not None
        import_response(
            session=session,
            invitation_id=invitation.id,
            answers=answers,
            submitted_on=on - timedelta(days=rng.randint(0, 10)),
            actor=OPERATOR,
        )
        answered += 1
    return answered


def _customer_nps(session: Session) -> int:
    """A closed, named customer NPS survey answered by most invited customers, inside the
    latest engagement wave's period, so that People and outcomes has customer NPS beside
    engagement for the teams with enough answers."""
    # Its own generator, so the employee demo below stays as it was.
    rng = random.Random(62)
    today = date.today()
    survey = create_contact_survey(
        session=session,
        survey_in=ContactSurveyCreate(
            title="Customer NPS, last quarter",
            template="customer NPS",
            contact_kind=ContactKind.customer,
            opens_on=today - timedelta(days=110),
            closes_on=today - timedelta(days=50),
            anonymous=False,
        ),
        actor=OPERATOR,
    )
    assert survey.id is not None
    try:
        open_contact_survey(session=session, survey_id=survey.id, actor=OPERATOR)
    except DomainError:
        session.rollback()  # too few consenting customers in a tiny demo: leave it a draft
        return 0
    questions = list_questions(session=session, survey_id=survey.id)
    invitations = session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey.id)
        .order_by(col(SurveyInvitation.id))
    ).all()
    answered = 0
    for invitation in invitations:
        if rng.random() > 0.9:
            continue
        score = max(0, min(10, round(rng.gauss(7.6, 2.2))))
        answers: dict[int, int | str | None] = {}
        for q in questions:
            if q.kind == QuestionKind.scale10.value:
                answers[q.id or 0] = score
            elif q.kind == QuestionKind.choice.value:
                options = (q.choices or "").split("\n")
                answers[q.id or 0] = options[min(4, max(0, (10 - score) // 2))]
            elif rng.random() < 0.3:
                answers[q.id or 0] = rng.choice(CUSTOMER_REASONS)
        import_response(
            session=session,
            invitation_id=invitation.id or 0,
            answers=answers,
            submitted_on=today - timedelta(days=rng.randint(51, 109)),
            actor=OPERATOR,
        )
        answered += 1
    close_survey(session=session, survey_id=survey.id, actor=OPERATOR)
    return answered


# The pulse in French, item by item (same codes, so French answers combine with English).
PULSE_FRENCH = {
    "title": "Baromètre trimestriel",
    "s:Pulse": "Baromètre",
    "q:eng_proud": "Je suis fier ou fière de travailler pour cette organisation.",
    "q:eng_stay": "Je me vois encore travailler ici dans deux ans.",
    "q:enps": (
        "Quelle est la probabilité que vous recommandiez cette organisation comme employeur ?"
    ),
    "q:mgr_support": "Mon ou ma responsable me soutient quand j'en ai besoin.",
    "q:work_manageable": "Ma charge de travail est gérable.",
    "q:comment": "Souhaitez-vous nous dire autre chose ?",
}


def seed_surveys(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """A customer NPS survey, employees, three closed engagement waves, a pulse, an action plan."""
    customer_answers = _customer_nps(session)
    today = date.today()
    size = max(20, int(200 * scale))
    report = import_employees_csv(
        session=session, text=_directory_csv(rng, size, today), actor=OPERATOR
    )
    first_open = today - timedelta(days=300)
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Engagement survey, wave 1",
            opens_on=first_open,
            closes_on=first_open + timedelta(days=14),
            template="engagement",
        ),
        actor=OPERATOR,
    )
    assert survey.id is not None
    waves = [survey]
    for number in (2, 3):
        opens = first_open + timedelta(days=120 * (number - 1))
        source_id = waves[-1].id
        assert source_id is not None
        waves.append(
            copy_to_new_wave(
                session=session,
                survey_id=source_id,
                title=f"Engagement survey, wave {number}",
                opens_on=opens,
                closes_on=opens + timedelta(days=14),
                actor=OPERATOR,
            )
        )
    responses = 0
    for number, wave in enumerate(waves):
        assert wave.id is not None
        open_survey(session=session, survey_id=wave.id, actor=OPERATOR)
        responses += _answer_wave(session, rng, wave.id, 0.15 * number, wave.closes_on)
        close_survey(session=session, survey_id=wave.id, actor=OPERATOR)
    create_action(
        session=session,
        survey_id=waves[0].id,  # type: ignore[arg-type]
        plan_in=ActionPlanCreate(
            focus="Manageable workload at quarter end",
            item_code="work_manageable",
            actions="Stagger deadlines; add a cover rota for peaks.",
            owner="Maya Manager",
            due_on=today + timedelta(days=30),
        ),
        team="North",
        department="Sales",
        actor=OPERATOR,
    )
    pulse = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Quarterly pulse",
            opens_on=today - timedelta(days=3),
            closes_on=today + timedelta(days=11),
            template="pulse",
        ),
        actor=OPERATOR,
    )
    assert pulse.id is not None
    open_survey(session=session, survey_id=pulse.id, actor=OPERATOR)
    save_translations(
        session=session, actor=OPERATOR, survey_id=pulse.id, language="fr", texts=PULSE_FRENCH
    )
    responses += _answer_wave(session, rng, pulse.id, 0.5, today)
    return {
        "employees": report.created,
        "surveys": len(waves) + 2,
        "survey responses": responses,
        "customer survey responses": customer_answers,
    }
