"""Tables of the auth area: users, their roles and their server-side sessions."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, Relationship, SQLModel

from db.core.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do; a user may hold several."""

    admin = "admin"
    manager = "manager"
    sales = "sales"
    reviewer = "reviewer"
    hr = "hr"
    privacy = "privacy"


ROLE_LABELS: dict[Role, str] = {
    Role.admin: "Administrator",
    Role.manager: "Manager",
    Role.sales: "Sales",
    Role.reviewer: "Case reviewer",
    Role.hr: "HR",
    Role.privacy: "Privacy officer",
}


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    team: str | None = Field(default=None, max_length=80, index=True)


class User(UserBase, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=100)
    is_active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the current run of failed sign-ins was last added to; a run older than the
    # cooldown is forgotten.
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=1)

    role_links: list["UserRole"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "cascade": "all, delete-orphan"}
    )

    @property
    def roles(self) -> frozenset[Role]:
        """The user's roles as a set."""
        return frozenset(Role(link.role) for link in self.role_links)

    def has_any(self, roles: "set[Role] | frozenset[Role]") -> bool:
        """True when the user holds at least one of `roles`."""
        return bool(self.roles & roles)


class UserCreate(UserBase):
    password: str
    roles: list[Role]


class UserUpdate(SQLModel):
    display_name: str | None = None
    email: str | None = None
    team: str | None = None


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int | None = Field(
        default=None, foreign_key="app_user.id", primary_key=True, ondelete="CASCADE"
    )
    role: str = Field(max_length=16, primary_key=True, index=True)


class AuthSession(SQLModel, table=True):
    """A signed-in browser; the cookie carries its id, the table only a hash of it."""

    __tablename__ = "auth_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInAttempt(SQLModel, table=True):
    """Failed sign-ins under a username that has no account.

    They are counted and locked exactly as an account's are, so the answers to a
    sign-in never tell whether a username exists. The name is kept only as a hash.
    """

    __tablename__ = "sign_in_attempt"

    name_hash: str = Field(primary_key=True, max_length=64)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class AppMeta(SQLModel, table=True):
    """Small facts about this installation (for example: seeded with demo data)."""

    __tablename__ = "app_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=1000)
