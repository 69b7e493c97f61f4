"""Survey translations: HR gives a survey's wording in another language.

Items keep their codes, so answers given in any language combine in the results.
"""

import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, run
from db.surveys.builder import list_surveys
from db.surveys.languages import (
    LANGUAGES,
    MAX_TRANSLATION,
    save_translations,
    translation_rows,
)

hr = page(__file__)

st.title("Survey translations")
st.caption(
    "Translate a survey's title, questions and choices. The answering page shows each "
    "person the language they pick (or the one in their link, ?lang=fr); anything left "
    "blank is shown in the survey's own language, with a note. Results combine across "
    "languages because answers are stored by item code."
)

surveys = run(list_surveys, actor=hr)
if isinstance(surveys, Failed):
    st.stop()
if not surveys:
    st.info("No surveys yet: build one on the Surveys page first.")
    st.stop()
by_id = {survey.id: survey for survey in surveys}
survey_id = st.selectbox(
    "Survey",
    list(by_id),
    format_func=lambda key: f"{by_id[key].title} (#{key}, {by_id[key].status})",
    key="translate_survey",
)
survey = by_id[survey_id]
targets = [code for code in LANGUAGES if code != survey.language]
language = st.selectbox(
    "Translate into",
    targets,
    format_func=LANGUAGES.__getitem__,
    key="translate_language",
)
st.caption(f"Written in {escape_markdown(LANGUAGES.get(survey.language, survey.language))}.")

rows = run(translation_rows, survey_id=survey_id, language=language)
if isinstance(rows, Failed):
    st.stop()
done = sum(1 for row in rows if row.translation)
st.progress(done / len(rows), text=f"{done} of {len(rows)} translated")

with st.form(f"translate_{survey_id}_{language}"):
    texts: dict[str, str] = {}
    for row in rows:
        st.markdown(f"**{escape_markdown(row.label)}** — {escape_markdown(row.original)}")
        texts[row.key] = st.text_area(
            f"{escape_markdown(row.label)} in {LANGUAGES[language]}",
            value=row.translation,
            max_chars=MAX_TRANSLATION,
            key=f"tr_{survey_id}_{language}_{row.key}",
            label_visibility="collapsed",
            height=120 if row.key.startswith("c:") else 68,
        )
    saved = st.form_submit_button(
        f"Save {LANGUAGES[language]} translation", type="primary", icon=":material/translate:"
    )
if saved:
    act(
        save_translations,
        done=f"{LANGUAGES[language]} translation of “{survey.title}” saved.",
        actor=hr,
        survey_id=survey_id,
        language=language,
        texts=texts,
    )
