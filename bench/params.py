"""What pages showing one record need, picked from the benchmark world: query parameters,
and session state for pages that take the record from a box (keys starting `state:`)."""

from collections.abc import Callable

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models.people import Contact

ParamPicker = Callable[[Session], dict[str, str]]
STATE_PREFIX = "state:"


def _busiest_contact(session: Session) -> dict[str, str]:
    # The demo seller's contact with the most history: every role allowed on the page may
    # open it (the seller, the seller's manager, admin, privacy), and a long timeline is
    # the worst case for the page.
    from db.models.auth import User
    from db.models.people import Interaction

    row = session.exec(
        select(Interaction.contact_id, func.count())
        .join(Contact, col(Contact.id) == col(Interaction.contact_id))
        .join(User, col(User.id) == col(Contact.owner_id))
        .where(User.username == "sales")
        .group_by(col(Interaction.contact_id))
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    if row is None:
        first = session.exec(select(Contact.id).limit(1)).first()
        return {"id": str(first)} if first else {}
    return {"id": str(row[0])}


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
    # The demo seller's contact with the longest consent history: every role on the page
    # may open it.
    from db.models.auth import User
    from db.models.consent import ConsentEvent

    row = session.exec(
        select(ConsentEvent.contact_id, func.count())
        .join(Contact, col(Contact.id) == col(ConsentEvent.contact_id))
        .join(User, col(User.id) == col(Contact.owner_id))
        .where(User.username == "sales")
        .group_by(col(ConsentEvent.contact_id))
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return {"contact": str(row[0])} if row else {}


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
