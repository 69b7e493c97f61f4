"""Every text that reaches the database is clean: no NUL, no stray C0 controls, \\n line
endings. Walks every table and text column rather than a list of the ones known today.
"""

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Column, Enum, String, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from db.core.types import CleanString, storable_text
from db.models.people import Contact, ContactCreate, Interaction, InteractionCreate
from db.people.contacts import create_contact
from tests.integration.test_property_commands import world  # noqa: F401  (fixture)

HOSTILE = "a\x00b\r\nc\rd\x01\x1b[31m\te\x7f"

TEXT_COLUMNS = [
    (table.name, column.name)
    for table in SQLModel.metadata.sorted_tables
    for column in table.columns
    if isinstance(column.type, CleanString)
]


def test_every_string_column_of_every_table_cleans_its_text() -> None:
    text_like = [
        (table.name, column)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if _holds_text(column)
    ]
    assert len(text_like) > 100  # the walk found the tables
    assert [f"{t}.{c.name}" for t, c in text_like if not isinstance(c.type, CleanString)] == []


def _holds_text(column: Column[Any]) -> bool:
    kind = column.type
    if isinstance(kind, Enum):
        return False  # a fixed list of values, refused by validation before it gets here
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, String)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
@example("\x00")
@example("line\r\nbreak\rold-mac")
def test_clean_text_leaves_only_tab_newline_and_printable_characters(value: str) -> None:
    cleaned = storable_text(value)
    assert "\x00" not in cleaned and "\r" not in cleaned
    assert all(ord(c) >= 0x20 or c in "\t\n" for c in cleaned)
    assert storable_text(cleaned) == cleaned
    # Nothing but controls is removed: printable text comes through unchanged.
    kept = "".join(c for c in value.replace("\r\n", "\n").replace("\r", "\n"))
    assert cleaned == "".join(c for c in kept if ord(c) >= 0x20 or c in "\t\n")


@pytest.mark.parametrize(("table_name", "column_name"), TEXT_COLUMNS)
def test_a_look_up_by_any_text_finds_nothing_instead_of_failing(
    engine: Engine, table_name: str, column_name: str
) -> None:
    table = SQLModel.metadata.tables[table_name]
    with Session(engine) as session:
        found = session.execute(select(table).where(table.c[column_name] == HOSTILE).limit(1)).all()
    assert found == []


def test_untyped_parameters_are_cleaned_too(engine: Engine) -> None:
    with Session(engine) as session:
        value = session.execute(text("SELECT :value"), {"value": HOSTILE}).scalar_one()
    if engine.dialect.name == "postgresql":
        assert value == storable_text(HOSTILE)


def test_hostile_text_in_a_form_is_stored_clean(
    session: Session,
    world: dict,  # noqa: F811
) -> None:
    from db.people.interactions import log_interaction

    contact = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Ana\x00", family_name="Si\r\nlva", notes=HOSTILE),
        actor=world["users"]["sales"],
    )
    logged = log_interaction(
        session=session,
        interaction_in=InteractionCreate(
            contact_id=contact.id or 0,
            channel="email",
            direction="inbound",
            purpose="service",
            subject="Re:\x00 hello",
            body=HOSTILE * 3,
        ),
        actor=world["users"]["sales"],
    )
    session.expire_all()
    stored = session.get(Contact, contact.id)
    assert stored is not None
    assert (stored.given_name, stored.family_name) == ("Ana", "Si lva")
    assert "\x00" not in (stored.notes or "")
    body = session.get(Interaction, logged.id)
    assert body is not None and body.body == storable_text(HOSTILE * 3)
    assert body.subject == "Re: hello"
