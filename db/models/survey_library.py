"""The question library: questions HR keeps for building later surveys."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class SurveyLibraryQuestion(SQLModel, table=True):
    """A question HR added to the library; its code links it across the surveys using it."""

    __tablename__ = "survey_library_question"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    section: str = Field(max_length=80)
    text: str = Field(max_length=400)
    kind: str = Field(max_length=16)
    factor: str | None = Field(default=None, max_length=40)
    choices: str | None = Field(default=None, max_length=2000)
    required: bool = Field(default=True)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
