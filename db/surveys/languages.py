"""Surveys in several languages: HR's translations of a survey's wording, and the
questionnaire put into the respondent's language.

Answers are stored by question (and a single choice by its original wording), never
by the text shown, so answers given in any language tally under the same item codes.
Anything not translated falls back to the survey's own language, and says so.
"""

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.core.errors import ValidationError
from db.models.auth import Role
from db.models.surveys import AudienceKind, QuestionKind, Survey, SurveyQuestion, SurveyTranslation
from db.surveys.answers import Questionnaire, named, what_is_stored
from db.surveys.builder import get_survey, list_questions

# The languages the app's own words exist in (components/i18n.py has the same codes).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
MAX_TRANSLATION = 2000

# What is stored, in each language other than English (English is answers.what_is_stored).
_STORED = {
    "fr": {
        "named": (
            "Ce questionnaire n'est pas anonyme : vos réponses sont enregistrées avec votre "
            "nom (votre fiche de contact) et la date et l'heure exactes de leur envoi, et "
            "elles apparaissent sur votre fiche pour le personnel qui s'en occupe. Les totaux "
            "ne sont publiés que pour les groupes de {k} personnes ou plus."
        ),
        "contacts": "le type de contact que vous êtes, votre organisation et votre région",
        "employees": "votre service, votre équipe, votre ancienneté et votre site",
        "anonymous": (
            "Vos réponses sont enregistrées sans votre nom ni votre lien, avec {groups} — "
            "chacun élargi (ou omis) jusqu'à ce qu'au moins {k} des personnes interrogées le "
            "partagent — et le jour de votre réponse, pas l'heure. Les résultats ne sont "
            "affichés que pour les groupes de {k} personnes ou plus."
        ),
    }
}


_MONTHS = {
    "fr": (
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    ).split()
}
_SHORT_MONTHS = {"fr": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()}


def written_date(day: date, language: str, *, abbreviated: bool = False) -> str:
    """A date written out in `language` (04 December 2026 / 4 décembre 2026; abbreviated:
    04 Dec 2026 / 4 déc. 2026)."""
    months = (_SHORT_MONTHS if abbreviated else _MONTHS).get(language)
    if months is None:
        return f"{day:%d %b %Y}" if abbreviated else f"{day:%d %B %Y}"
    return f"{day.day} {months[day.month - 1]} {day.year}"


def question_key(code: str) -> str:
    """The translation key of a question's text."""
    return f"q:{code}"


def choices_key(code: str) -> str:
    """The translation key of a single-choice question's choices (one per line)."""
    return f"c:{code}"


def section_key(section: str) -> str:
    """The translation key of a section's name."""
    return f"s:{section}"


def check_language(language: str) -> str:
    """The language code if the app speaks it, else ValidationError."""
    if language not in LANGUAGES:
        known = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
        raise ValidationError(f"Unknown language {language!r}: choose one of {known}.")
    return language


def stored_statement(survey: Survey, language: str) -> str:
    """Exactly what this survey keeps with an answer, said in `language`."""
    words = _STORED.get(language)
    if words is None:
        return what_is_stored(survey)
    k = survey.min_group
    if named(survey):
        return words["named"].format(k=k)
    contacts = survey.audience_kind == AudienceKind.contacts.value
    groups = words["contacts" if contacts else "employees"]
    return words["anonymous"].format(groups=groups, k=k)


@dataclass(frozen=True)
class TranslationRow:
    """One piece of wording to translate: the original and its translation, if any."""

    key: str
    label: str
    original: str
    translation: str


def translations(*, session: Session, survey_id: int, language: str) -> dict[str, str]:
    """The survey's translated wording in `language`, by key."""
    rows = session.exec(
        select(SurveyTranslation).where(
            SurveyTranslation.survey_id == survey_id, SurveyTranslation.language == language
        )
    ).all()
    return {row.key: row.text for row in rows}


def translation_rows(*, session: Session, survey_id: int, language: str) -> list[TranslationRow]:
    """Everything in a survey that can be translated, with what `language` has so far."""
    survey = get_survey(session=session, survey_id=survey_id)
    done = translations(session=session, survey_id=survey_id, language=language)
    rows = [TranslationRow("title", "Survey title", survey.title, done.get("title", ""))]
    questions = list_questions(session=session, survey_id=survey_id)
    for section in dict.fromkeys(question.section for question in questions):
        key = section_key(section)
        rows.append(TranslationRow(key, f"Section {section}", section, done.get(key, "")))
    for question in questions:
        rows.append(
            TranslationRow(
                question_key(question.code),
                f"{question.code} (question)",
                question.text,
                done.get(question_key(question.code), ""),
            )
        )
        if question.kind == QuestionKind.choice.value and question.choices:
            rows.append(
                TranslationRow(
                    choices_key(question.code),
                    f"{question.code} (choices, one per line)",
                    question.choices,
                    done.get(choices_key(question.code), ""),
                )
            )
    return rows


def save_translations(
    *, session: Session, actor: Actor, survey_id: int, language: str, texts: dict[str, str]
) -> int:
    """Store HR's translations of a survey into `language`; a blank one is removed.

    Returns how many pieces are translated afterwards. Keys must be the survey's own
    (see `translation_rows`); a choice list must keep the number of choices.
    """
    require_role(actor, Role.hr, doing="translate surveys")
    check_language(language)
    survey = get_survey(session=session, survey_id=survey_id)
    if language == survey.language:
        raise ValidationError(
            f"This survey is written in {LANGUAGES.get(survey.language, survey.language)}: "
            "translate it into another language."
        )
    originals = {
        row.key: row for row in translation_rows(session=session, survey_id=survey_id, language="")
    }
    cleaned: dict[str, str] = {}
    for key, text in texts.items():
        row = originals.get(key)
        if row is None:
            raise ValidationError(f"{key!r} is not part of this survey.")
        text = (text or "").strip()
        if len(text) > MAX_TRANSLATION:
            raise ValidationError(f"{row.label}: at most {MAX_TRANSLATION} characters.")
        if text and key.startswith("c:"):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            wanted = len(row.original.split("\n"))
            if len(lines) != wanted:
                raise ValidationError(
                    f"{row.label}: give {wanted} choices, one per line, in the original's "
                    f"order (got {len(lines)})."
                )
            text = "\n".join(lines)
        cleaned[key] = text
    session.execute(
        delete(SurveyTranslation).where(
            col(SurveyTranslation.survey_id) == survey_id,
            col(SurveyTranslation.language) == language,
            col(SurveyTranslation.key).in_(list(cleaned)),
        )
    )
    for key, text in cleaned.items():
        if text:
            session.add(
                SurveyTranslation(survey_id=survey_id, language=language, key=key, text=text)
            )
    session.commit()
    return len(translations(session=session, survey_id=survey_id, language=language))


def survey_languages(*, session: Session, survey_id: int) -> list[str]:
    """The survey's own language first, then every language it has translations in."""
    survey = get_survey(session=session, survey_id=survey_id)
    others = session.exec(
        select(SurveyTranslation.language)
        .where(SurveyTranslation.survey_id == survey_id)
        .distinct()
    ).all()
    return [survey.language] + sorted(set(others) - {survey.language})


@dataclass(frozen=True)
class Localised:
    """A questionnaire in one language, and what had to fall back to the original."""

    questionnaire: Questionnaire
    language: str
    # The survey's own language, used for anything untranslated.
    fallback: str
    # Labels of the pieces shown in the fallback language (empty when fully translated).
    missing: list[str]
    # Translated choices by question id, in the original's order (answers keep originals).
    choice_labels: dict[int, list[str]]


def localise(*, session: Session, questionnaire: Questionnaire, language: str) -> Localised:
    """The questionnaire in `language`, untranslated pieces left in the survey's own."""
    check_language(language)
    survey = get_survey(session=session, survey_id=questionnaire.survey_id)
    own = survey.language
    if language == own:
        return Localised(questionnaire, language, own, [], {})
    done = translations(session=session, survey_id=survey.id or 0, language=language)
    missing: list[str] = []
    title = done.get("title")
    if title is None:
        missing.append("title")
    questions: list[SurveyQuestion] = []
    choice_labels: dict[int, list[str]] = {}
    for question in questionnaire.questions:
        text = done.get(question_key(question.code))
        if text is None:
            missing.append(question.code)
        questions.append(replace_question(question, text, done.get(section_key(question.section))))
        if question.kind == QuestionKind.choice.value and question.choices:
            choices = done.get(choices_key(question.code))
            if choices is None:
                missing.append(f"{question.code} choices")
            elif question.id is not None:
                choice_labels[question.id] = choices.split("\n")
    localised = replace(
        questionnaire,
        title=title or questionnaire.title,
        questions=questions,
        stored=stored_statement(survey, language),
    )
    return Localised(localised, language, own, missing, choice_labels)


def replace_question(
    question: SurveyQuestion, text: str | None, section: str | None
) -> SurveyQuestion:
    """A detached copy of `question` showing `text` in `section` (originals when None)."""
    copy = SurveyQuestion.model_validate(question.model_dump())
    copy.text = text or question.text
    copy.section = section or question.section
    return copy


def stored_in_each(*, session: Session, survey_id: int) -> dict[str, str]:
    """What the survey stores, said in every language the app speaks (for the thank-you)."""
    survey = get_survey(session=session, survey_id=survey_id)
    return {language: stored_statement(survey, language) for language in LANGUAGES}
