"""Evidence a reporter attaches to a concern or a reply: photos and PDFs, cleaned first.

A file is accepted by what its bytes are, never by its name or declared type: JPEG and
PNG images (Pillow) and PDF documents (pypdf). Before anything is stored, what a file
says about where it came from is removed:

- an image is decoded and re-encoded from its pixels alone, so EXIF (camera, GPS
  position, time, owner), XMP, IPTC, comments and ICC profiles are all left behind; its
  orientation is applied to the pixels first, so the photo still stands the right way up;
- a PDF is rebuilt page by page into a new document, so the document information
  (author, creator, producer, dates), its XMP metadata, embedded files, JavaScript and
  open actions are left behind; links and page actions, which would call out to a server
  when the file is opened, are removed too.

The reporter's file name is not kept either (a name like "IMG_4031" or "jane-notes.pdf"
can identify them): each file is stored as "photo-N.jpg", "document-N.pdf".
Only the cleaned bytes are written, with the case; purging the case deletes them.
Reviewers download files; nothing here is ever rendered inline in the app.
"""

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor
from db.auth.audit import record
from db.cases.review import case_by_id, require_reviewer
from db.core.errors import NotFound, ValidationError
from db.models.cases import Case, CaseAttachment

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES_PER_MESSAGE = 3
MAX_FILES_PER_CASE = 20
MAX_IMAGE_PIXELS = 40_000_000
MAX_PDF_PAGES = 200
ACCEPTED = "JPEG or PNG photos and PDF documents"
UPLOAD_TYPES = ("jpg", "jpeg", "png", "pdf")
# The page-level entries that can act when a page is shown, or carry metadata.
_PAGE_KEYS = ("/AA", "/Metadata", "/PieceInfo")


@dataclass(frozen=True)
class EvidenceFile:
    """A file as the reporter's browser sent it (name only for the messages)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CleanFile:
    """A file after cleaning: what will be stored."""

    kind: str  # "photo" or "document"
    extension: str
    content_type: str
    data: bytes


def _refuse(name: str, why: str) -> ValidationError:
    shown = (name or "the file")[:80]
    return ValidationError(f"Evidence: {shown} {why}", field="evidence")


def _clean_image(upload: EvidenceFile) -> CleanFile:
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(upload.data), formats=("JPEG", "PNG")) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _refuse(upload.name, "has too many pixels; send a smaller photo.")
            fmt = image.format
            upright = ImageOps.exif_transpose(image)
            if fmt == "JPEG":
                upright = upright.convert("RGB")
            elif upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGBA")
            # A new image from the pixels alone: no info, EXIF, XMP or profile comes along.
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        if isinstance(err, ValidationError):
            raise
        raise _refuse(upload.name, f"could not be read as an image; send {ACCEPTED}.") from err
    out = io.BytesIO()
    if fmt == "JPEG":
        pixels.save(out, format="JPEG", quality=90)
        return CleanFile("photo", "jpg", "image/jpeg", out.getvalue())
    pixels.save(out, format="PNG", optimize=True)
    return CleanFile("photo", "png", "image/png", out.getvalue())


def _clean_pdf(upload: EvidenceFile) -> CleanFile:
    try:
        reader = PdfReader(io.BytesIO(upload.data))
        if reader.is_encrypted:
            raise _refuse(upload.name, "is protected by a password; save it without one.")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise _refuse(upload.name, f"has more than {MAX_PDF_PAGES} pages.")
        writer = PdfWriter()
        for page in reader.pages:
            added = writer.add_page(page)
            for key in _PAGE_KEYS:
                added.pop(NameObject(key), None)
        writer.remove_links()
        writer.metadata = None  # no document information dictionary at all
        out = io.BytesIO()
        writer.write(out)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise _refuse(upload.name, "could not be read as a PDF document.") from err
    return CleanFile("document", "pdf", "application/pdf", out.getvalue())


def clean_evidence(upload: EvidenceFile) -> CleanFile:
    """Check a file's size and type and strip its metadata, or refuse it naming the file."""
    if not upload.data:
        raise _refuse(upload.name, "is empty.")
    if len(upload.data) > MAX_FILE_BYTES:
        raise _refuse(upload.name, f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if upload.data.startswith(b"%PDF-"):
        return _clean_pdf(upload)
    if upload.data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
        return _clean_image(upload)
    raise _refuse(upload.name, f"is not a file Rapport accepts as evidence: send {ACCEPTED}.")


def clean_all(uploads: list[EvidenceFile]) -> list[CleanFile]:
    """Clean every file of one message (at most MAX_FILES_PER_MESSAGE), before any is stored."""
    if len(uploads) > MAX_FILES_PER_MESSAGE:
        raise ValidationError(
            f"Evidence: attach at most {MAX_FILES_PER_MESSAGE} files at a time.", field="evidence"
        )
    return [clean_evidence(u) for u in uploads]


def store_evidence(
    *,
    session: Session,
    case: Case,
    files: list[CleanFile],
    at: datetime,
    uploaded_by_id: int | None = None,
) -> int:
    """Add cleaned files to a case (the caller commits); returns how many."""
    if not files:
        return 0
    assert case.id is not None
    held = int(
        session.exec(
            select(func.count())
            .select_from(CaseAttachment)
            .where(col(CaseAttachment.case_id) == case.id)
        ).one()
    )
    if held + len(files) > MAX_FILES_PER_CASE:
        raise ValidationError(
            f"Evidence: a case holds at most {MAX_FILES_PER_CASE} files "
            f"({held} are attached already).",
            field="evidence",
        )
    for number, clean in enumerate(files, start=held + 1):
        session.add(
            CaseAttachment(
                case_id=case.id,
                filename=f"{clean.kind}-{number}.{clean.extension}",
                content_type=clean.content_type,
                size=len(clean.data),
                sha256=hashlib.sha256(clean.data).hexdigest(),
                data=clean.data,
                from_reporter=uploaded_by_id is None,
                uploaded_by_id=uploaded_by_id,
                uploaded_at=at,
            )
        )
    return len(files)


@dataclass(frozen=True)
class EvidenceItem:
    """One attached file as the case page lists it (no content)."""

    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    from_reporter: bool


def list_evidence(*, session: Session, actor: Actor, case_id: int) -> list[EvidenceItem]:
    """The files attached to a case this reviewer may see, oldest first."""
    case = case_by_id(session=session, actor=actor, case_id=case_id)
    rows = session.execute(
        sa_select(
            col(CaseAttachment.id),
            col(CaseAttachment.filename),
            col(CaseAttachment.content_type),
            col(CaseAttachment.size),
            col(CaseAttachment.uploaded_at),
            col(CaseAttachment.from_reporter),
        )
        .where(col(CaseAttachment.case_id) == case.id)
        .order_by(col(CaseAttachment.uploaded_at), col(CaseAttachment.id))
    ).all()
    return [EvidenceItem(int(i or 0), n, t, s, u, bool(r)) for i, n, t, s, u, r in rows]


def evidence_content(*, session: Session, actor: Actor, attachment_id: int) -> tuple[str, bytes]:
    """The stored (cleaned) file for download, with its name; every download is audited."""
    require_reviewer(actor, "download evidence")
    found = session.get(CaseAttachment, attachment_id)
    if found is None:
        raise NotFound("There is no such file that you can open.")
    case = case_by_id(session=session, actor=actor, case_id=found.case_id)
    record(
        session,
        actor,
        "case.evidence_download",
        "case",
        entity_id=case.reference,
        details={"file": found.filename},
    )
    session.commit()
    return found.filename, found.data
