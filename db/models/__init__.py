"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate
from db.models.people import (
    Contact,
    ContactTag,
    Interaction,
    Organisation,
    Task,
)
from db.models.pipeline import Deal, LostReason, Pipeline, Stage, StageChange

__all__ = [
    "AppMeta",
    "AuditEvent",
    "AuditHead",
    "AuthSession",
    "Contact",
    "ContactTag",
    "Deal",
    "Interaction",
    "LostReason",
    "Organisation",
    "Pipeline",
    "Task",
    "Role",
    "Stage",
    "StageChange",
    "User",
    "UserCreate",
    "UserRole",
    "UserUpdate",
]
