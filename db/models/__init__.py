"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate
from db.models.cases import Case, CaseCategory, CaseEvent, CaseExclusion, CheckIn
from db.models.people import (
    Contact,
    ContactTag,
    Interaction,
    Organisation,
    Task,
)

__all__ = [
    "AppMeta",
    "AuditEvent",
    "AuditHead",
    "AuthSession",
    "Contact",
    "ContactTag",
    "Interaction",
    "Organisation",
    "Task",
    "Case",
    "CaseCategory",
    "CaseEvent",
    "CaseExclusion",
    "CheckIn",
    "Role",
    "User",
    "UserCreate",
    "UserRole",
    "UserUpdate",
]
