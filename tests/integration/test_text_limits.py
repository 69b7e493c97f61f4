"""Text past a field's maximum is refused with a sentence naming the field, and nothing
changes; CSV files with a field too large for the csv module are refused, not crashed on."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from db.auth.actor import OPERATOR
from db.cases.common import SHORT_TEXT_MAX, ensure_categories
from db.cases.review import exclude_reviewer
from db.cases.welfare import open_welfare_case
from db.consent.csv_import import import_consent
from db.consent.records import WORDING_MAX, create_purpose, publish_notice, revise_notice
from db.core.errors import ValidationError
from db.core.normalise import EMAIL_MAX, PHONE_MAX, SEARCH_MAX, TAG_COUNT_MAX
from db.models.auth import Role, User
from db.models.cases import Case, CaseEvent, CaseExclusion, WelfareCreate
from db.models.consent import ConsentEvent, ConsentPurposeCreate, Notice
from db.models.people import ContactCreate, ContactTag
from db.models.surveys import ActionPlan, ActionPlanCreate, Employee, Survey, SurveyCreate
from db.people.contacts import ContactFilter, create_contact, find_contacts, set_tags
from db.surveys.actions import ACTIONS_MAX, create_action
from db.surveys.builder import SURVEY_TITLE_MAX, copy_to_new_wave, create_survey
from db.surveys.employees import import_employees_csv
from tests import helpers

HUGE = "x" * 140_000  # over the csv module's default field limit of 131,072


def make_user(session: Session, username: str, *roles: Role) -> User:
    return helpers.make_user(session, username, *roles, team="North")


def count(session: Session, table: type) -> int:
    return int(session.exec(select(func.count()).select_from(table)).one())


def test_an_employee_csv_with_a_huge_field_is_refused_and_adds_nobody(session: Session) -> None:
    text = (
        "name,email,department,team,location,start_date\n"
        "Ana,ana@example.org,Sales,North,Leeds,2020-01-01\n"
        f'"{HUGE}",big@example.org,Sales,North,Leeds,2020-01-01\n'
    )
    with pytest.raises(ValidationError, match="CSV file: the file is malformed") as err:
        import_employees_csv(session=session, text=text, actor=OPERATOR)
    assert err.value.field == "file"
    assert count(session, Employee) == 0


def test_an_employee_csv_with_a_huge_header_is_refused(session: Session) -> None:
    with pytest.raises(ValidationError, match="malformed"):
        import_employees_csv(session=session, text=f"{HUGE},email\n", actor=OPERATOR)
    assert count(session, Employee) == 0


def test_an_employee_row_too_long_for_its_column_is_a_bad_row(session: Session) -> None:
    text = (
        "name,email,department,team,location,start_date\n"
        f"{'N' * 121},n@example.org,Sales,North,Leeds,2020-01-01\n"
        "Ana,ana@example.org,Sales,North,Leeds,2020-01-01\n"
    )
    report = import_employees_csv(session=session, text=text, actor=OPERATOR)
    assert report.created == 1
    assert [b["line"] for b in report.bad_rows] == [2]
    assert report.bad_rows[0]["reason"].startswith("Name:")


def test_a_too_long_exclusion_reason_is_refused_and_excludes_nobody(session: Session) -> None:
    ensure_categories(session=session)
    ann = make_user(session, "ann", Role.reviewer)
    bob = make_user(session, "bob", Role.reviewer)
    case = open_welfare_case(
        session=session,
        actor=ann,
        welfare_in=WelfareCreate(
            person_name="Sam", reason="Isolating", first_check_in=date.today()
        ),
    )
    events = count(session, CaseEvent)
    with pytest.raises(ValidationError, match="Reason: use at most") as err:
        exclude_reviewer(
            session=session,
            actor=ann,
            case_id=case.id or 0,
            user_id=bob.id or 0,
            reason="r" * (SHORT_TEXT_MAX + 1),
        )
    assert err.value.field == "reason"
    session.rollback()
    assert count(session, CaseExclusion) == 0
    assert count(session, CaseEvent) == events


@pytest.mark.parametrize(
    ("field", "email", "phone"),
    [
        ("contact_email", "a" * EMAIL_MAX + "@example.org", None),
        ("contact_phone", None, "1" * (PHONE_MAX + 1)),
    ],
)
def test_welfare_contact_details_past_their_maximum_are_refused(
    session: Session, field: str, email: str | None, phone: str | None
) -> None:
    ensure_categories(session=session)
    ann = make_user(session, "ann", Role.reviewer)
    with pytest.raises(ValidationError) as err:
        open_welfare_case(
            session=session,
            actor=ann,
            welfare_in=WelfareCreate(
                person_name="Sam",
                reason="Isolating",
                first_check_in=date.today(),
                contact_email=email,
                contact_phone=phone,
            ),
        )
    assert err.value.field == field
    session.rollback()
    assert count(session, Case) == 0


def test_revised_notice_wording_past_the_maximum_is_refused_and_kept(session: Session) -> None:
    officer = make_user(session, "pia", Role.privacy)
    made = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(code="news", name="News"),
        actor=officer,
    )
    notice = publish_notice(
        session=session, purpose_id=made.id or 0, wording="May we?", actor=officer
    )
    with pytest.raises(ValidationError, match="Wording: use at most") as err:
        revise_notice(
            session=session,
            notice_id=notice.id or 0,
            wording="w" * (WORDING_MAX + 1),
            actor=officer,
        )
    assert err.value.field == "wording"
    session.rollback()
    assert session.get(Notice, notice.id).wording == "May we?"  # type: ignore[union-attr]


def test_a_purpose_description_past_the_maximum_is_refused(session: Session) -> None:
    officer = make_user(session, "pia", Role.privacy)
    with pytest.raises(ValidationError) as err:
        create_purpose(
            session=session,
            purpose_in=ConsentPurposeCreate.model_construct(
                code="news", name="News", description="d" * 2001, refresh_months=24
            ),
            actor=officer,
        )
    assert err.value.field == "description"


def test_more_tags_than_the_maximum_are_refused_and_the_old_tags_stay(session: Session) -> None:
    seller = make_user(session, "sal", Role.sales)
    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ada", family_name="Lovelace", tags=["vip"]),
        actor=seller,
    )
    with pytest.raises(ValidationError, match="Tags: use at most") as err:
        set_tags(
            session=session,
            contact_id=contact.id or 0,
            tags=[f"t{n}" for n in range(TAG_COUNT_MAX + 1)],
            actor=seller,
        )
    assert err.value.field == "tags"
    session.rollback()
    tags = session.exec(select(ContactTag.tag).where(ContactTag.contact_id == contact.id)).all()
    assert list(tags) == ["vip"]


def test_a_search_past_the_maximum_is_refused_with_a_sentence(session: Session) -> None:
    seller = make_user(session, "sal", Role.sales)
    found, total = find_contacts(
        session=session, actor=seller, flt=ContactFilter(query="q" * SEARCH_MAX)
    )
    assert (found, total) == ([], 0)
    with pytest.raises(ValidationError, match="Search: search with at most"):
        find_contacts(session=session, actor=seller, flt=ContactFilter(query="q" * 201))


def test_a_new_wave_title_past_the_maximum_is_refused_and_no_wave_is_made(
    session: Session,
) -> None:
    hr = make_user(session, "hana", Role.hr)
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Pulse",
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=14),
            template="pulse",
        ),
        actor=hr,
    )
    with pytest.raises(ValidationError, match="Title of the new wave: use at most") as err:
        copy_to_new_wave(
            session=session,
            survey_id=survey.id or 0,
            title="t" * (SURVEY_TITLE_MAX + 1),
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=14),
            actor=hr,
        )
    assert err.value.field == "title"
    session.rollback()
    assert count(session, Survey) == 1


def test_action_plan_text_past_the_maximum_is_refused_and_nothing_is_planned(
    session: Session,
) -> None:
    hr = make_user(session, "hana", Role.hr)
    survey = create_survey(
        session=session,
        survey_in=SurveyCreate(
            title="Pulse",
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=14),
            template="pulse",
        ),
        actor=hr,
    )
    with pytest.raises(ValidationError, match="Actions: use at most") as err:
        create_action(
            session=session,
            survey_id=survey.id or 0,
            plan_in=ActionPlanCreate.model_construct(
                focus="Workload",
                item_code=None,
                actions="a" * (ACTIONS_MAX + 1),
                owner="Team lead",
                due_on=date.today(),
            ),
            team="North",
            actor=hr,
        )
    assert err.value.field == "actions"
    session.rollback()
    assert count(session, ActionPlan) == 0


def test_a_consent_csv_with_a_huge_field_writes_nothing_to_the_ledger(session: Session) -> None:
    officer = make_user(session, "pia", Role.privacy)
    text = (
        "external_ref,purpose,channel,action,occurred_at\n"
        f'"{HUGE}",news,email,grant,2025-03-01T09:30:00Z\n'
    )
    report = import_consent(session=session, text=text, actor=officer)
    assert report.imported == 0
    assert [b.column for b in report.bad] == ["file"]
    assert count(session, ConsentEvent) == 0
