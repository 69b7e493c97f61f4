"""Reading import files: delimiters, encodings, XLSX, header checks, format detection, maps."""

import io

import pytest

from db.core.errors import ValidationError
from db.imports.files import detect_format, mapping_for, parse_map, read_table
from db.imports.rows import CONTACT_FIELDS, parse_date

HUBSPOT_HEADERS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Company Name",
    "Job Title",
    "Street Address",
    "City",
    "State/Region",
    "Postal Code",
    "Country/Region",
    "Lifecycle Stage",
    "Create Date",
]
SALESFORCE_HEADERS = [
    "Id",
    "AccountId",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
    "Birthdate",
    "OwnerId",
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_common_delimiters_and_encodings_are_read(delimiter: str, encoding: str) -> None:
    text = delimiter.join(["given_name", "family_name", "locality"]) + "\n"
    text += delimiter.join(["Zoë", "Müller", "Köln, Altstadt"]) + "\n"
    if delimiter == ",":
        text = text.replace("Köln, Altstadt", '"Köln, Altstadt"')
    table = read_table(text.encode(encoding), "people.csv")
    assert table.headers == ["given_name", "family_name", "locality"]
    assert table.rows == [["Zoë", "Müller", "Köln, Altstadt"]]


def test_a_hubspot_export_maps_without_any_map() -> None:
    assert detect_format(HUBSPOT_HEADERS) == "hubspot"
    mapped = mapping_for(
        HUBSPOT_HEADERS, kind="contacts", source_format="hubspot", fields=set(CONTACT_FIELDS)
    )
    assert mapped["external_ref"] == ["Record ID"]
    assert mapped["given_name"] == ["First Name"] and mapped["postcode"] == ["Postal Code"]
    assert mapped["organisation"] == ["Company Name"] and mapped["country"] == ["Country/Region"]


def test_a_salesforce_export_maps_without_any_map() -> None:
    assert detect_format(SALESFORCE_HEADERS) == "salesforce"
    mapped = mapping_for(
        SALESFORCE_HEADERS, kind="contacts", source_format="salesforce", fields=set(CONTACT_FIELDS)
    )
    assert mapped["external_ref"] == ["Id"] and mapped["date_of_birth"] == ["Birthdate"]
    assert mapped["mobile"] == ["MobilePhone"] and mapped["owner"] == ["OwnerId"]


def test_deal_exports_are_recognised_by_their_headers() -> None:
    hubspot_deals = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Pipeline"]
    salesforce_opps = ["Id", "AccountId", "Name", "StageName", "Amount", "Probability", "CloseDate"]
    assert detect_format(hubspot_deals) == "hubspot"
    assert detect_format(salesforce_opps) == "salesforce"
    assert detect_format(["given_name", "family_name"]) == "rapport"


def test_an_explicit_map_replaces_the_detected_column_and_joins_several() -> None:
    headers = ["First Name", "Last Name", "Street 1", "Street 2"]
    mapped = mapping_for(
        headers,
        kind="contacts",
        source_format="hubspot",
        fields=set(CONTACT_FIELDS),
        extra=parse_map(["Street 1=street", "Street 2=street", "Last Name=family_name"]),
    )
    assert mapped["street"] == ["Street 1", "Street 2"]
    assert mapped["family_name"] == ["Last Name"]


def test_a_malformed_map_is_refused() -> None:
    with pytest.raises(ValidationError, match="SRC=DST"):
        parse_map(["family_name"])


def test_an_xlsx_workbook_is_read_with_dates_as_iso_text() -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["given_name", "date_of_birth", "external_ref"])
    sheet.append(["Ana", datetime(1980, 5, 4), 1234])
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue(), "people.xlsx")
    assert table.rows == [["Ana", "1980-05-04", "1234"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1980-05-04", "1980-05-04"),
        ("04/05/1980", "1980-05-04"),
        ("1980-05-04T00:00:00Z", "1980-05-04"),
    ],
)
def test_dates_are_read_in_common_forms(text: str, expected: str) -> None:
    assert parse_date(text).isoformat() == expected


@pytest.mark.parametrize("text", ["1980-02-30", "31/31/1980", "soon"])
def test_a_date_that_does_not_exist_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)
