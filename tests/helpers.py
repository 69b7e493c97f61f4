"""Set-up shared by test modules: people to act as, and a logo to brand with."""

from pathlib import Path

from PIL import Image
from sqlmodel import Session

from db.auth.accounts import create_user
from db.auth.actor import OPERATOR
from db.models.auth import Role, User, UserCreate


def make_user(session: Session, username: str, *roles: Role, team: str | None = None) -> User:
    """A user named `username` with these roles (and team), created by the operator."""
    return create_user(
        session=session,
        user_in=UserCreate(
            username=username,
            display_name=username.title(),
            email=f"{username}@example.org",
            password="correct horse battery",
            roles=list(roles),
            team=team,
        ),
        actor=OPERATOR,
    )


BRAND_COLOUR = "#8a1c7c"


def write_logo(path: Path) -> Path:
    """A small PNG logo in the brand colour, for RAPPORT_ORG_LOGO."""
    Image.new("RGB", (96, 40), BRAND_COLOUR).save(path, format="PNG")
    return path
