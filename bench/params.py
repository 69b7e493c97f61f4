"""Query parameters that pages showing one record need, picked from the benchmark world."""

from collections.abc import Callable

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models.people import Contact

ParamPicker = Callable[[Session], dict[str, str]]


def _busiest_contact(session: Session) -> dict[str, str]:
    # The contact with the most history is the worst case for a timeline page.
    from db.models.people import Interaction

    row = session.exec(
        select(Interaction.contact_id, func.count())
        .group_by(col(Interaction.contact_id))
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    if row is None:
        first = session.exec(select(Contact.id).limit(1)).first()
        return {"id": str(first)} if first else {}
    return {"id": str(row[0])}


# Page file -> how to choose its query parameters. Areas add their detail pages here.
QUERY_PARAMS: dict[str, ParamPicker] = {
    "pages/contact.py": _busiest_contact,
}
