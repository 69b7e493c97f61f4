"""Surveys in several languages: translations by item code, and results that combine."""

from datetime import date

import pytest
from sqlmodel import Session

from db.auth.actor import OPERATOR
from db.core.errors import Forbidden, ValidationError
from db.models.auth import Role
from db.models.surveys import AudienceKind, Survey
from db.surveys.answers import open_link, submit_answers
from db.surveys.builder import close_survey
from db.surveys.choices import choice_results
from db.surveys.distribution import open_survey
from db.surveys.held import flush_held_answers
from db.surveys.languages import (
    localise,
    save_translations,
    stored_statement,
    survey_languages,
    translation_rows,
)
from db.surveys.reports import results
from tests.integration.test_survey_choices_and_tallies import OPTIONS, choice_survey
from tests.integration.test_surveys import answers_for, staff, tokens_of, user

FRENCH = {
    "title": "Baromètre",
    "q:eng_proud": "Je suis fier de travailler ici.",
    "c:where": "Au bureau\nHybride\nÀ distance",
}


def test_answers_in_english_and_french_tally_under_the_same_item_codes(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = choice_survey(session)
    save_translations(session=session, actor=OPERATOR, survey_id=sid, language="fr", texts=FRENCH)
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    for number, token in enumerate(tokens.values(), start=1):
        language = "fr" if number % 2 else "en"
        shown = localise(
            session=session,
            questionnaire=open_link(session=session, token=token),
            language=language,
        )
        answers = answers_for(session, sid, 4 if language == "fr" else 2)
        where = next(q for q in shown.questionnaire.questions if q.code == "where")
        assert where.id is not None
        # The respondent picks the second choice as shown; the original is what is stored.
        if language == "fr":
            assert shown.choice_labels[where.id][1] == "Hybride"
            assert shown.questionnaire.title == "Baromètre"
        answers[where.id] = OPTIONS[1]
        submit_answers(session=session, token=token, answers=answers)
    flush_held_answers(session=session, survey_id=sid)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)

    hr = user(session, "hana", Role.hr)
    result = results(session=session, survey_id=sid, group_key="all", actor=hr)
    proud = next(item for item in result.items if item["code"] == "eng_proud")
    assert proud["n"] == 6  # three French answers (agree) and three English (disagree)
    assert proud["favourable"] == 50.0
    [where_result] = choice_results(session=session, survey_id=sid, group_key="all", actor=hr)
    assert {str(o["option"]): o["count"] for o in where_result.options}["Hybrid"] == 6


def test_untranslated_pieces_fall_back_to_the_surveys_language_and_are_named(
    session: Session,
) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = choice_survey(session)
    save_translations(
        session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"title": "Baromètre"}
    )
    assert survey_languages(session=session, survey_id=sid) == ["en", "fr"]
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    token = next(iter(tokens_of(session, sid).values()))
    shown = localise(
        session=session, questionnaire=open_link(session=session, token=token), language="fr"
    )
    assert shown.questionnaire.title == "Baromètre"
    assert "eng_proud" in shown.missing and "where choices" in shown.missing
    proud = next(q for q in shown.questionnaire.questions if q.code == "eng_proud")
    assert proud.text == "I am proud to work for this organisation."
    assert shown.questionnaire.stored.startswith("Vos réponses sont enregistrées sans votre nom")


def test_translations_are_checked_and_a_blank_one_is_removed(session: Session) -> None:
    staff(session, {("Sales", "North"): 5})
    sid = choice_survey(session)
    with pytest.raises(ValidationError, match="give 3 choices"):
        save_translations(
            session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"c:where": "Un"}
        )
    with pytest.raises(ValidationError, match="not part of this survey"):
        save_translations(
            session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"q:nope": "x"}
        )
    with pytest.raises(ValidationError, match="Unknown language"):
        save_translations(session=session, actor=OPERATOR, survey_id=sid, language="xx", texts={})
    with pytest.raises(ValidationError, match="written in English"):
        save_translations(session=session, actor=OPERATOR, survey_id=sid, language="en", texts={})
    manager = user(session, "mo", Role.manager)
    with pytest.raises(Forbidden):
        save_translations(session=session, actor=manager, survey_id=sid, language="fr", texts={})
    assert (
        save_translations(
            session=session, actor=OPERATOR, survey_id=sid, language="fr", texts=FRENCH
        )
        == 3
    )
    assert (
        save_translations(
            session=session, actor=OPERATOR, survey_id=sid, language="fr", texts={"title": " "}
        )
        == 2
    )
    rows = {row.key: row for row in translation_rows(session=session, survey_id=sid, language="fr")}
    assert rows["title"].translation == "" and rows["c:where"].translation.startswith("Au bureau")
    assert "s:About you" in rows


def test_a_named_customer_survey_says_so_in_french(session: Session) -> None:
    named = Survey(
        title="NPS",
        opens_on=date.today(),
        closes_on=date.today(),
        audience_kind=AudienceKind.contacts.value,
        anonymous=False,
    )
    assert stored_statement(named, "fr").startswith("Ce questionnaire n'est pas anonyme")
    assert "heure exactes" in stored_statement(named, "fr")
    assert stored_statement(named, "en").startswith("This survey is not anonymous")
