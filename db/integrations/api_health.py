"""Whether the database answers, for the API's health check (no token, no data)."""

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session


def database_answers(*, session: Session) -> bool:
    """True when a trivial statement runs; False when the database cannot be reached."""
    try:
        session.execute(text("SELECT 1"))
    except OperationalError:
        return False
    return True
