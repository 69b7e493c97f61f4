"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate

__all__ = [
    "AppMeta",
    "AuditEvent",
    "AuditHead",
    "AuthSession",
    "Role",
    "User",
    "UserCreate",
    "UserRole",
    "UserUpdate",
]
