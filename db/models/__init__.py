"""Every table, imported here so SQLModel.metadata and Alembic see them all."""

from db.models.audit import AuditEvent, AuditHead
from db.models.auth import AppMeta, AuthSession, Role, User, UserCreate, UserRole, UserUpdate
from db.models.surveys import (
    ActionPlan,
    Employee,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyLink,
    SurveyQuestion,
    SurveyResponse,
)

__all__ = [
    "ActionPlan",
    "Employee",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyLink",
    "SurveyQuestion",
    "SurveyResponse",
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
