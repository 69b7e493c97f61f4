"""Every table, imported here so SQLModel.metadata and Alembic see them all.

Each area adds its module to this import.
"""

from sqlmodel import SQLModel  # noqa: E402

from db.core.types import clean_text_columns  # noqa: E402
from db.models import (  # noqa: F401
    audit,
    auth,
    cases,
    consent,
    imports,
    integrations_api,
    integrations_events,
    integrations_mail,
    limits,
    people,
    pipeline,
    reports,
    self_service,
    survey_library,
    surveys,
)

# Every text column, of every table above and any added later, stores clean text.
clean_text_columns(SQLModel.metadata)
