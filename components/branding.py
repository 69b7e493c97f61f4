"""The organisation's look on screen: its colour as the app's theme, its logo and name at
the top of the answering page, and the preview of a survey email.

The colour (RAPPORT_BRAND_COLOUR) is Streamlit's `theme.primaryColor`, set by app.py
when the server starts, so buttons, progress bars and choices take it on every page
without any markup of ours. The logo is read from the server's
disk and served by Streamlit itself: the page calls out to nothing.
"""

import logging

import streamlit as st

from components.text import escape_markdown
from db.core.branding import LogoUnusable, logo, organisation_name
from db.surveys.wording import Preview

log = logging.getLogger("rapport")
# Fixed: the frame measured by its content came out too short while the mail's table
# was still being laid out, and cut the preview off. A longer email scrolls inside.
PREVIEW_HEIGHT = 600


def brand_header() -> None:
    """The organisation's logo (else its name), above a public page's title."""
    try:
        mark = logo()
    except LogoUnusable as err:
        # The page still works without it; the operator finds the reason in the log.
        log.warning("%s", err)
        mark = None
    name = organisation_name()
    if mark is None:
        st.markdown(f"**{escape_markdown(name)}**")
    else:
        # The logo stands for the name (screen readers read it out as the name).
        st.image(mark.data, width=160, alt=name)


def mail_preview(preview: Preview) -> None:
    """A survey email as it will arrive: subject, the HTML in a frame, and the plain text.

    The HTML is Rapport's own layout with every word HR typed escaped, and it carries a
    policy that lets it run no script and load nothing but its inline logo.
    """
    st.markdown(f"**Subject:** {escape_markdown(preview.subject)}")
    html_tab, text_tab = st.tabs(["HTML", "Plain text"])
    with html_tab:
        st.iframe(preview.html, height=PREVIEW_HEIGHT)
    with text_tab:
        st.text(preview.text)
