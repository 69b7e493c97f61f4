"""The app's own words on public pages, in the visitor's language.

A small message table rather than gettext catalogs: the public pages have a few dozen
sentences, the table is type-checked Python with no compile step, and
tests/unit/test_i18n.py fails when a language misses a sentence the pages use or a
placeholder differs. The English sentence is the key (as with gettext's msgid), so a
page reads in English and an untranslated sentence shows in English.
"""

from datetime import date

import streamlit as st

from db.surveys.languages import DEFAULT_LANGUAGE, LANGUAGES, written_date

_FR: dict[str, str] = {
    # Language picker
    "Language": "Langue",
    # Answer a survey
    "Answer a survey": "Répondre à un questionnaire",
    "Open the personal link from your survey email. If you only have the code at the end "
    "of the link (after token=), paste it here.": (
        "Ouvrez le lien personnel reçu par e-mail. Si vous n'avez que le code à la fin du "
        "lien (après token=), collez-le ici."
    ),
    "Link code": "Code du lien",
    "Thank you": "Merci",
    "Your answers are in.": "Vos réponses sont enregistrées.",
    "Open until {day}.": "Ouvert jusqu'au {day}.",
    "Section {step} of {total}: {name}": "Section {step} sur {total} : {name}",
    " (optional)": " (facultatif)",
    "Strongly disagree": "Pas du tout d'accord",
    "Disagree": "Pas d'accord",
    "Neutral": "Neutre",
    "Agree": "D'accord",
    "Strongly agree": "Tout à fait d'accord",
    "0 = not at all likely, 10 = extremely likely": (
        "0 = pas du tout probable, 10 = extrêmement probable"
    ),
    "Back": "Retour",
    "Next": "Suivant",
    "Submit answers": "Envoyer mes réponses",
    "Part of this survey is not translated yet and is shown in {language}: {missing}.": (
        "Une partie de ce questionnaire n'est pas encore traduite et s'affiche en "
        "{language} : {missing}."
    ),
    # Raise a concern, Ask us, My data, Preferences
    "Raise a concern": "Signaler un problème",
    "Ask us": "Nous poser une question",
    "Your data and your rights": "Vos données et vos droits",
    "Your preferences": "Vos préférences",
    "Open the personal link from one of our emails. If you only have the code at the end "
    "of the link (after token=), paste it here.": (
        "Ouvrez le lien personnel reçu dans l'un de nos e-mails. Si vous n'avez que le code "
        "à la fin du lien (après token=), collez-le ici."
    ),
}

MESSAGES: dict[str, dict[str, str]] = {"fr": _FR}


def current_language() -> str:
    """The visitor's language: chosen on the page, or given in the link (?lang=fr)."""
    chosen = st.session_state.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    asked = str(st.query_params.get("lang", ""))
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def t(text: str, /, **values: object) -> str:
    """`text` in the visitor's language (English when untranslated), placeholders filled."""
    table = MESSAGES.get(current_language(), {})
    return table.get(text, text).format(**values) if values else table.get(text, text)


def long_date(day: date) -> str:
    """A date written out in the visitor's language (04 December 2026 / 4 décembre 2026)."""
    return written_date(day, current_language())


def language_picker(languages: list[str] | None = None) -> str:
    """A language choice at the top of a public page; returns the language in use.

    The choice is kept for the visit (every public page follows it) and written into
    the link, so a reload or a shared link keeps it.
    """
    offered = [code for code in (languages or list(LANGUAGES)) if code in LANGUAGES]
    current = current_language()
    if current not in offered:
        offered.append(current)
    chosen = st.selectbox(
        t("Language"),
        offered,
        index=offered.index(current),
        format_func=LANGUAGES.__getitem__,
        key="language_picker",
    )
    if chosen != current:
        st.session_state["language"] = chosen
        st.query_params["lang"] = chosen
        st.rerun()
    st.session_state["language"] = chosen
    return str(chosen)
