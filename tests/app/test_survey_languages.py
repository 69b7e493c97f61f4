"""The answering page in the respondent's language, and HR's translations screen."""

from tests.app.conftest import RunPage
from tests.app.test_survey_pages import fresh_token


def test_the_answering_page_speaks_french_when_chosen_and_thanks_in_french(
    run_page: RunPage, app_database: str
) -> None:
    token = fresh_token(app_database)
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input(token)
    at.run()
    assert at.title[-1].value == "Quarterly pulse"
    at.selectbox(key="language_picker").select("fr")
    at.run()
    assert not at.exception
    assert at.title[-1].value == "Baromètre trimestriel"
    assert any(i.value.startswith("Vos réponses sont enregistrées sans votre nom") for i in at.info)
    assert not [w for w in at.warning if "traduite" in w.value], "the demo pulse is translated"
    agree = next(r for r in at.radio if len(r.options) == 5)
    assert "Tout à fait d'accord" in agree.options
    assert at.button(key="next").label == "Envoyer mes réponses"
    for radio in at.radio:
        radio.set_value(4 if len(radio.options) == 5 else 8)
    at.button(key="next").click()
    at.run()
    assert at.title[-1].value == "Merci"
    assert any("Vos réponses sont enregistrées." in s.value for s in at.success)
    assert any("sans votre nom" in m.value for m in at.markdown)


def test_the_answering_page_is_in_english_by_default(run_page: RunPage, app_database: str) -> None:
    token = fresh_token(app_database)
    at = run_page("pages/answer_survey.py")
    at.text_input(key="pasted_token").input(token)
    at.run()
    assert at.button(key="next").label == "Submit answers"
    assert any(i.value.startswith("Your answers are stored without your name") for i in at.info)
    assert at.selectbox(key="language_picker").options == ["English", "Français"]


def test_public_pages_follow_the_chosen_language(run_page: RunPage) -> None:
    at = run_page("pages/ask_us.py")
    at.selectbox(key="language_picker").select("fr")
    at.run()
    assert at.title[0].value == "Nous poser une question"


def test_hr_translates_a_survey_and_a_bad_choice_list_is_refused(run_page: RunPage) -> None:
    at = run_page("pages/survey_translations.py", "hr")
    assert not at.exception
    box = at.selectbox(key="translate_survey")
    pulse = next(o for o in box.options if o.startswith("Quarterly pulse"))
    box.select(pulse)
    at.run()
    sid = pulse.split("(#")[1].split(",")[0]
    title = at.text_area(key=f"tr_{sid}_fr_title")
    assert title.value == "Baromètre trimestriel"
    title.input("Baromètre du trimestre")
    at.button(key=f"FormSubmitter:translate_{sid}_fr-Save Français translation").click()
    at.run()
    assert any("Français translation" in s.value for s in at.success), [e.value for e in at.error]
    assert at.text_area(key=f"tr_{sid}_fr_title").value == "Baromètre du trimestre"
