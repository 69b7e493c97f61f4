"""Showing what people typed as text, never as markup.

`escape_markdown` is the one way anything a person typed (names, titles, tags, comments,
answers) reaches a Streamlit element that renders markdown: bodies of `st.markdown`,
`st.write`, `st.caption`, titles and headers, alerts and toasts, and the labels of
expanders, tabs, metrics, buttons and links. A test walks every page's source for text put
into those without it.
"""

import re
import string

# CommonMark lets a backslash escape any ASCII punctuation character and then shows it as
# itself, so escaping all of them leaves nothing active: links and images (`![`, `[`, `]`,
# `(`), HTML (`<`, `>`, `&`), emphasis (`*`, `_`, `~`), code, headings, tables, lists,
# autolinks (`www.`, `@`, `://`), Streamlit's LaTeX (`$`) and its `:shortcode:` and
# `:red[…]` directives.
_MARKDOWN_SPECIALS = re.compile("([" + re.escape(string.punctuation) + "])")
# A line break would let the text start a block of its own (a heading, a list, a quote).
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def escape_markdown(text: object) -> str:
    """The text (or `str()` of a value) with every markdown-active character escaped, on one
    line, so that Streamlit shows exactly what was typed."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))


def count_of(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 day", "2 days", "0 days": a number with its noun, in the right number."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
