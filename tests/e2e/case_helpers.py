"""Cases for the browser tests, made through db/ on the test server's own database."""

import io
from typing import Any

from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pypdf import PdfWriter
from sqlmodel import col, select

from db.auth.accounts import get_user_by_username
from db.cases.actions import acknowledge
from db.cases.intake import Submitted, submit_concern
from db.core.engine import make_engine, session_scope
from db.models.audit import AuditEvent
from db.models.cases import Case, ConcernCreate
from tests.e2e.test_sign_in_and_admin import wait_until_idle

SECRET_NAME = "Jane Okafor"


def raise_concern(
    env: dict[str, str],
    text: str,
    *,
    category: str = "misconduct",
    exclude: tuple[str, ...] = (),
    acknowledged_by: str | None = None,
) -> Submitted:
    """A concern as the intake form would record it, acknowledged if asked."""
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            left_out = [get_user_by_username(session=session, username=u) for u in exclude]
            submitted = submit_concern(
                session=session,
                concern_in=ConcernCreate(
                    category=category,
                    what_happened=text,
                    exclude_reviewer_ids=[u.id for u in left_out if u and u.id],
                ),
            )
            if acknowledged_by:
                reviewer = get_user_by_username(session=session, username=acknowledged_by)
                case = session.exec(select(Case).where(Case.reference == submitted.reference)).one()
                assert reviewer is not None and case.id is not None
                acknowledge(session=session, actor=reviewer, case_id=case.id)
            return submitted
    finally:
        engine.dispose()


def audit_actions(env: dict[str, str], reference: str) -> list[tuple[str, str]]:
    """(action, actor) of every audit entry about a case, oldest first."""
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            events = session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "case", AuditEvent.entity_id == reference)
                .order_by(col(AuditEvent.seq))
            ).all()
            return [(e.action, e.actor_name) for e in events]
    finally:
        engine.dispose()


def case_row(env: dict[str, str], reference: str) -> Case:
    engine = make_engine(env["RAPPORT_DATABASE_URL"])
    try:
        with session_scope(engine) as session:
            return session.exec(select(Case).where(Case.reference == reference)).one()
    finally:
        engine.dispose()


def photo_with_exif() -> bytes:
    """A JPEG whose EXIF names its owner and a GPS position, as a phone writes it."""
    image = Image.new("RGB", (64, 48), (180, 40, 40))
    exif = Image.Exif()
    exif[0x013B] = SECRET_NAME  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def pdf_with_author() -> bytes:
    """A one-page PDF whose document information names its author."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": SECRET_NAME, "/Title": "My notes"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def click_row(page: Any, row: int, *, leads_to: str) -> None:
    """Click a cell of a row of the first table on the page (row 0 is the first) until
    the page moves to `leads_to` (a click landing in a rerun is dropped by the grid)."""
    grid = page.get_by_test_id("stDataFrame").first
    for _ in range(4):
        grid.wait_for()
        wait_until_idle(page)
        grid.click(position={"x": 140, "y": 35 + 35 * row + 17})
        try:
            page.wait_for_url(leads_to, timeout=8_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"a click on row {row} never opened {leads_to}")


def row_of(page: Any, reference: str) -> int:
    """The row of the first table that shows this case reference (read from the grid's
    accessible cells, whose ids are glide-cell-COLUMN-ROW)."""
    cell = page.locator(f'td[role="gridcell"]:text-is("{reference}")').first
    cell.wait_for(state="attached")
    return int(str(cell.get_attribute("id")).rsplit("-", 1)[1])
