"""Building blocks for the consent tests: people, purposes and hand-built ledgers."""

from datetime import datetime, timedelta

from sqlmodel import Session

from db.auth.accounts import get_user_by_username
from db.consent.records import create_purpose, publish_notice, record_consent
from db.core.types import utcnow
from db.models.auth import User
from db.models.consent import (
    ConsentAction,
    ConsentChannel,
    ConsentEvent,
    ConsentEventCreate,
    ConsentPurpose,
    ConsentPurposeCreate,
    ConsentSource,
    LawfulBasis,
    Notice,
)
from db.models.people import (
    Channel,
    Contact,
    ContactCreate,
    Direction,
    Interaction,
    Purpose,
)
from db.people.contacts import create_contact


def user(session: Session, name: str) -> User:
    found = get_user_by_username(session=session, username=name)
    assert found is not None
    return found


def person(
    session: Session, given: str, family: str, owner: str = "sales", **extra: object
) -> Contact:
    data: dict[str, object] = {"given_name": given, "family_name": family}
    data.update(extra)
    return create_contact(
        session=session,
        contact_in=ContactCreate.model_validate(data),
        actor=user(session, owner),
    )


def purpose(
    session: Session,
    code: str = "marketing",
    *,
    basis: LawfulBasis = LawfulBasis.consent,
    marketing: bool = True,
    months: int = 24,
    published: datetime | None = None,
) -> tuple[ConsentPurpose, Notice]:
    officer = user(session, "privacy")
    made = create_purpose(
        session=session,
        purpose_in=ConsentPurposeCreate(
            code=code,
            name=code.title(),
            lawful_basis=basis,
            refresh_months=months,
            covers_marketing=marketing,
        ),
        actor=officer,
    )
    notice = publish_notice(
        session=session,
        purpose_id=made.id or 0,
        wording=f"May we contact you about {code}?",
        actor=officer,
        published_at=published or utcnow() - timedelta(days=2000),
    )
    return made, notice


def consent(
    session: Session,
    contact: Contact,
    made: ConsentPurpose,
    action: ConsentAction,
    when: datetime,
    channel: ConsentChannel = ConsentChannel.email,
    notice: Notice | None = None,
    evidence: str | None = None,
) -> ConsentEvent:
    return record_consent(
        session=session,
        event_in=ConsentEventCreate(
            contact_id=contact.id or 0,
            purpose_id=made.id or 0,
            channel=channel,
            action=action,
            notice_id=(notice.id if notice else None),
            source=ConsentSource.web_form,
            evidence=evidence,
            occurred_at=when,
        ),
        actor=user(session, "privacy"),
    )


def sent(
    session: Session,
    contact: Contact,
    when: datetime,
    channel: Channel = Channel.email,
    purpose_: Purpose = Purpose.marketing,
) -> Interaction:
    """A message as it stood in the records (inserted directly: a hand-built history)."""
    row = Interaction(
        contact_id=contact.id or 0,
        channel=channel,
        direction=Direction.outbound,
        purpose=purpose_,
        subject="Newsletter",
        occurred_at=when,
        user_id=user(session, "sales").id,
    )
    session.add(row)
    session.commit()
    return row
