"""Tables of the surveys area: employees, surveys, questions, invitations, responses.

Confidentiality is built into the shape of the tables: a response row has no
employee id, no invitation id, no time of day and no autoincrementing key, so once
an answer is stored nothing in the database joins it back to a person.
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow

DEFAULT_MIN_GROUP = 5
FLOOR_MIN_GROUP = 3
DEFAULT_COMMENT_MIN = 10


class QuestionKind(StrEnum):
    """How a question is answered."""

    agree5 = "agree5"  # 1 strongly disagree … 5 strongly agree
    scale10 = "scale10"  # 0 … 10
    choice = "choice"  # one of a list
    text = "text"  # free text (a comment)


class SurveyStatus(StrEnum):
    """Where a survey is in its life."""

    draft = "draft"
    open = "open"
    closed = "closed"


class AudienceKind(StrEnum):
    """Who a survey asks: the organisation's staff, or its customers and citizens."""

    employees = "employees"
    contacts = "contacts"


class ActionStatus(StrEnum):
    """Progress of an action plan."""

    open = "open"
    in_progress = "in progress"
    done = "done"


class EmployeeBase(SQLModel):
    name: str = Field(max_length=120)
    email: str = Field(max_length=254, unique=True, index=True)
    department: str = Field(max_length=80, index=True)
    team: str = Field(max_length=80, index=True)
    location: str = Field(max_length=80)
    manager_email: str | None = Field(default=None, max_length=254)
    start_date: date
    employment_type: str = Field(default="full-time", max_length=40)


class Employee(EmployeeBase, table=True):
    __tablename__ = "employee"

    # Ids are never reused (an import's items and stored reports name rows by id).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    left_on: date | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class EmployeeCreate(EmployeeBase):
    pass


class EmployeeUpdate(SQLModel):
    name: str | None = None
    email: str | None = None
    department: str | None = None
    team: str | None = None
    location: str | None = None
    manager_email: str | None = None
    employment_type: str | None = None
    left_on: date | None = None


class SurveyBase(SQLModel):
    title: str = Field(max_length=160)
    audience_department: str | None = Field(default=None, max_length=80)
    audience_team: str | None = Field(default=None, max_length=80)
    audience_location: str | None = Field(default=None, max_length=80)
    opens_on: date
    closes_on: date
    min_group: int = Field(default=DEFAULT_MIN_GROUP)
    comment_min: int = Field(default=DEFAULT_COMMENT_MIN)
    # Contact surveys (voice of customers and citizens): the audience is contacts,
    # filtered by kind, tag and organisation; `anonymous` False ties answers to them.
    audience_kind: str = Field(default=AudienceKind.employees.value, max_length=16)
    audience_contact_kind: str | None = Field(default=None, max_length=16)
    audience_tag: str | None = Field(default=None, max_length=60)
    audience_organisation_id: int | None = Field(default=None)
    anonymous: bool = Field(default=True)
    # The language the survey is written in; translations (SurveyTranslation) add others,
    # and the answering page falls back to this one for anything untranslated.
    language: str = Field(default="en", max_length=8)


class Survey(SurveyBase, table=True):
    __tablename__ = "survey"

    id: int | None = Field(default=None, primary_key=True)
    # Waves of one survey share a series id, so items with the same code trend.
    series_id: int | None = Field(default=None, index=True)
    wave: int = Field(default=1)
    # The survey this wave was copied from ("Copy to a new wave"): the wave its results
    # are compared with. Not a foreign key: deleting a draft leaves its copies standing.
    copied_from_id: int | None = Field(default=None)
    status: str = Field(default=SurveyStatus.draft.value, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)
    # True once the survey's answers are summed into survey_tally (done when it closes).
    tallied: bool = Field(default=False)
    # Email rounds: the number of the last round started (the first mail, a reminder),
    # and whether it went to everyone it was for. A round cut short by the mail server
    # is resumed by the next send, which skips whoever it already reached.
    mail_round: int = Field(default=0)
    mail_round_done: bool = Field(default=True)
    # The schedule the worker follows: open and close at set times by itself, and
    # remind those who have not answered `remind_after_days` after opening, then every
    # `remind_every_days`, up to `remind_max` reminders. `reminders_sent` is claimed by
    # a conditional UPDATE, so two workers never send the same reminder.
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    remind_after_days: int | None = Field(default=None)
    remind_every_days: int | None = Field(default=None)
    remind_max: int = Field(default=0)
    reminders_sent: int = Field(default=0)


class SurveyCreate(SurveyBase):
    template: str = "engagement"


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "survey_question"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    position: int
    section: str = Field(max_length=80)
    code: str = Field(max_length=40)
    text: str = Field(max_length=400)
    kind: str = Field(max_length=16)
    factor: str | None = Field(default=None, max_length=40)
    # Choices of a single-choice question, one per line.
    choices: str | None = Field(default=None, max_length=2000)
    required: bool = Field(default=True)


class SurveyTranslation(SQLModel, table=True):
    """One piece of a survey's wording in another language, keyed so results still combine.

    `key` is "title", or "q:<item code>" for a question's text, or "c:<item code>" for
    a single-choice question's choices (one per line, in the same order as the
    original). Answers are stored by question and choice position, never by text.
    """

    __tablename__ = "survey_translation"

    survey_id: int = Field(foreign_key="survey.id", primary_key=True, ondelete="CASCADE")
    language: str = Field(primary_key=True, max_length=8)
    key: str = Field(primary_key=True, max_length=48)
    text: str = Field(max_length=2000)


class SurveyMailWording(SQLModel, table=True):
    """HR's wording of a survey's invitation or reminder email in one language.

    `kind` is "invitation" or "reminder". The subject and body hold placeholders such
    as {first_name} and {link} (db/surveys/wording.py checks them); a language without
    a row uses the default wording of that language.
    """

    __tablename__ = "survey_mail_wording"

    survey_id: int = Field(foreign_key="survey.id", primary_key=True, ondelete="CASCADE")
    language: str = Field(primary_key=True, max_length=8)
    kind: str = Field(primary_key=True, max_length=16)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=4000)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyInvitation(SQLModel, table=True):
    """One invited employee or contact: knows only whether they answered, never when or what."""

    __tablename__ = "survey_invitation"
    __table_args__ = (
        UniqueConstraint("survey_id", "employee_id"),
        UniqueConstraint("survey_id", "contact_id"),
        # Covers participation's count per group without reading the rows.
        Index("ix_survey_invitation_cut", "survey_id", "department", "team"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    # Exactly one of the two is set, by the survey's audience kind.
    employee_id: int | None = Field(default=None, foreign_key="employee.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    department: str = Field(max_length=80)
    team: str = Field(max_length=80)
    answered: bool = Field(default=False)
    sent_count: int = Field(default=0)
    # The last email round (Survey.mail_round) whose message reached this person.
    mailed_round: int = Field(default=0)
    # Distribution: True once a working link for this person was handed to HR in a
    # download, so answers given while HR held a link are counted apart (see
    # SurveyRelease.through_download).
    link_downloaded: bool = Field(default=False)


class SurveyLink(SQLModel, table=True):
    """A personal link: only the SHA-256 of its token is stored."""

    __tablename__ = "survey_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    invitation_id: int = Field(foreign_key="survey_invitation.id", index=True, ondelete="CASCADE")


class SurveyResponse(SQLModel, table=True):
    """A submitted questionnaire: demographic cuts and the day, nothing that names anyone."""

    __tablename__ = "survey_response"
    __table_args__ = (
        # Covers the respondent count per group that every report starts from.
        Index("ix_survey_response_cut", "survey_id", "department", "team"),
        # Without rowid SQLite keeps no hidden insertion counter beside the random key.
        {"sqlite_with_rowid": False},
    )

    id: str = Field(primary_key=True, max_length=32)
    survey_id: int = Field(foreign_key="survey.id", index=True, ondelete="CASCADE")
    department: str = Field(max_length=80)
    team: str = Field(max_length=80)
    location: str = Field(max_length=80)
    tenure_band: str = Field(max_length=20)
    # The respondent's line manager (their directory email), generalised like the other
    # cuts: empty for contacts, for people with no manager and for earlier answers.
    manager: str = Field(default="", max_length=254, sa_column_kwargs={"server_default": ""})
    submitted_on: date
    # Set only when a contact survey is declared non-anonymous (the contact agreed to
    # be named): then, and only then, the answer shows on the contact's timeline.
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyRelease(SQLModel, table=True):
    """The respondent counts per (department, team) that reports may show right now.

    Reports read these, never live counts: a leaf's count moves only when it has
    gained at least the survey's threshold of new answers since its last release (or
    when the survey closes), so two views at different times never differ by fewer
    than the threshold in any group. `through_download` counts the released answers
    of people whose link HR downloaded (see SurveyInvitation.link_downloaded).
    """

    __tablename__ = "survey_release"

    survey_id: int = Field(foreign_key="survey.id", primary_key=True, ondelete="CASCADE")
    department: str = Field(primary_key=True, max_length=80)
    team: str = Field(primary_key=True, max_length=80)
    responses: int = 0
    through_download: int = 0
    # The count when the survey closed: a group hidden then stays hidden afterwards.
    at_close: int = 0


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answer"
    __table_args__ = {"sqlite_with_rowid": False}

    response_id: str = Field(
        foreign_key="survey_response.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    question_id: int = Field(foreign_key="survey_question.id", primary_key=True, index=True)
    value: int | None = Field(default=None)
    text: str | None = Field(default=None, max_length=4000)


class SurveyTally(SQLModel, table=True):
    """Sums of a closed survey's answers per (department, team) and question.

    Reports of closed surveys read these instead of every answer; they hold nothing the
    responses do not (counts per group that the thresholds still guard). Scaled items
    have option ''; single-choice items one row per option picked. The d_ columns are
    the sums for each item's correlation with the respondent's engagement mean.
    """

    __tablename__ = "survey_tally"

    survey_id: int = Field(foreign_key="survey.id", primary_key=True, ondelete="CASCADE")
    department: str = Field(primary_key=True, max_length=80)
    team: str = Field(primary_key=True, max_length=80)
    question_id: int = Field(foreign_key="survey_question.id", primary_key=True, ondelete="CASCADE")
    option: str = Field(default="", primary_key=True, max_length=200)
    n: int = 0
    favourable: int = 0
    neutral: int = 0
    unfavourable: int = 0
    promoters: int = 0
    detractors: int = 0
    total: int = 0
    d_n: int = 0
    d_sx: float = 0.0
    d_sy: float = 0.0
    d_sxy: float = 0.0
    d_sxx: float = 0.0
    d_syy: float = 0.0


class ActionPlanBase(SQLModel):
    focus: str = Field(max_length=200)
    item_code: str | None = Field(default=None, max_length=40)
    actions: str = Field(max_length=2000)
    owner: str = Field(max_length=120)
    due_on: date


class ActionPlan(ActionPlanBase, table=True):
    __tablename__ = "survey_action"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    series_id: int = Field(index=True)
    # The group the plan is for: both None for everyone, a department alone, or a team
    # within its department.
    department: str | None = Field(default=None, max_length=80)
    team: str | None = Field(default=None, max_length=80)
    status: str = Field(default=ActionStatus.open.value, max_length=16, index=True)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)


class ActionPlanCreate(ActionPlanBase):
    pass
