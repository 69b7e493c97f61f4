"""Property-based: the import parsers and form validation meet any input with a sentence.

Whatever bytes, CSV text or form data arrive, the only exception is a domain error with a
message; everything else is a parsed table or a valid model.
"""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import SQLModel

from db.core.errors import DomainError, ValidationError
from db.core.validation import parse_model
from db.imports.files import detect_format, mapping_for, parse_map, read_table
from db.imports.kinds import KINDS
from db.imports.rows import country_code, parse_date
from db.models.auth import UserCreate, UserUpdate
from db.models.cases import ConcernCreate, WelfareCreate
from db.models.consent import (
    ConsentEventCreate,
    ConsentPurposeCreate,
    ConsentPurposeUpdate,
    PrivacyRequestCreate,
)
from db.models.integrations_mail import MailboxCreate, MailboxUpdate
from db.models.people import (
    ContactCreate,
    ContactUpdate,
    InteractionCreate,
    OrganisationCreate,
    OrganisationUpdate,
    TaskCreate,
)
from db.models.pipeline import DealCreate, DealUpdate
from db.models.surveys import ActionPlanCreate, EmployeeCreate, EmployeeUpdate, SurveyCreate

CSV_ALPHABET = st.sampled_from(list("abcXYZ019 ,;\t|\"'\n\r@.-=+é\x00\ufeff"))
csv_text = st.text(alphabet=CSV_ALPHABET, max_size=300)


@given(data=st.binary(max_size=2000), filename=st.sampled_from(["a.csv", "b.xlsx", "c.txt"]))
def test_arbitrary_bytes_are_read_or_refused_with_a_message(data: bytes, filename: str) -> None:
    try:
        table = read_table(data, filename)
    except ValidationError as err:
        assert err.message.startswith(("File:", "Header:"))
        return
    assert table.headers and all(table.headers)


@given(text=csv_text, encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_arbitrary_csv_text_is_read_or_refused_with_a_message(text: str, encoding: str) -> None:
    data = text.encode(encoding, errors="replace")
    try:
        table = read_table(data, "upload.csv")
    except ValidationError as err:
        assert err.message and err.field == "file"
        return
    width = len(table.headers)
    assert width >= 1 and all(isinstance(cell, str) for row in table.rows for cell in row)


@given(data=st.binary(max_size=500))
def test_a_damaged_workbook_is_refused_as_unreadable(data: bytes) -> None:
    with pytest.raises(ValidationError, match="File:"):
        read_table(b"PK\x03\x04" + data, "damaged.xlsx")


@given(
    headers=st.lists(st.text(max_size=20), min_size=1, max_size=8),
    kind=st.sampled_from(sorted(KINDS)),
    items=st.lists(st.text(max_size=20), max_size=3),
)
def test_any_header_row_and_map_options_give_a_mapping_or_a_sentence(
    headers: list[str], kind: str, items: list[str]
) -> None:
    fmt = detect_format(headers)
    assert fmt in {"hubspot", "salesforce", "rapport"}
    try:
        extra = parse_map(items)
        mapping = mapping_for(
            headers, kind=kind, source_format=fmt, fields=set(KINDS[kind].fields), extra=extra
        )
    except ValidationError as err:
        assert err.message.startswith("--map:")
        return
    assert set(mapping) <= set(KINDS[kind].fields)


@given(text=st.text(max_size=30))
def test_cell_parsers_return_a_value_or_an_error_the_row_report_can_show(text: str) -> None:
    # The row handlers turn exactly these two kinds into a warning on the row.
    for parse in (parse_date, country_code):
        try:
            parse(text)
        except (ValueError, ValidationError) as err:
            assert str(err)


# --- forms -----------------------------------------------------------------------------

TODAY = date.today()
FORMS: dict[type[SQLModel], dict[str, Any]] = {
    OrganisationCreate: {"name": "Acme"},
    OrganisationUpdate: {},
    ContactCreate: {"given_name": "Ana", "family_name": "Silva"},
    ContactUpdate: {},
    InteractionCreate: {
        "contact_id": 1,
        "channel": "email",
        "direction": "outbound",
        "purpose": "service",
    },
    TaskCreate: {"title": "Call back", "due_on": TODAY},
    DealCreate: {"title": "Care records", "pipeline_id": 1},
    DealUpdate: {},
    EmployeeCreate: {
        "name": "Pat",
        "email": "pat@example.org",
        "department": "Sales",
        "team": "North",
        "location": "Leeds",
        "start_date": TODAY,
    },
    EmployeeUpdate: {},
    SurveyCreate: {"title": "Pulse", "opens_on": TODAY, "closes_on": TODAY},
    ActionPlanCreate: {"focus": "Workload", "actions": "Hire", "owner": "Pat", "due_on": TODAY},
    UserCreate: {
        "username": "casey",
        "display_name": "Casey",
        "email": "casey@example.org",
        "password": "a long enough password",
        "roles": ["sales"],
    },
    UserUpdate: {},
    ConcernCreate: {"category": "bullying", "what_happened": "Shouting."},
    WelfareCreate: {"person_name": "Sam", "reason": "Bereavement", "first_check_in": TODAY},
    ConsentPurposeCreate: {"code": "newsletter", "name": "Newsletter"},
    ConsentPurposeUpdate: {},
    ConsentEventCreate: {
        "contact_id": 1,
        "purpose_id": 1,
        "channel": "email",
        "action": "grant",
        "source": "web_form",
        "occurred_at": "2026-01-01T10:00:00+00:00",
    },
    PrivacyRequestCreate: {"kind": "access", "contact_id": 1, "received_on": TODAY},
    MailboxCreate: {
        "name": "Hello",
        "address": "hello@example.org",
        "host": "imap.example.org",
        "username": "hello",
        "password_env": "MAILBOX_PASSWORD_HELLO",
    },
    MailboxUpdate: {},
}

form_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.text(min_size=300, max_size=600),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.mark.parametrize("model", list(FORMS), ids=lambda m: m.__name__)
@given(data=st.data())
def test_any_form_data_gives_a_valid_model_or_a_sentence_naming_the_field(
    model: type[SQLModel], data: st.DataObject
) -> None:
    fields = sorted(model.model_fields) + ["not_a_field"]
    changes = data.draw(st.dictionaries(st.sampled_from(fields), form_values, max_size=4))
    values = {**FORMS[model], **changes}
    try:
        parsed = parse_model(model, values)
    except ValidationError as err:
        assert isinstance(err, DomainError)
        label, _, problem = err.message.partition(": ")
        assert label and problem.endswith(".")
        return
    assert isinstance(parsed, model)


def test_the_form_table_covers_every_create_and_update_model() -> None:
    import db.models  # noqa: F401  (registers every model)

    named = {
        cls
        for cls in _subclasses(SQLModel)
        if cls.__module__.startswith("db.models.") and cls.__name__.endswith(("Create", "Update"))
    }
    assert named == set(FORMS), sorted(c.__name__ for c in named ^ set(FORMS))


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_a_decimal_amount_from_a_form_is_kept_exactly() -> None:
    deal = parse_model(DealCreate, {"title": "X", "pipeline_id": 1, "amount": "12.30"})
    assert deal.amount == Decimal("12.30")
