"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate
from db.models.consent import (
    ConsentEvent,
    ConsentHead,
    ConsentPurpose,
    Notice,
    PrivacyRequest,
    Suppression,
)
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
    "ConsentEvent",
    "ConsentHead",
    "ConsentPurpose",
    "Notice",
    "PrivacyRequest",
    "Suppression",
    "Contact",
    "ContactTag",
    "Interaction",
    "Organisation",
    "Task",
    "Role",
    "User",
    "UserCreate",
    "UserRole",
    "UserUpdate",
]
