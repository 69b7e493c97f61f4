"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate
from db.models.cases import Case, CaseCategory, CaseEvent, CaseExclusion, CheckIn

__all__ = [
    "AppMeta",
    "AuditEvent",
    "AuditHead",
    "AuthSession",
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
