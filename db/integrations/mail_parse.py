"""Reading one email message: who, when, about what, and the first of its text.

Pure functions over the bytes an IMAP server hands back; nothing here touches the
database or the network. HTML is turned into text (BeautifulSoup), never kept as markup.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup

from db.core.types import storable_text, utcnow

SUBJECT_MAX = 200
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
_SPACES = re.compile(r"[ \t\u00a0]+")
# Tags whose content is never text a person reads.
_INVISIBLE = ("script", "style", "head", "title", "template", "noscript")
_BLOCKS = (
    "br",
    "p",
    "div",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "ul",
    "ol",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "hr",
)


@dataclass(frozen=True)
class ParsedMessage:
    """What the sync needs of a message."""

    key: str
    message_id: str | None
    subject: str
    senders: tuple[tuple[str, str], ...]  # (display name, address)
    recipients: tuple[tuple[str, str], ...]
    occurred_at: datetime
    text: str
    marketing: bool
    automatic: bool


def html_to_text(html: str) -> str:
    """The readable text of an HTML document: no tags, scripts, styles or comments."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_INVISIBLE):
        tag.decompose()
    # Blocks (paragraphs, lines, cells) end a line; inline tags (<b>, <a>) do not.
    for tag in soup.find_all(_BLOCKS):
        if tag.name == "br":
            tag.replace_with("\n")
        else:
            tag.insert_after("\n")
    text = soup.get_text()
    return tidy(text)


def tidy(text: str) -> str:
    """Storable text with runs of spaces and blank lines collapsed."""
    text = storable_text(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _addresses(message: EmailMessage, *headers: str) -> tuple[tuple[str, str], ...]:
    values: list[str] = []
    for header in headers:
        for value in message.get_all(header, []) or []:
            values.append(str(value))
    found: list[tuple[str, str]] = []
    for name, address in getaddresses(values):
        address = address.strip()
        if "@" in address:
            found.append((storable_text(name).strip(), address))
    return tuple(found)


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot decode reads as missing
        return ""
    return storable_text(str(value)) if value is not None else ""


def _when(message: EmailMessage, fallback: datetime | None) -> datetime:
    """The message's Date (UTC); the server's arrival time, or now, without one.

    A date in the future (a sender's clock) is taken as now: what happened cannot be
    later than the moment it is read."""
    moment: datetime | None = None
    raw = _header(message, "Date")
    if raw:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        moment = fallback
    if moment is None:
        moment = utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return min(moment.astimezone(UTC), utcnow())


def body_text(message: EmailMessage) -> str:
    """The message's first text: its plain-text part, else its HTML part as text."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return tidy(content)


def message_key(message_id: str | None, message: EmailMessage, text: str) -> str:
    """A fixed-length key of the message, the same in every mailbox it reaches."""
    if message_id:
        basis = "id:" + message_id
    else:
        parts = [_header(message, h) for h in ("Date", "From", "To", "Subject")]
        basis = "headers:" + "\n".join(parts) + "\n" + text[:1000]
    return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def parse_message(
    raw: bytes, *, arrived_at: datetime | None = None, excerpt: int = 2000
) -> ParsedMessage:
    """Read a whole message (or, for one too big to fetch, its headers alone)."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    message_id = _header(message, "Message-ID").strip().strip("<>").strip() or None
    text = body_text(message)
    subject = " ".join(_header(message, "Subject").split())[:SUBJECT_MAX]
    auto = _header(message, "Auto-Submitted").strip().lower()
    precedence = _header(message, "Precedence").strip().lower()
    return ParsedMessage(
        key=message_key(message_id, message, text),
        message_id=message_id,
        subject=subject,
        senders=_addresses(message, "From"),
        recipients=_addresses(message, "To", "Cc", "Bcc"),
        occurred_at=_when(message, arrived_at),
        text=text[:excerpt] if excerpt else "",
        # A mailing says so: an unsubscribe link (RFC 2369/8058) or bulk precedence.
        marketing=bool(_header(message, "List-Unsubscribe")) or precedence in {"bulk", "list"},
        automatic=(auto not in {"", "no"}) or precedence == "junk",
    )
