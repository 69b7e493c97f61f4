"""HR words the invitation and reminder on the Surveys page, and previews them."""

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.core.engine import make_engine, session_scope
from db.models.surveys import Survey, SurveyMailWording, SurveyStatus
from tests.app.conftest import RunPage


def open_survey_id(url: str) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            found = session.exec(
                select(Survey.id).where(Survey.status == SurveyStatus.open.value)
            ).first()
            assert found is not None
            return found
    finally:
        engine.dispose()


def saved_wording(url: str, survey_id: int) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(
                select(SurveyMailWording).where(SurveyMailWording.survey_id == survey_id)
            ).all()
            return [(r.language, r.kind, r.body) for r in rows]
    finally:
        engine.dispose()


def editor(run_page: RunPage, app_database: str, language: str = "en") -> tuple[AppTest, int]:
    sid = open_survey_id(app_database)
    at = run_page("pages/surveys.py", "hr")
    at.selectbox(key="chosen_survey").set_value(sid)
    at.run()
    at.selectbox(key=f"wording_language_s{sid}").set_value(language)
    at.run()
    assert not at.exception
    return at, sid


def submit(at: AppTest, sid: int, label: str, language: str = "en") -> None:
    at.button(key=f"FormSubmitter:wording_s{sid}_{language}_invitation-{label}").click()
    at.run()
    assert not at.exception


def test_an_unknown_placeholder_is_refused_with_the_list_and_nothing_is_saved(
    run_page: RunPage, app_database: str
) -> None:
    at, sid = editor(run_page, app_database)
    at.text_area(key=f"wording_body_s{sid}_en_invitation").input("Hi {fname}, here: {link}")
    submit(at, sid, "Save wording")
    told = [e.value for e in at.error]
    assert any("{fname} is not a placeholder" in e and "{first_name}" in e for e in told), told
    at.text_area(key=f"wording_body_s{sid}_en_invitation").input("Hi {first_name}")
    submit(at, sid, "Preview")
    assert any("put {link} where the person's link goes" in e.value for e in at.error)
    assert not at.get("iframe")
    assert saved_wording(app_database, sid) == []


def test_the_preview_shows_the_html_in_a_frame_and_the_plain_text(
    run_page: RunPage, app_database: str
) -> None:
    at, sid = editor(run_page, app_database, "fr")
    body = "Bonjour {first_name}, <i>vite</i> !\n\n{link}"
    at.text_area(key=f"wording_body_s{sid}_fr_invitation").input(body)
    submit(at, sid, "Preview", "fr")
    assert not at.error, [e.value for e in at.error]
    frames = at.get("iframe")
    assert len(frames) == 1
    page = frames[0].proto.srcdoc
    assert "Bonjour Alex, &lt;i&gt;vite&lt;/i&gt; !" in page and "<i>vite</i>" not in page
    assert "Ouvrir le questionnaire" in page
    assert any("Bonjour Alex, <i>vite</i> !" in t.value for t in at.text)
    assert saved_wording(app_database, sid) == []


def test_hr_saves_its_wording_then_goes_back_to_the_default(
    run_page: RunPage, app_database: str
) -> None:
    at, sid = editor(run_page, app_database)
    body = "Dear {first_name}, please answer by {close_date}.\n\n{link}"
    at.text_area(key=f"wording_body_s{sid}_en_invitation").input(body)
    submit(at, sid, "Save wording")
    assert any("Saved the invitation in English" in s.value for s in at.success)
    assert saved_wording(app_database, sid) == [("en", "invitation", body)]
    assert at.text_area(key=f"wording_body_s{sid}_en_invitation").value == body
    submit(at, sid, "Back to the default wording")
    assert any("back to the default wording" in s.value for s in at.success)
    assert saved_wording(app_database, sid) == []
    default = at.text_area(key=f"wording_body_s{sid}_en_invitation").value
    assert default is not None and default.startswith("Hello {first_name}")
