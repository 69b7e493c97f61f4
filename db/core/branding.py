"""The organisation's name, logo and colour, from the settings (RAPPORT_ORG_*, BRAND_COLOUR).

Emails and the public pages read them from here. The logo is a file on this server,
read from disk and sent inside each email as an inline part (cid:), so neither Rapport
nor the reader's mail program fetches anything from the internet.
"""

from dataclasses import dataclass
from pathlib import Path

from db.core.errors import DomainError
from db.core.settings import get_settings

# The theme's primaryColor in .streamlit/config.toml, used when RAPPORT_BRAND_COLOUR is unset.
DEFAULT_COLOUR = "#2f6f5e"
LOGO_MAX_BYTES = 512 * 1024
# What a logo file starts with, by its image subtype: only formats every mail program shows.
SIGNATURES = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8"}


class LogoUnusable(DomainError):
    """RAPPORT_ORG_LOGO names a file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Logo:
    """The logo's bytes and image subtype (png, jpeg or gif)."""

    data: bytes
    subtype: str


def brand_colour() -> str:
    """The organisation's colour as #rrggbb (RAPPORT_BRAND_COLOUR, else the theme's)."""
    return get_settings().brand_colour or DEFAULT_COLOUR


def organisation_name() -> str:
    """The organisation's name (RAPPORT_ORG_NAME)."""
    return get_settings().organisation_name


def logo() -> Logo | None:
    """The configured logo, None when unset; LogoUnusable with a sentence when it is bad."""
    where = get_settings().org_logo
    if not where:
        return None
    path = Path(where).expanduser()
    try:
        size = path.stat().st_size
        if size > LOGO_MAX_BYTES:
            raise LogoUnusable(
                f"RAPPORT_ORG_LOGO: {path.name} is {size // 1024:,} KB; use a logo of at most "
                f"{LOGO_MAX_BYTES // 1024} KB (mail programs show it at about 160 pixels wide)."
            )
        data = path.read_bytes()
    except OSError as err:
        raise LogoUnusable(
            f"RAPPORT_ORG_LOGO: cannot read {path.name} ({err.strerror}); check the path."
        ) from err
    for subtype, start in SIGNATURES.items():
        if data.startswith(start):
            return Logo(data, subtype)
    raise LogoUnusable(
        f"RAPPORT_ORG_LOGO: {path.name} is not a PNG, JPEG or GIF image; mail programs "
        "show only those reliably."
    )
