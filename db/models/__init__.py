"""Every table, imported here so SQLModel.metadata and Alembic see them all.

Each area adds its module to this import.
"""

from db.models import audit, auth, cases, imports, people, pipeline, surveys  # noqa: F401
