"""The mapping screen's first guess for each column, from its header alone."""

import pytest

from db.imports.deals import DEAL_FIELDS
from db.imports.employees import EMPLOYEE_FIELDS
from db.imports.mapping import REJECT_COLUMNS, fold, guess_fields
from db.imports.rows import CONTACT_FIELDS, ORG_FIELDS


def guessed(
    headers: list[str], kind: str = "contacts", fields: frozenset[str] = CONTACT_FIELDS
) -> dict[str, str | None]:
    return {g.column: g.field for g in guess_fields(headers, kind=kind, fields=fields)}


def test_folding_ignores_case_accents_and_punctuation() -> None:
    assert fold("  Código-Postal ") == "codigo postal"
    assert fold("Straße") == "strasse"
    assert fold("E-Mail_Adresse") == "e mail adresse"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["First Name", "Last Name", "Email", "Phone Number", "Postal Code", "Record ID"],
            ["given_name", "family_name", "email", "phone", "postcode", "external_ref"],
        ),
        (
            ["FirstName", "LastName", "Email", "MobilePhone", "MailingCity", "Birthdate", "Id"],
            [
                "given_name",
                "family_name",
                "email",
                "mobile",
                "locality",
                "date_of_birth",
                "external_ref",
            ],
        ),
        (
            ["Prénom", "Nom", "Courriel", "Téléphone", "Code postal", "Ville", "Société"],
            ["given_name", "family_name", "email", "phone", "postcode", "locality", "organisation"],
        ),
        (
            [
                "Vorname",
                "Nachname",
                "E-Mail-Adresse",
                "Straße",
                "PLZ",
                "Ort",
                "Geburtsdatum",
                "Handy",
            ],
            [
                "given_name",
                "family_name",
                "email",
                "street",
                "postcode",
                "locality",
                "date_of_birth",
                "mobile",
            ],
        ),
        (
            [
                "Nombre",
                "Apellidos",
                "Correo electrónico",
                "Teléfono móvil",
                "Código postal",
                "Ciudad",
                "País",
            ],
            ["given_name", "family_name", "email", "mobile", "postcode", "locality", "country"],
        ),
        (
            ["Emial", "Frist name", "Surnmae", "Compnay"],
            ["email", "given_name", "family_name", "organisation"],
        ),
    ],
    ids=["hubspot", "salesforce", "french", "german", "spanish", "misspelt"],
)
def test_contact_headers_are_guessed_in_every_language_and_export(
    headers: list[str], expected: list[str]
) -> None:
    assert list(guessed(headers).values()) == expected


def test_unknown_and_rejected_file_columns_are_not_imported_and_a_field_is_guessed_once() -> None:
    found = guessed(["Email", "Favourite colour", "E-mail", *REJECT_COLUMNS])
    assert found == {
        "Email": "email",
        "Favourite colour": None,
        "E-mail": None,
        **dict.fromkeys(REJECT_COLUMNS),
    }


def test_a_word_means_the_field_of_the_kind_being_imported() -> None:
    assert guessed(["Company name", "Website"], "organizations", ORG_FIELDS) == {
        "Company name": "name",
        "Website": "domain",
    }
    assert guessed(["Company name"]) == {"Company name": "organisation"}
    deals = guessed(["Deal Name", "Betrag", "Fecha de cierre", "Étape"], "deals", DEAL_FIELDS)
    assert deals == {
        "Deal Name": "title",
        "Betrag": "amount",
        "Fecha de cierre": "expected_close",
        "Étape": "stage",
    }
    people = guessed(["Nom complet", "Abteilung", "Fecha de alta"], "employees", EMPLOYEE_FIELDS)
    assert people == {
        "Nom complet": "name",
        "Abteilung": "department",
        "Fecha de alta": "start_date",
    }
