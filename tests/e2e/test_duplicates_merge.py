"""In Chromium: a double click on Merge merges the pair on screen once, and nothing else."""

import json
import re
import sqlite3
from typing import Any

from tests.e2e.conftest import Steps
from tests.e2e.test_sign_in_and_admin import DEMO_PASSWORD, new_page, sign_in, wait_until_idle


def _merges(env: dict[str, str]) -> list[tuple[int, int]]:
    """(merged, survivor) of every contact merge in the test server's audit log."""
    path = env["RAPPORT_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT details FROM audit_event WHERE action = 'contact.merge' ORDER BY seq"
        ).fetchall()
    return [(d["merged_id"], d["survivor_id"]) for d in (json.loads(r[0]) for r in rows)]


def _pair_count(page: Any) -> int:
    heading = page.get_by_role("heading", name=re.compile(r"\d+ likely duplicate pairs?"))
    found = re.search(r"(\d+) likely", heading.first.inner_text())
    assert found
    return int(found.group(1))


def test_a_double_click_on_merge_merges_only_the_pair_on_screen_and_the_list_follows(
    browser: Any, server: str, server_env: dict[str, str], steps: Steps
) -> None:
    page = new_page(browser)
    sign_in(page, server, "admin", DEMO_PASSWORD)
    page.get_by_role("heading", name=re.compile("Good to see you")).first.wait_for()
    page.get_by_role("link", name="Duplicates", exact=True).click()
    page.get_by_role("heading", name="Recent merges").first.wait_for()
    page.get_by_text("Which record survives?").first.wait_for()
    wait_until_idle(page)
    before = _pair_count(page)
    assert before >= 2, "the demo holds several pairs: a wrong one could be merged"
    survivor = page.locator('[data-testid="stRadio"]').filter(has_text="Which record survives?")
    shown = survivor.first.inner_text()
    left, right = (int(n) for n in re.findall(r"#(\d+)", shown)[:2])
    merges_before = _merges(server_env)
    steps.shot(page, "pair-on-screen")

    # Two clicks on the button drawn for this pair, the second while the page redraws.
    page.get_by_role("button", name="Merge these contacts").element_handle().dblclick()
    page.get_by_text(re.compile(rf"Merged #{right} into #{left}")).wait_for(timeout=60_000)
    wait_until_idle(page, settle_ms=1500)
    steps.shot(page, "after-double-click")
    assert _merges(server_env)[len(merges_before) :] == [(right, left)], (
        "one merge, of the pair that was on screen"
    )
    assert _pair_count(page) == before - 1, "the list drawn after the merge leaves the pair out"
    now = set(re.findall(r"#(\d+)", survivor.first.inner_text()))
    assert now and now != {str(left), str(right)}, "the pair on screen is another one now"

    page.get_by_role("button", name="Undo").first.click()
    page.get_by_text("The merge was undone").first.wait_for()
    wait_until_idle(page)
    steps.shot(page, "after-undo")
    assert _pair_count(page) == before, "the list drawn after an undo shows the pair again"
    assert len(_merges(server_env)) == len(merges_before) + 1
