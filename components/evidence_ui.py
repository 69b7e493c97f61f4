"""The evidence uploader a reporter sees on Raise a concern and Follow up a concern."""

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components.i18n import t
from db.cases.evidence import ACCEPTED, MAX_FILE_BYTES, MAX_FILES_PER_MESSAGE, UPLOAD_TYPES


def evidence_uploader(key: str, *, reply: bool = False) -> list[UploadedFile]:
    """Photos and PDFs for a new concern (or a `reply` on one), in the visitor's language,
    saying what is removed from the files before anyone sees them."""
    size = MAX_FILE_BYTES // (1024 * 1024)
    cleaned = (
        t(
            "What a file says about where it came from (a photo's camera, place and time, a "
            "document's author) is removed before the case team sees it."
        )
        if reply
        else t(
            "Before anyone sees them, we remove what files say about where they came from: a "
            "photo's camera, place and time, a document's author. The file names are not kept."
        )
    )
    limits = t("{accepted}, up to {size} MB each.", accepted=t(ACCEPTED), size=size)
    uploads = st.file_uploader(
        t("Evidence (optional): up to {count} photos or PDFs", count=MAX_FILES_PER_MESSAGE),
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        key=key,
        max_upload_size=size,
        help=f"{limits} {cleaned}",
    )
    return list(uploads or [])
