"""Imports: formats, mapping, bad rows, all-or-nothing, dry runs, batches and revert."""

import csv
import io

import pytest
from sqlmodel import Session, func, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.errors import Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.imports.batches import list_batches, problems_csv, revert_batch, run_import
from db.imports.export import export_csv, export_xlsx
from db.imports.files import read_table
from db.imports.kinds import SUPPRESSION_CHECKS
from db.models.auth import User
from db.models.people import Contact, ContactCreate, ContactUpdate, Interaction, Organisation
from db.people.contacts import create_contact, tags_of, update_contact

HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,Street Address,"
    "City,State/Region,Postal Code,Country/Region,Lifecycle Stage,Create Date\n"
    "101,Ana,Silva,ana@example.org,020 7946 0018,Kestrel Health,Nurse,1 High St,Leeds,"
    "West Yorkshire,LS1 4AP,United Kingdom,customer,2024-01-02\n"
    "102,Ben,Okafor,BEN@EXAMPLE.ORG,not a phone,Kestrel Health,,,,,,United Kingdom,lead,\n"
    "103,,,nobody@example.org,,,,,,,,,lead,\n"
)
SALESFORCE = (
    "Id;AccountId;FirstName;LastName;Email;Phone;MobilePhone;MailingStreet;MailingCity;"
    "MailingState;MailingPostalCode;MailingCountry;Birthdate;OwnerId\n"
    "0035g00000AbCdE;0015g00000XyZaB;Zoë;Müller;zoe@example.org;+44 20 7946 0019;;"
    "2 Low Rd;York;;YO1 7HH;GB;1980-02-30;sales@example.org\n"
    "0035g00000AbCdF;;René;Dubois;rene@example.org;;;;;;;FR;1975-06-01;nobody\n"
)


@pytest.fixture
def people(session: Session) -> Session:
    seed_users(session=session)
    return session


def actor(session: Session, name: str = "admin") -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def count(session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_hubspot_export_is_detected_and_mapped_without_any_map(people: Session) -> None:
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=HUBSPOT.encode(),
        filename="hubspot.csv",
    )
    assert result.source_format == "hubspot"
    assert result.created == 2
    assert [(p.row, p.column) for p in result.rejected] == [(4, "family_name")]
    assert [(p.row, p.column) for p in result.warnings] == [(3, "phone")]
    ana = people.exec(select(Contact).where(Contact.external_ref == "101")).one()
    assert (ana.given_name, ana.email, ana.phone, ana.country) == (
        "Ana",
        "ana@example.org",
        "+442079460018",
        "GB",
    )
    org = people.get(Organisation, ana.organisation_id)
    assert org is not None and org.name == "Kestrel Health"
    ben = people.exec(select(Contact).where(Contact.external_ref == "102")).one()
    assert ben.organisation_id == org.id and ben.email == "ben@example.org"


def test_a_salesforce_export_in_a_legacy_encoding_with_semicolons_is_read(
    people: Session,
) -> None:
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=SALESFORCE.encode("cp1252"),
        filename="salesforce.csv",
    )
    assert result.source_format == "salesforce"
    assert result.created == 2 and not result.rejected
    zoe = people.exec(select(Contact).where(Contact.external_ref == "0035g00000AbCdE")).one()
    assert (zoe.given_name, zoe.family_name) == ("Zoë", "Müller")
    assert zoe.date_of_birth is None  # 30 February does not exist: dropped with a warning
    assert zoe.owner_id == actor(people, "sales").id
    columns = {p.column for p in result.warnings}
    assert {"date_of_birth", "organisation", "owner"} <= columns


def test_several_columns_mapped_to_one_field_are_joined_in_the_order_given(
    people: Session,
) -> None:
    data = b"Nom,Prenom,Deuxieme,Courriel\nMartin,Jean,Luc,jl@example.org\n"
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=data,
        filename="fr.csv",
        mapping=[
            ("Nom", "family_name"),
            ("Prenom", "given_name"),
            ("Deuxieme", "given_name"),
            ("Courriel", "email"),
        ],
    )
    assert result.created == 1
    contact = people.exec(select(Contact)).one()
    assert (contact.given_name, contact.family_name) == ("Jean Luc", "Martin")


def test_a_map_naming_a_missing_column_is_refused(people: Session) -> None:
    with pytest.raises(ValidationError, match="no column 'Surname'"):
        run_import(
            session=people,
            actor=actor(people),
            kind="contacts",
            data=b"given_name,family_name\nA,B\n",
            filename="x.csv",
            mapping=[("Surname", "family_name")],
        )


def test_all_or_nothing_imports_nothing_when_one_row_is_bad(people: Session) -> None:
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=HUBSPOT.encode(),
        filename="hubspot.csv",
        all_or_nothing=True,
    )
    assert not result.saved and len(result.rejected) == 1
    assert count(people, Contact) == 0 and count(people, Organisation) == 0
    assert list_batches(session=people, actor=OPERATOR) == []


def test_a_dry_run_reports_and_changes_nothing(people: Session) -> None:
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=HUBSPOT.encode(),
        filename="hubspot.csv",
        dry_run=True,
    )
    assert result.created == 2 and "Dry run" in result.summary()
    assert count(people, Contact) == 0


def test_the_rejection_report_names_row_column_and_reason(people: Session) -> None:
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=HUBSPOT.encode(),
        filename="hubspot.csv",
    )
    rows = list(csv.reader(io.StringIO(problems_csv(result.rejected).decode())))
    assert rows[0] == ["row", "column", "reason"]
    assert rows[1][:2] == ["4", "family_name"] and "name" in rows[1][2]


def test_update_by_email_updates_instead_of_duplicating(people: Session) -> None:
    admin = actor(people)
    create_contact(
        session=people,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva", email="ana@example.org"),
        actor=admin,
    )
    data = b"given_name,family_name,email,job_title,tags\nAna,Silva,ANA@example.org,Nurse,vip\n"
    result = run_import(session=people, actor=admin, kind="contacts", data=data, filename="u.csv")
    assert (result.created, result.updated) == (0, 1)
    contact = people.exec(select(Contact)).one()
    assert contact.job_title == "Nurse" and contact.version == 2
    assert tags_of(session=people, contact_id=contact.id or 0) == ["vip"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"given_name,given_name\nA,B\n", "appears twice"),
        (b"ana@example.org,Silva\nben@example.org,Okafor\n", "looks like data"),
        (b"\x00\x01\x02\xff\xfe\x00garbage" * 10, "not a text file"),
        (b",family_name\nA,B\n", "has no name"),
        (b"PK\x03\x04not really a workbook", "not a workbook"),
    ],
    ids=["zero-bytes", "duplicate-header", "missing-header", "wrong-encoding", "blank", "xlsx"],
)
def test_a_bad_file_is_refused_with_a_sentence(people: Session, data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        run_import(session=people, actor=actor(people), kind="contacts", data=data, filename="f")


def test_a_50_mb_file_is_refused_before_it_is_parsed(people: Session) -> None:
    data = b"given_name,family_name\n" + b"Ana,Silva\n" * (5 * 1024 * 1024 + 10)
    with pytest.raises(ValidationError, match="over the 20 MB limit"):
        run_import(session=people, actor=actor(people), kind="contacts", data=data, filename="f")


def test_kinds_not_wired_into_this_importer_say_they_are_not_available(people: Session) -> None:
    with pytest.raises(ValidationError, match="not available yet"):
        run_import(
            session=people, actor=actor(people), kind="consent", data=b"a\n1\n", filename="f"
        )


def test_only_admins_and_managers_import_contacts(people: Session) -> None:
    with pytest.raises(Forbidden):
        run_import(
            session=people,
            actor=actor(people, "sales"),
            kind="contacts",
            data=HUBSPOT.encode(),
            filename="f",
        )


def test_reverting_a_batch_removes_what_it_created_and_restores_what_it_changed(
    people: Session,
) -> None:
    admin = actor(people)
    existing = create_contact(
        session=people,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva", email="ana@example.org"),
        actor=admin,
    )
    result = run_import(
        session=people, actor=admin, kind="contacts", data=HUBSPOT.encode(), filename="h.csv"
    )
    assert (result.created, result.updated) == (1, 1)
    assert result.batch_id is not None
    revert_batch(session=people, batch_id=result.batch_id, actor=admin)
    people.expire_all()
    assert count(people, Contact) == 1 and count(people, Organisation) == 0
    restored = people.get(Contact, existing.id)
    assert restored is not None and restored.job_title is None and restored.phone is None
    with pytest.raises(Conflict, match="already reverted"):
        revert_batch(session=people, batch_id=result.batch_id, actor=admin)


def test_a_batch_is_not_reverted_over_a_later_edit(people: Session) -> None:
    admin = actor(people)
    run_import(
        session=people, actor=admin, kind="contacts", data=HUBSPOT.encode(), filename="h.csv"
    )
    ana = people.exec(select(Contact).where(Contact.external_ref == "101")).one()
    assert ana.id is not None
    update_contact(
        session=people,
        contact_id=ana.id,
        patch=ContactUpdate(job_title="Ward sister"),
        version=ana.version,
        actor=admin,
    )
    data = b"external_ref,given_name,family_name,job_title\n101,Ana,Silva,Matron\n"
    second = run_import(
        session=people,
        actor=admin,
        kind="contacts",
        data=data,
        filename="u.csv",
        update_by="external_ref",
    )
    assert second.updated == 1 and second.batch_id is not None
    update_contact(
        session=people,
        contact_id=ana.id,
        patch=ContactUpdate(job_title="Director"),
        version=ana.version,
        actor=admin,
    )
    with pytest.raises(Conflict, match="changed after the import"):
        revert_batch(session=people, batch_id=second.batch_id, actor=admin)
    people.expire_all()
    assert people.get(Contact, ana.id).job_title == "Director"  # type: ignore[union-attr]


def test_erased_people_are_never_recreated(people: Session) -> None:
    admin = actor(people)
    gone = create_contact(
        session=people,
        contact_in=ContactCreate(given_name="Ana", family_name="Silva", email="ana@example.org"),
        actor=admin,
    )
    gone.erased_at = utcnow()
    people.add(gone)
    people.commit()
    data = b"given_name,family_name,email\nAna,Silva,ana@example.org\nCai,Li,cai@example.org\n"
    result = run_import(session=people, actor=admin, kind="contacts", data=data, filename="e.csv")
    assert result.created == 1 and "erased" in result.rejected[0].reason


def test_a_registered_suppression_check_refuses_rows(people: Session) -> None:
    def no_cai(_session: Session, values: dict[str, object]) -> str | None:
        return "suppressed by consent" if values.get("email") == "cai@example.org" else None

    SUPPRESSION_CHECKS.append(no_cai)
    try:
        data = b"given_name,family_name,email\nCai,Li,cai@example.org\nDe,Wu,de@example.org\n"
        result = run_import(
            session=people, actor=actor(people), kind="contacts", data=data, filename="s.csv"
        )
    finally:
        SUPPRESSION_CHECKS.remove(no_cai)
    assert result.created == 1 and result.rejected[0].reason == "suppressed by consent"


def test_organisations_and_interactions_import_and_link(people: Session) -> None:
    admin = actor(people)
    orgs = b"name,domain,country\nKestrel Health,https://www.kestrel.example,GB\nNo Domain,bad,GB\n"
    result = run_import(
        session=people, actor=admin, kind="organizations", data=orgs, filename="o.csv"
    )
    assert result.created == 2 and result.warnings[0].column == "domain"
    contacts = b"given_name,family_name,organisation,external_ref\nAna,Silva,kestrel.example,A1\n"
    run_import(session=people, actor=admin, kind="contacts", data=contacts, filename="c.csv")
    ana = people.exec(select(Contact)).one()
    org = people.get(Organisation, ana.organisation_id)
    assert org is not None and org.domain == "kestrel.example"
    timeline = (
        b"contact_external_ref,channel,direction,purpose,subject,occurred_at\n"
        b"A1,phone,inbound,service,Question,2025-03-01T10:00:00Z\n"
        b"A1,pigeon,inbound,service,Odd,2025-03-01\n"
        b"ZZ,phone,inbound,service,Nobody,2025-03-01\n"
    )
    result = run_import(
        session=people, actor=admin, kind="interactions", data=timeline, filename="t.csv"
    )
    assert result.created == 1
    assert [p.column for p in result.rejected] == ["channel", "contact_external_ref"]
    assert count(people, Interaction) == 1


def test_an_xlsx_file_imports_like_a_csv(people: Session) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["First Name", "Last Name", "Email", "Record ID", "Date of birth"])
    sheet.append(["Ana", "Silva", "ana@example.org", 7, "1980-05-04"])
    out = io.BytesIO()
    book.save(out)
    result = run_import(
        session=people,
        actor=actor(people),
        kind="contacts",
        data=out.getvalue(),
        filename="contacts.xlsx",
    )
    assert result.created == 1 and result.source_format == "hubspot"
    assert people.exec(select(Contact)).one().external_ref == "7"


def test_an_export_imports_back_unchanged(people: Session) -> None:
    admin = actor(people)
    run_import(
        session=people, actor=admin, kind="contacts", data=HUBSPOT.encode(), filename="h.csv"
    )
    people.exec(select(Contact)).all()
    exported = export_csv(session=people, actor=admin, kind="contacts")
    before = count(people, Contact)
    again = run_import(
        session=people,
        actor=admin,
        kind="contacts",
        data=exported,
        filename="export.csv",
        update_by="external_ref",
    )
    assert (again.created, again.updated, again.rejected, again.warnings) == (0, 0, [], [])
    assert count(people, Contact) == before
    workbook = read_table(export_xlsx(session=people, actor=admin, kind="contacts"), "x.xlsx")
    text = read_table(exported, "x.csv")
    assert workbook.headers == text.headers and workbook.rows == text.rows
    orgs = export_csv(session=people, actor=admin, kind="organizations")
    back = run_import(
        session=people, actor=admin, kind="organizations", data=orgs, filename="o.csv"
    )
    assert (back.created, back.updated, back.rejected) == (0, 0, [])
