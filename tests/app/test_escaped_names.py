"""Names people typed show as literal text in success messages, link labels and captions.

Streamlit renders these strings as markdown. Each payload below would, unescaped, load an
image from another server, make a link, bold text or inject HTML; the page must hand
Streamlit a string whose every markdown-active character is backslash-escaped, so that
CommonMark shows exactly what was typed.
"""

from typing import Any

import pytest
import streamlit as st
from sqlalchemy import update
from sqlmodel import select

from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine, session_scope
from db.models.pipeline import Deal
from tests.app.conftest import RunPage

PAYLOADS = [
    "![x](http://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "**Loud** _Quiet_ `code`",
]
ACTIVE = set("\\`*_{}[]()<>#+-.!|~:$=&")


def rendered(markdown: str) -> str:
    """What CommonMark shows for `markdown`, failing on any character it would interpret."""
    shown, escaped = [], False
    for char in markdown:
        if escaped:
            shown.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            assert char not in ACTIVE, f"unescaped {char!r} in {markdown!r}"
            shown.append(char)
    assert not escaped
    return "".join(shown)


def shows_literally(markdown: str, prefix: str, name: str, suffix: str = "") -> bool:
    """`markdown` is the page's own `prefix` and `suffix` around `name`, shown literally."""
    assert markdown.startswith(prefix) and markdown.endswith(suffix), markdown
    return rendered(markdown[len(prefix) : len(markdown) - len(suffix)]) == name


def page_link_labels(at: Any) -> list[str]:
    return [element.proto.label for element in at.get("page_link")]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_contact_named_with_markup_is_named_literally_in_the_message_and_link(
    run_page: RunPage, payload: str
) -> None:
    at = run_page("pages/contacts.py", "sales")
    at.text_input(key="new_given").input(payload)
    at.text_input(key="new_family").input("Hostile")
    at.button(key="FormSubmitter:new_contact-Add contact").click()
    at.run()
    assert not at.exception
    messages = [s.value for s in at.success]
    assert messages, [e.value for e in at.error]
    assert shows_literally(messages[0], "Added ", f"{payload} Hostile", ".")
    labels = [label for label in page_link_labels(at) if label.startswith("Open ")]
    assert labels and shows_literally(labels[0], "Open ", f"{payload} Hostile")


def test_an_organisation_named_with_markup_is_named_literally(run_page: RunPage) -> None:
    payload = " ".join(PAYLOADS)
    at = run_page("pages/organisations.py", "sales")
    at.text_input(key="org_name").input(payload)
    at.button(key="FormSubmitter:new_organisation-Add organisation").click()
    at.run()
    assert not at.exception
    assert len(at.success) == 1, [e.value for e in at.error]
    assert shows_literally(at.success[0].value, "Added ", payload, ".")


def test_an_employee_named_with_markup_is_named_literally(run_page: RunPage) -> None:
    payload = PAYLOADS[0] + " " + PAYLOADS[1]
    at = run_page("pages/employees.py", "hr")
    at.text_input(key="add_name").input(payload)
    at.text_input(key="add_email").input("hostile.name@example.org")
    at.text_input(key="add_department").input("Care")
    at.text_input(key="add_team").input("East")
    at.text_input(key="add_location").input("York")
    at.button(key="FormSubmitter:add_employee-Add to directory").click()
    at.run()
    assert not at.exception
    assert len(at.success) == 1, [e.value for e in at.error]
    assert shows_literally(at.success[0].value, "Added ", payload, ".")


def test_a_pipeline_named_with_markup_is_named_literally(run_page: RunPage) -> None:
    payload = PAYLOADS[2] + " " + PAYLOADS[3]
    at = run_page("pages/pipeline_settings.py", "admin")
    at.text_input(key="pipeline_name").input(payload)
    at.button(key="FormSubmitter:new_pipeline-Create pipeline").click()
    at.run()
    assert not at.exception
    made = [s.value for s in at.success if s.value.startswith("Created the pipeline ")]
    assert made, [e.value for e in at.error]
    assert shows_literally(made[0], "Created the pipeline ", payload, ".")


def test_a_survey_titled_with_markup_is_named_literally(run_page: RunPage) -> None:
    payload = PAYLOADS[0] + " " + PAYLOADS[3]
    at = run_page("pages/surveys.py", "hr")
    at.text_input(key="new_title").input(payload)
    at.button(key="FormSubmitter:new_survey-Create survey").click()
    at.run()
    assert not at.exception
    made = [s.value for s in at.success if s.value.startswith("Created “")]
    assert made, [e.value for e in at.error]
    assert shows_literally(
        made[0], "Created “", payload, "” as a draft. Review its questions below."
    )


def test_a_rotting_deal_titled_with_markup_is_named_literally_in_the_home_link(
    run_page: RunPage, app_database: str
) -> None:
    payload = PAYLOADS[0] + " " + PAYLOADS[1]
    at = run_page("app.py", "sales")
    first = next(label for label in page_link_labels(at) if " · idle " in label)
    title = rendered(first.split(" · ")[0])
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            sales = get_user_by_username(session=session, username="sales")
            assert sales is not None
            deal = session.exec(
                select(Deal).where(Deal.title == title, Deal.owner_id == sales.id)
            ).first()
            assert deal is not None, title
            deal_id = deal.id
            session.execute(update(Deal).where(Deal.id == deal_id).values(title=payload))  # type: ignore[arg-type]
            session.commit()
        st.cache_data.clear()  # the home panel caches its reads
        at = run_page("app.py", "sales")
        assert not at.exception
        titles = [label.split(" · ")[0] for label in page_link_labels(at) if " · idle " in label]
        assert any(rendered(shown) == payload for shown in titles), titles
    finally:
        with session_scope(engine) as session:
            session.execute(update(Deal).where(Deal.id == deal_id).values(title=title))  # type: ignore[arg-type]
            session.commit()
        engine.dispose()
