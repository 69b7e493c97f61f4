"""In Chromium: a reporter attaches a photo and a PDF; the reviewer downloads them without
their metadata, and nothing of them is shown inline on the case page."""

import io
import re
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfReader

from tests.e2e.case_helpers import SECRET_NAME, audit_actions, pdf_with_author, photo_with_exif
from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle

CONCERN = "Photos of the blocked fire exit on level 3, and the inspection notes."


def raise_with_files(browser: Any, server: str, steps: Steps) -> str:
    reporter = new_page(browser)
    reporter.goto(f"{server}/raise_concern")
    reporter.get_by_role("heading", name="Raise a concern").first.wait_for()
    wait_until_idle(reporter)
    reporter.locator('textarea[aria-label="What happened"]').fill(CONCERN)
    reporter.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [
            {"name": "IMG_4031.jpg", "mimeType": "image/jpeg", "buffer": photo_with_exif()},
            {"name": "jane-notes.pdf", "mimeType": "application/pdf", "buffer": pdf_with_author()},
        ]
    )
    reporter.get_by_text("jane-notes.pdf").first.wait_for()
    wait_until_idle(reporter)
    steps.shot(reporter, "files-attached")
    reporter.get_by_role("button", name="Send my concern").click()
    reporter.get_by_text("Your concern has been received.").first.wait_for()
    reference = reporter.locator('[data-testid="stCode"] code').first.inner_text().strip()
    assert re.fullmatch(r"C-[2-9A-Z]{6}", reference)
    return str(reference)


def download(page: Any, label: str, folder: Path) -> bytes:
    with page.expect_download() as event:
        page.get_by_role("button", name=re.compile(re.escape(label))).click()
    target = folder / event.value.suggested_filename
    event.value.save_as(target)
    return target.read_bytes()


def test_reporters_evidence_reaches_the_reviewer_stripped_and_only_as_a_download(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps, tmp_path: Path
) -> None:
    reference = raise_with_files(browser, server, steps)
    reviewer = browser.new_context(
        viewport={"width": 1366, "height": 900}, accept_downloads=True
    ).new_page()
    reviewer.set_default_timeout(45_000)
    requests: list[str] = []
    reviewer.on("request", lambda request: requests.append(request.url))
    sign_in(reviewer, server, "reviewer", DEMO_PASSWORD)
    reviewer.goto(f"{server}/case?case={reference}")
    reviewer.get_by_text("Evidence (2)").first.wait_for()
    wait_until_idle(reviewer)
    steps.shot(reviewer, "evidence-listed")
    main = reviewer.get_by_test_id("stMain")
    # Listed, never shown: no image, frame or embedded document of them on the page.
    assert main.locator("img, iframe, embed, object").count() == 0
    assert "IMG_4031" not in main.inner_text() and "jane-notes" not in main.inner_text()
    assert not [u for u in requests if "/media/" in u and "/static/" not in u]

    photo = download(reviewer, "photo-1.jpg", tmp_path)
    with Image.open(io.BytesIO(photo)) as image:
        assert image.format == "JPEG" and not dict(image.getexif())
    assert SECRET_NAME.encode() not in photo and b"PhoneMaker" not in photo
    document = download(reviewer, "document-2.pdf", tmp_path)
    assert not PdfReader(io.BytesIO(document)).metadata
    assert b"Okafor" not in document
    downloads = [
        a for a in audit_actions(server_env, reference) if a[0] == "case.evidence_download"
    ]
    assert downloads == [("case.evidence_download", "reviewer")] * 2
