"""What pages showing one record need, picked from the benchmark world: query parameters,
and session state for pages that take the record from a box (keys starting `state:`)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models.people import Contact

ParamPicker = Callable[[Session], dict[str, str]]
STATE_PREFIX = "state:"


def _sellers_busiest_contact(session: Session, contact_id: Any) -> int | None:
    """The demo seller's contact with the most rows holding `contact_id`: every role on a
    contact's pages may open it (the seller, the seller's manager, admin, privacy), and
    the longest history is the worst case for the page."""
    from db.models.auth import User

    row = session.exec(
        select(contact_id, func.count())
        .join(Contact, col(Contact.id) == contact_id)
        .join(User, col(User.id) == col(Contact.owner_id))
        .where(User.username == "sales")
        .group_by(contact_id)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return int(row[0]) if row else None


def _busiest_contact(session: Session) -> dict[str, str]:
    from db.models.people import Interaction

    found = _sellers_busiest_contact(session, col(Interaction.contact_id))
    if found is None:
        found = session.exec(select(Contact.id).limit(1)).first()
    return {"id": str(found)} if found else {}


def _busiest_deal(session: Session) -> dict[str, str]:
    # The demo seller's deal with the longest history: every pipeline role may open it,
    # and a long history is the worst case for the deal page.
    from db.models.auth import User
    from db.models.pipeline import Deal, StageChange

    row = session.exec(
        select(StageChange.deal_id, func.count())
        .join(Deal, col(Deal.id) == col(StageChange.deal_id))
        .join(User, col(User.id) == col(Deal.owner_id))
        .where(User.username == "sales")
        .group_by(col(StageChange.deal_id))
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return {"id": str(row[0])} if row else {}


def _busiest_consent(session: Session) -> dict[str, str]:
    from db.models.consent import ConsentEvent

    found = _sellers_busiest_contact(session, col(ConsentEvent.contact_id))
    return {"contact": str(found)} if found else {}


def _busiest_case(session: Session) -> dict[str, str]:
    # The open case with the longest timeline, typed into the page's reference box.
    from db.models.cases import Case, CaseEvent

    row = session.exec(
        select(Case.reference, func.count())
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(col(Case.purged_at).is_(None), col(Case.closed_at).is_(None))
        .group_by(col(Case.id), col(Case.reference))
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return {f"{STATE_PREFIX}case_ref": str(row[0])} if row else {}


# Page file -> how to choose what it shows. Areas add their detail pages here.
QUERY_PARAMS: dict[str, ParamPicker] = {
    "pages/contact.py": _busiest_contact,
    "pages/deal.py": _busiest_deal,
    "pages/consent.py": _busiest_consent,
    "pages/case.py": _busiest_case,
}
