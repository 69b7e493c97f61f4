"""What the mapping screen relies on: a preview that saves nothing, the columns chosen and
no others, and a rejected-rows file that imports again once fixed."""

import csv
import io

import pytest
from sqlmodel import Session, func, select

from db.auth.accounts import get_user_by_username
from db.demo.fixtures import seed_users
from db.imports.batches import file_sample, preview_rows, rejected_rows_csv, run_import
from db.imports.mapping import REJECT_COLUMNS
from db.models.people import Contact, ContactTag

FILE = (
    "Prénom,Nom,Courriel,Téléphone,Né le,Étiquettes,Couleur\n"
    "Ana,Silva,ANA@Example.org,020 7946 0958,11/02/1984,Donor; VIP,bleu\n"
    ",,nobody@example.org,,,,vert\n"
    "Ben,Okafor,ben@example.org,,1990-02-30,,rouge\n"
).encode()
MAPPING = [
    ("Prénom", "given_name"),
    ("Nom", "family_name"),
    ("Courriel", "email"),
    ("Téléphone", "phone"),
    ("Né le", "date_of_birth"),
    ("Étiquettes", "tags"),
]


@pytest.fixture
def admin(session: Session) -> object:
    seed_users(session=session)
    return get_user_by_username(session=session, username="admin")


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.exec(select(func.count()).select_from(Contact)).one(),
        session.exec(select(func.count()).select_from(ContactTag)).one(),
    )


def test_the_preview_shows_rows_as_stored_and_saves_nothing(
    session: Session, admin: object
) -> None:
    headers, count, first = file_sample(data=FILE, filename="contacts.csv")
    assert count == 3 and len(first) == 3
    before = counts(session)
    shown = preview_rows(
        session=session, actor=admin, kind="contacts", headers=headers, rows=first, mapping=MAPPING
    )  # type: ignore[arg-type]
    assert counts(session) == before, "a preview saves nothing"
    ana, nobody, ben = shown
    assert ana.outcome == "create"
    assert ana.values["email"] == "ana@example.org"
    assert ana.values["phone"] == "+442079460958"
    assert ana.values["date_of_birth"] == "1984-02-11"
    assert ana.values["tags"] == "donor;vip"
    assert nobody.outcome == "rejected" and nobody.note.startswith("family_name:")
    assert ben.outcome == "create" and ben.values["date_of_birth"] == ""
    assert "date_of_birth left out" in ben.note
    # Nothing of the preview lingers: the import after it creates the same rows.
    done = run_import(
        session=session,
        actor=admin,  # type: ignore[arg-type]
        kind="contacts",
        data=FILE,
        filename="contacts.csv",
        mapping=MAPPING,
        exact_mapping=True,
    )
    assert (done.created, len(done.rejected)) == (2, 1)
    shown = preview_rows(
        session=session, actor=admin, kind="contacts", headers=headers, rows=first, mapping=MAPPING
    )  # type: ignore[arg-type]
    assert [r.outcome for r in shown] == ["no change", "rejected", "no change"]


def test_only_the_columns_chosen_are_imported(session: Session, admin: object) -> None:
    data = b"given_name,family_name,email,notes\nAna,Silva,ana@example.org,keep out\n"
    run_import(
        session=session,
        actor=admin,  # type: ignore[arg-type]
        kind="contacts",
        data=data,
        filename="c.csv",
        mapping=[("given_name", "given_name"), ("family_name", "family_name")],
        exact_mapping=True,
    )
    ana = session.exec(select(Contact)).one()
    assert (ana.email, ana.notes) == (None, None), "columns left unmapped are not imported"


def test_the_rejected_rows_file_holds_the_rows_and_imports_again_once_fixed(
    session: Session, admin: object
) -> None:
    done = run_import(
        session=session,
        actor=admin,  # type: ignore[arg-type]
        kind="contacts",
        data=FILE,
        filename="contacts.csv",
        mapping=MAPPING,
        exact_mapping=True,
    )
    rows = list(csv.reader(io.StringIO(rejected_rows_csv(done).decode())))
    assert rows[0] == [
        *REJECT_COLUMNS,
        "Prénom",
        "Nom",
        "Courriel",
        "Téléphone",
        "Né le",
        "Étiquettes",
        "Couleur",
    ]
    assert rows[1][:2] == ["3", "family_name"] and rows[1][3:] == [
        "",
        "",
        "nobody@example.org",
        "",
        "",
        "",
        "vert",
    ]
    rows[1][4] = "Nobody"  # the person fixes the row and uploads the file again
    fixed = io.StringIO()
    csv.writer(fixed).writerows(rows)
    again = run_import(
        session=session,
        actor=admin,  # type: ignore[arg-type]
        kind="contacts",
        data=fixed.getvalue().encode(),
        filename="rejected-rows.csv",
        mapping=MAPPING,
        exact_mapping=True,
    )
    assert (again.created, again.rejected) == (1, [])
    assert session.exec(select(Contact).where(Contact.family_name == "Nobody")).one()
