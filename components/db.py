"""The engine for pages: built once per process through st.cache_resource."""

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.core.engine import make_engine, session_scope
from db.core.settings import get_settings


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def engine() -> Engine:
    """The engine for the configured database URL."""
    return _engine(get_settings().database_url)


@contextmanager
def db_session() -> Iterator[Session]:
    """A session for one interaction; rolled back if anything fails."""
    with session_scope(engine()) as session:
        yield session
