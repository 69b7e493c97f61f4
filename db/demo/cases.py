"""The demo's case history: concerns across categories and years, and welfare cases.

Built through the same commands the pages use, with their clocks set back, so the
timeline, SLA columns and audit log of every seeded case are what the app would write.
"""

import random
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from db.auth.accounts import create_user, get_user_by_username
from db.auth.actor import OPERATOR
from db.cases.actions import acknowledge, change_status, close_case, message_reporter, set_severity
from db.cases.common import ensure_categories
from db.cases.intake import reporter_reply, submit_concern
from db.cases.review import claim_case
from db.cases.welfare import log_check_in, open_welfare_case
from db.core.types import utcnow
from db.models.auth import Role, User, UserCreate
from db.models.cases import (
    Case,
    CaseExclusion,
    CaseStatus,
    CheckIn,
    ConcernCreate,
    Outcome,
    Severity,
    WelfareCreate,
)

# The seeded receipts are thrown away at once, so they are hashed at scrypt's lowest
# accepted cost: the demo seeds in seconds and no one can follow these cases up anyway.
SEED_RECEIPT_LOG2N = 10
DEMO_CONCERNS = 80
DEMO_WELFARE = 4
SECOND_REVIEWER = "reviewer2"

STORIES: dict[str, tuple[str, ...]] = {
    "wellbeing": (
        "My team has worked double shifts for six weeks and two colleagues are close to burnout.",
        "A colleague has seemed very withdrawn since the reorganisation and I am worried.",
        "Night staff have no quiet room to take breaks in since the refurbishment.",
    ),
    "health_safety": (
        "The fire door on the second floor of the east wing is propped open every evening.",
        "The wet floor by the loading bay has no signs and someone slipped this morning.",
        "The lifting hoist in bay 4 has a frayed strap and is still being used.",
    ),
    "safeguarding": (
        "A volunteer asked a young person for their personal phone number after the session.",
        "A parent collected a child who was not on the approved collection list.",
        "An older resident says her money keeps going missing after family visits.",
    ),
    "patient_safety": (
        "The medication trolley was left unlocked in the corridor during the evening round.",
        "Handover notes for ward 7 are often incomplete and allergies get missed.",
        "A patient was discharged before the test results they were waiting for came back.",
    ),
    "bullying": (
        "My supervisor shouts at newer staff in front of patients and calls them useless.",
        "A group of colleagues leaves one person out of rota swaps and team messages.",
        "I receive comments about my accent in meetings that are passed off as jokes.",
    ),
    "misconduct": (
        "Overtime claims in our unit do not match the sign-in sheets.",
        "A manager asked me to backdate a training record before the inspection.",
        "Supplier gifts are being accepted and not entered in the register.",
    ),
    "service_quality": (
        "Calls to the appointments line are dropped after twenty minutes on hold.",
        "Letters to my mother keep going to her old address despite three corrections.",
        "The accessible entrance has been closed for a month with no alternative signed.",
    ),
    "other": (
        "The car park barrier traps cyclists and staff have been hurt.",
        "Our team's shared drive is readable by everyone in the organisation.",
    ),
}
# How often each category is raised: wellbeing and bullying far more than misconduct.
CATEGORY_WEIGHTS: dict[str, int] = {
    "wellbeing": 6,
    "bullying": 5,
    "patient_safety": 4,
    "health_safety": 3,
    "service_quality": 3,
    "safeguarding": 2,
    "misconduct": 1,
    "other": 1,
}
PLACES = (
    "East wing, second floor, most weekday evenings",
    "Ward 7, night shift",
    "Main reception, last Tuesday morning",
    "The community centre on Mill Lane",
    "Depot, loading bay",
    "",
)
REPLIES = (
    "Thank you for raising this. We have started looking into it and will update you here.",
    "We have spoken to the team concerned and changes are being made this week.",
    "Could you tell us roughly how often this happens, and at what times?",
)
REPORTER_ADDS = (
    "It happened again yesterday, around the same time.",
    "Two other people saw it too but are afraid to say so.",
)
WELFARE_PEOPLE = (
    ("Jamie Okafor", "Self-isolating after a positive test; lives alone."),
    ("Lena Fischer", "Returning to work after a violent incident on the ward."),
    ("Tom Price", "Bereavement; asked for regular contact from the wellbeing team."),
    ("Aisha Rahman", "Parent of a pupil excluded this term; family under strain."),
)


def _second_reviewer(session: Session) -> User:
    found = get_user_by_username(session=session, username=SECOND_REVIEWER)
    if found is not None:
        return found
    return create_user(
        session=session,
        user_in=UserCreate(
            username=SECOND_REVIEWER,
            display_name="Remi Reviewer",
            email=f"{SECOND_REVIEWER}@example.org",
            team=None,
            password="rapport-demo-2026",
            roles=[Role.reviewer],
        ),
        actor=OPERATOR,
    )


def _handle(
    session: Session,
    rng: random.Random,
    case_id: int,
    received: datetime,
    now: datetime,
    reviewers: list[User],
    ref: str,
    receipt: str,
) -> None:
    """Walk one concern through as much of its life as its age allows."""
    lead = rng.choice(reviewers)
    age = now - received
    ack_after = timedelta(hours=rng.randint(2, 24 * (10 if rng.random() < 0.15 else 6)))
    if age < ack_after or rng.random() < 0.04:
        return
    at = received + ack_after
    claim_case(session=session, actor=lead, case_id=case_id, now=at)
    acknowledge(
        session=session,
        actor=lead,
        case_id=case_id,
        message="We have received your concern and a reviewer is looking at it.",
        now=at,
    )
    grade = rng.choice(list(Severity)[:4])
    at += timedelta(hours=rng.randint(1, 48))
    if at >= now:
        return
    set_severity(
        session=session,
        actor=lead,
        case_id=case_id,
        severity=grade,
        reason="Initial assessment of potential harm.",
        now=at,
    )
    at += timedelta(days=rng.randint(1, 20))
    if at >= now:
        return
    change_status(
        session=session,
        actor=lead,
        case_id=case_id,
        status=CaseStatus.under_review,
        reason="Gathering information from the team.",
        now=at,
    )
    at += timedelta(days=rng.randint(3, 100 if rng.random() < 0.2 else 60))
    if at >= now:
        return
    reply = rng.choice(REPLIES)
    # A question to the reporter is not the feedback the law asks for; an update is.
    message_reporter(
        session=session,
        actor=lead,
        case_id=case_id,
        text=reply,
        feedback=not reply.endswith("?"),
        now=at,
    )
    if rng.random() < 0.3:
        at += timedelta(days=rng.randint(1, 5))
        if at >= now:
            return
        reporter_reply(
            session=session, reference=ref, receipt=receipt, text=rng.choice(REPORTER_ADDS), now=at
        )
    at += timedelta(days=rng.randint(5, 60))
    if at >= now or rng.random() < 0.1:
        return
    close_case(
        session=session,
        actor=lead,
        case_id=case_id,
        outcome=rng.choice(list(Outcome)[:6]),
        reason="Findings shared with the reporter; actions agreed with the service lead.",
        now=at,
    )


def _seed_welfare(
    session: Session, rng: random.Random, now: datetime, reviewers: list[User], scale: float
) -> int:
    count = max(1, round(DEMO_WELFARE * scale))
    for n in range(count):
        name, reason = WELFARE_PEOPLE[n % len(WELFARE_PEOPLE)]
        opened = now - timedelta(days=rng.randint(10, 40))
        lead = reviewers[n % len(reviewers)]
        case = open_welfare_case(
            session=session,
            actor=lead,
            welfare_in=WelfareCreate(
                person_name=name,
                reason=reason,
                first_check_in=(opened + timedelta(days=2)).date(),
                every_days=7,
                check_ins=8,
            ),
            now=opened,
        )
        # Log the check-ins already past, except the latest, which is due today.
        detail = session.exec(
            select(CheckIn).where(CheckIn.case_id == case.id).order_by(col(CheckIn.due_on))
        ).all()
        for check_in in detail:
            done_at = datetime.combine(check_in.due_on, time(10), tzinfo=UTC)
            if done_at + timedelta(days=7) > now or check_in.id is None:
                break
            log_check_in(
                session=session,
                actor=lead,
                check_in_id=check_in.id,
                outcome=rng.choice(
                    [
                        "Spoke by phone; coping well.",
                        "No answer; left a message.",
                        "Visited; needs shopping help.",
                    ]
                ),
                now=done_at,
            )
    return count


def seed_cases(session: Session, rng: random.Random, scale: float) -> dict[str, int]:
    """Seed the demo's concerns (about six years of them) and a few welfare cases.

    Scale 0 seeds nothing, for tests that need only the demo users.
    """
    total = round(DEMO_CONCERNS * scale)
    if total == 0:
        return {"cases": 0, "welfare cases": 0}
    ensure_categories(session=session)
    now = utcnow()
    first = get_user_by_username(session=session, username="reviewer")
    second = _second_reviewer(session)
    reviewers = [u for u in (first, second) if u is not None]
    categories = list(STORIES)
    for n in range(total):
        # Recent years hold more cases, as reporting grows with trust.
        days_ago = int(rng.triangular(0, 6 * 365, 0))
        received = now - timedelta(days=days_ago, hours=rng.randint(0, 23))
        category = rng.choices(categories, weights=[CATEGORY_WEIGHTS[c] for c in categories])[0]
        anonymous = rng.random() < 0.65
        submitted = submit_concern(
            session=session,
            concern_in=ConcernCreate(
                category=category,
                what_happened=rng.choice(STORIES[category]),
                where_when=rng.choice(PLACES),
                people_involved="",
                urgency=rng.choice(["low", "medium", "medium", "high"]),
                anonymous=anonymous,
                contact_name=None if anonymous else f"Demo reporter {n + 1}",
                contact_email=None if anonymous else f"reporter{n + 1}@example.org",
                # Now and then a reporter asks that the second reviewer stay out.
                exclude_reviewer_ids=[second.id] if second.id and rng.random() < 0.05 else [],
            ),
            now=received,
            receipt_log2n=SEED_RECEIPT_LOG2N,
        )
        case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
        assert case.id is not None
        eligible = [u for u in reviewers if not _excluded(session, case.id, u)]
        _handle(
            session, rng, case.id, received, now, eligible, submitted.reference, submitted.receipt
        )
    return {"cases": total, "welfare cases": _seed_welfare(session, rng, now, reviewers, scale)}


def _excluded(session: Session, case_id: int, user: User) -> bool:
    return session.get(CaseExclusion, (case_id, user.id)) is not None
