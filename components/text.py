"""Showing what people typed as text, never as markup."""

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&])")


def escape_markdown(text: str) -> str:
    """Escape every character Streamlit's markdown would interpret (links, images, HTML)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("\n", " ")
