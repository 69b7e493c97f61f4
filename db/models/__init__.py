"""Every table, imported here so SQLModel.metadata and Alembic see them all.

Each area adds its module to this import.
"""

from db.models import (  # noqa: F401
    audit,
    auth,
    cases,
    consent,
    imports,
    limits,
    people,
    pipeline,
    reports,
    surveys,
)
