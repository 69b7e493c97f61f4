"""Names people typed show as literal text in success messages, link labels and captions.

Streamlit renders these strings as markdown. Each payload below would, unescaped, load an
image from another server, make a link, bold text or inject HTML; the page must hand
Streamlit a string whose every markdown-active character is backslash-escaped, so that
CommonMark shows exactly what was typed.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import delete, update
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components.text import escape_markdown
from db.auth.accounts import get_user_by_username
from db.core.engine import make_engine, session_scope
from db.models.people import Contact, ContactTag
from db.models.pipeline import Deal
from db.models.surveys import QuestionKind, Survey, SurveyQuestion, SurveyStatus
from tests.app.conftest import RunPage, sign_in_token
from tests.app.test_survey_pages import fresh_token
from tests.conftest import ROOT

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


# Text typed into records shows literally on the pages that display it. The payload holds
# every kind of markup at once: an image that calls out, a link, HTML, a Streamlit colour
# directive and emoji shortcode, LaTeX, emphasis and a heading.
HOSTILE = "![x](http://evil.example/p.png) [l](javascript:1) <b>b</b> :red[r] :smile: $x$ **s** #"


def markdown_shown(at: Any) -> list[str]:
    """Every string the page handed Streamlit to render as markdown."""
    shown = [
        element.value
        for kind in ("title", "header", "subheader", "caption", "markdown")
        for element in getattr(at, kind)
    ]
    shown += [
        element.value
        for kind in ("success", "info", "warning", "error")
        for element in getattr(at, kind)
    ]
    shown += page_link_labels(at)
    for widget in [*at.radio, *at.text_area]:
        shown.append(widget.label)
        shown += [str(option) for option in getattr(widget.proto, "options", [])]
    shown += [str(element.proto.text) for element in at.get("progress")]
    return shown


def assert_shown_literally(at: Any, typed: str = HOSTILE) -> None:
    """Nowhere as live markup, and at least once as exactly what was typed."""
    assert not at.exception, [e.value for e in at.exception]
    shown = markdown_shown(at)
    live = [text for text in shown if any(part in text for part in ("![x](", "<b>b", ":red[r]"))]
    assert not live, live
    assert any(escape_markdown(typed) in text for text in shown), shown


@contextmanager
def changed(url: str, model: type, key: Any, **values: Any) -> Iterator[None]:
    """Give one row hostile values for the length of a test, then put it back."""
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            row = session.get(model, key)
            assert row is not None
            before = {name: getattr(row, name) for name in values}
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
        st.cache_data.clear()
        yield
    finally:
        with session_scope(engine) as session:
            row = session.get(model, key)
            assert row is not None
            for name, value in before.items():
                setattr(row, name, value)
            session.add(row)
            session.commit()
        engine.dispose()
        st.cache_data.clear()


def first_id(url: str, query: Any) -> Any:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            found = session.exec(query).first()
            assert found is not None
            return found
    finally:
        engine.dispose()


def sales_contact(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            sales = get_user_by_username(session=session, username="sales")
            assert sales is not None
            return int(
                session.exec(
                    select(Contact.id).where(Contact.owner_id == sales.id).order_by(Contact.id)  # type: ignore[arg-type]
                ).first()
                or 0
            )
    finally:
        engine.dispose()


def open_with(url: str, path: str, username: str | None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page(path)
    for key, value in params.items():
        at.query_params[key] = value
    if username is not None:
        at.session_state["rapport_session_token"] = sign_in_token(url, username)
    return at.run()


@pytest.mark.parametrize("field", ["given_name", "job_title"])
def test_contact_360_and_consent_show_a_hostile_name_and_job_title_literally(
    app_database: str, field: str
) -> None:
    contact_id = sales_contact(app_database)
    with changed(app_database, Contact, contact_id, **{field: HOSTILE}):
        at = open_with(app_database, "pages/contact.py", "sales", id=str(contact_id))
        assert_shown_literally(at)
        if field == "given_name":
            at = open_with(app_database, "pages/consent.py", "privacy", contact=str(contact_id))
            assert_shown_literally(at)


def test_contact_360_shows_a_hostile_tag_literally(app_database: str) -> None:
    contact_id = sales_contact(app_database)
    tag = "![t](http://evil.example/t.png)"
    engine = make_engine(app_database)
    try:
        with session_scope(engine) as session:
            session.add(ContactTag(contact_id=contact_id, tag=tag))
            session.commit()
        st.cache_data.clear()
        at = open_with(app_database, "pages/contact.py", "sales", id=str(contact_id))
        assert not at.exception
        captions = [c.value for c in at.caption]
        assert not [c for c in captions if "![t](" in c]
        assert any(escape_markdown(tag) in c for c in captions), captions
    finally:
        with session_scope(engine) as session:
            session.execute(
                delete(ContactTag).where(ContactTag.contact_id == contact_id, ContactTag.tag == tag)  # type: ignore[arg-type]
            )
            session.commit()
        engine.dispose()


def test_the_deal_page_and_the_board_show_a_hostile_deal_title_literally(
    run_page: RunPage, app_database: str
) -> None:
    board = run_page("pages/board.py", "sales")
    # A card's link opens its deal (?id=…); the card shows the title above it.
    card = next(link for link in board.main.get("page_link") if link.proto.page == "deal")
    deal_id = int(card.proto.query_string.removeprefix("id="))
    deal = first_id(app_database, select(Deal).where(Deal.id == deal_id))
    with changed(app_database, Deal, deal.id, title=HOSTILE):
        assert_shown_literally(open_with(app_database, "pages/deal.py", "sales", id=str(deal.id)))
        assert_shown_literally(run_page("pages/board.py", "sales"))


def test_the_public_answer_page_shows_a_hostile_survey_title_question_and_choices_literally(
    run_page: RunPage, app_database: str
) -> None:
    token = fresh_token(app_database)
    survey = first_id(app_database, select(Survey).where(Survey.status == SurveyStatus.open.value))
    question = first_id(
        app_database,
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey.id)
        .order_by(SurveyQuestion.position),  # type: ignore[arg-type]
    )
    choice = "![c](http://evil.example/c.png)"
    with (
        changed(app_database, Survey, survey.id, title=HOSTILE),
        changed(
            app_database,
            SurveyQuestion,
            question.id,
            text=HOSTILE,
            section=HOSTILE,
            kind=QuestionKind.choice.value,
            choices=f"{choice}\nPlain",
        ),
    ):
        at = run_page("pages/answer_survey.py")
        at.text_input(key="pasted_token").input(token)
        at.run()
        assert_shown_literally(at)
        options = [str(o) for radio in at.radio for o in radio.proto.options]
        assert escape_markdown(choice) in options and choice not in options, options
