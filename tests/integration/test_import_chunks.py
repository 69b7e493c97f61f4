"""Contact imports in chunks give the outcome of one row at a time, however the rows fall."""

import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, func, select

import db.imports.batches
from db.auth.accounts import get_user_by_username
from db.consent.erasure import erased_identifiers, erased_identifiers_of_rows, identifier_digest
from db.core.types import utcnow
from db.demo.fixtures import seed_users
from db.imports.batches import ImportResult, run_import
from db.imports.contacts import handle_contacts
from db.imports.kinds import KINDS
from db.models.auth import User
from db.models.consent import Suppression
from db.models.imports import ImportItem
from db.models.people import Contact, ContactCreate, ContactTag, Organisation, OrganisationCreate
from db.people.contacts import create_contact, create_organisation

# Row 2 updates Ana (her organisation exists in other capitals); row 4 has a bad phone;
# row 5 repeats row 3's person, row 11 repeats row 4's (another chunk when chunks are 3 rows);
# rows 6-8 and 12 are refused (no name, an erased contact, a suppressed phone, a suppressed
# external id); row 10 finds by domain the organisation row 9 creates; row 13 names a
# record merged into Ana, so it updates Ana.
ROWS = (
    "given_name,family_name,email,phone,organisation,tags,external_ref\n"
    "Ana,Silva,ana@example.org,020 7946 0018,Kestrel Health,vip;north,A1\n"
    "Cai,Li,cai@example.org,,New Org,,C1\n"
    "Ben,Okafor,ben@example.org,not a phone,kestrel health,north,B1\n"
    "Cai,Li-Wu,CAI@example.org,,,south,C1\n"
    ",,nobody@example.org,,,,\n"
    "Dee,Wu,gone@example.org,,,,D1\n"
    "Eve,Ng,eve@example.org,+44 20 7946 0999,,,E1\n"
    "Fay,Fox,fay@example.org,,https://www.fox.example,,F1\n"
    "Gus,Fox,gus@example.org,,fox.example,,G1\n"
    "Ben,Okafor,ben@example.org,,new org,x,B1\n"
    "Hana,Ito,hana@example.org,,,,LEG-1\n"
    "Ana,Silva,ana.old@example.org,,,merged,A0\n"
)


def admin(session: Session) -> User:
    found = get_user_by_username(session=session, username="admin")
    assert found is not None
    return found


def fresh_world(session: Session) -> None:
    """Empty every table, then the users, one contact with a tag, an erased one, two digests."""
    session.rollback()
    session.expunge_all()
    for table in reversed(SQLModel.metadata.sorted_tables):
        session.execute(table.delete())
    session.commit()
    seed_users(session=session)
    boss = admin(session)
    create_organisation(
        session=session, org_in=OrganisationCreate(name="KESTREL HEALTH"), actor=boss
    )
    ana = create_contact(
        session=session,
        contact_in=ContactCreate(
            given_name="Ana",
            family_name="Silva",
            email="ana@example.org",
            external_ref="A1",
            tags=["vip"],
        ),
        actor=boss,
    )
    gone = create_contact(
        session=session,
        contact_in=ContactCreate(given_name="Dee", family_name="Wu", email="gone@example.org"),
        actor=boss,
    )
    gone.erased_at = utcnow()
    session.add(gone)
    old = create_contact(
        session=session,
        contact_in=ContactCreate(
            given_name="Ana", family_name="Silva", email="ana.old@example.org", external_ref="A0"
        ),
        actor=boss,
    )
    old.merged_into_id = ana.id
    session.add(old)
    session.add(Suppression(kind="phone", digest=identifier_digest("phone", "+442079460999")))
    session.add(Suppression(kind="external_ref", digest=identifier_digest("external_ref", "leg-1")))
    session.commit()


def outcome(session: Session, result: ImportResult) -> dict[str, Any]:
    """What an import did, with ids replaced by names so that two databases compare."""
    session.expire_all()
    orgs = {o.id: o.name for o in session.exec(select(Organisation))}
    contacts = {c.id: c for c in session.exec(select(Contact))}
    tags: dict[int, list[str]] = {}
    for tag in session.exec(select(ContactTag).order_by(col(ContactTag.tag))):
        tags.setdefault(tag.contact_id, []).append(tag.tag)
    label = {("organisation", i): n for i, n in orgs.items()}
    label.update({("contact", i): f"{c.email} {c.external_ref}" for i, c in contacts.items()})
    items = session.exec(select(ImportItem).order_by(col(ImportItem.id))).all()
    return {
        "counts": (result.rows_read, result.created, result.updated, result.saved),
        "rejected": result.rejected,
        "warnings": result.warnings,
        "organisations": sorted((o.name, o.domain) for o in session.exec(select(Organisation))),
        "contacts": sorted(
            (
                c.given_name,
                c.family_name,
                c.email or "",
                c.phone or "",
                c.external_ref or "",
                orgs.get(c.organisation_id) or "",
                c.version,
                tuple(tags.get(c.id or 0, [])),
            )
            for c in contacts.values()
        ),
        "items": [
            (
                i.entity,
                label[(i.entity, i.entity_id)],
                i.action,
                named(i.before, orgs),
                i.version_after,
            )
            for i in items
        ],
    }


def named(before: str | None, orgs: dict[int | None, str]) -> dict[str, Any] | None:
    """Values before an update, with an organisation's id given as its name."""
    if before is None:
        return None
    values = json.loads(before)
    if values.get("organisation_id") is not None:
        values["organisation_id"] = orgs[values["organisation_id"]]
    return dict(values)


def import_rows(session: Session, update_by: str, **options: Any) -> dict[str, Any]:
    fresh_world(session)
    result = run_import(
        session=session,
        actor=admin(session),
        kind="contacts",
        data=ROWS.encode(),
        filename="people.csv",
        update_by=update_by,
        **options,
    )
    return outcome(session, result)


@pytest.mark.parametrize("chunk_rows", [3, 1000])
@pytest.mark.parametrize("update_by", ["email", "external_ref", "none"])
def test_chunks_of_any_size_give_the_outcome_of_one_row_at_a_time(
    session: Session, monkeypatch: pytest.MonkeyPatch, chunk_rows: int, update_by: str
) -> None:
    with monkeypatch.context() as one_by_one:
        one_by_one.setitem(
            KINDS, "contacts", dataclasses.replace(KINDS["contacts"], handle_chunk=None)
        )
        expected = import_rows(session, update_by)
    monkeypatch.setattr(db.imports.batches, "CHUNK_ROWS", chunk_rows)
    assert import_rows(session, update_by) == expected
    assert [(p.row, p.column) for p in expected["rejected"]] == [
        (6, "family_name"),
        (7, "email"),
        (8, "email"),
        (12, "email"),
    ]
    if update_by == "email":
        assert expected["counts"] == (12, 4, 4, True)
        assert ("Cai", "Li-Wu", "cai@example.org", "", "C1", "New Org", 2, ("south",)) in (
            expected["contacts"]
        )
        assert ("Fox.example", None) not in expected["organisations"]
        assert ("https://www.fox.example", "fox.example") in expected["organisations"]
        # Rows 2 and 13 both updated Ana; the merged-away record kept its tags (none).
        assert [c[6:] for c in expected["contacts"] if "merged" in c[7]] == [
            (3, ("merged", "north", "vip"))
        ]


def test_a_dry_run_and_all_or_nothing_in_chunks_save_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.imports.batches, "CHUNK_ROWS", 3)
    for options in ({"dry_run": True}, {"all_or_nothing": True}):
        done = import_rows(session, "email", **options)
        assert done["counts"][1:] == (4, 4, False) and len(done["rejected"]) == 4
        assert len(done["contacts"]) == 3 and done["items"] == []


def test_a_chunk_the_database_refuses_is_redone_a_row_at_a_time(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = import_rows(session, "email")
    attempts: list[int] = []

    def refused_once(rows: Any) -> Any:
        done = handle_contacts(rows)
        if not attempts:
            attempts.append(len(rows))
            raise IntegrityError("INSERT INTO contact ...", {}, Exception("refused"))
        return done

    monkeypatch.setitem(
        KINDS, "contacts", dataclasses.replace(KINDS["contacts"], handle_chunk=refused_once)
    )
    assert import_rows(session, "email") == expected
    assert attempts == [12]
    assert session.exec(select(func.count()).select_from(Contact)).one() == 7


def test_progress_is_reported_every_50_rows_and_at_the_end(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh_world(session)
    monkeypatch.setattr(db.imports.batches, "CHUNK_ROWS", 40)
    data = "given_name,family_name\n" + "".join(f"Person,No {i}\n" for i in range(120))
    calls: list[tuple[int, int]] = []
    result = run_import(
        session=session,
        actor=admin(session),
        kind="contacts",
        data=data.encode(),
        filename="p.csv",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.created == 120
    assert calls == [(1, 120), (51, 120), (101, 120), (120, 120)]


def test_the_erased_check_answers_for_many_rows_as_for_each_row_alone(session: Session) -> None:
    fresh_world(session)
    rows: list[dict[str, Any]] = [
        {"email": "someone@example.org", "phone": "+442079460998"},
        {"phone": "+442079460999"},
        {"mobile": "020 7946 0999"},
        {"external_ref": "LEG-1"},
        {"external_ref": " leg-1 "},
        {"email": "Not An Address", "external_ref": "LEG-2"},
        {},
    ]
    each = [erased_identifiers(session, values) for values in rows]
    assert erased_identifiers_of_rows(session, rows) == each
    assert [reason is not None for reason in each] == [False, True, True, True, True, False, False]
