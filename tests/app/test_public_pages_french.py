"""The public pages in French: opened with ?lang=fr, every heading, label and button is the
page's French, and a concern is raised and followed up in French from start to finish."""

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from components.i18n import MESSAGES
from components.text import escape_markdown
from db.auth.actor import OPERATOR
from db.consent.preferences import issue_link
from db.core.engine import session_scope
from db.models.people import Contact
from tests.app.conftest import RunPage

FRENCH = {"lang": "fr"}
NO_BREAK = "\u00a0"


def french(text: str) -> str:
    """The French a page shows for one of its sentences (fixed spaces included)."""
    return re.sub(r" (?=[:;?!»])|(?<=«) ", NO_BREAK, MESSAGES["fr"][text])


def words(at: AppTest) -> list[str]:
    """Every heading, text, label and button the run drew."""
    shown = [
        e.value for kind in ("title", "subheader", "markdown", "caption") for e in at.get(kind)
    ]
    shown += [e.value for kind in ("info", "success", "warning", "error") for e in at.get(kind)]
    for kind in ("button", "text_input", "text_area", "radio", "selectbox", "toggle", "tab"):
        shown += [e.label for e in at.get(kind)]
    shown += [e.proto.label for e in at.get("form_submit_button")]
    shown += [e.label for e in at.expander]
    return [str(s) for s in shown]


PAGES = {
    "pages/raise_concern.py": [
        "Raise a concern",
        "What is stored, and what is not",
        "What happened",
        "How urgent does it feel?",
        "Who you are",
        "Send my concern",
    ],
    "pages/follow_up.py": ["Follow up a concern", "Case reference", "Receipt code", "Open my case"],
    "pages/preferences.py": ["Your preferences", "Link code"],
    "pages/my_data.py": [
        "Your data and your rights",
        "Make a request",
        "Follow a request",
        "What would you like?",
        "Your email address",
        "Send me a code",
    ],
    "pages/ask_us.py": [
        "Ask us",
        "Your question",
        "How should we answer?",
        "Email address",
        "Send my question",
    ],
}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_public_page_opened_in_french_shows_its_french(run_page: RunPage, path: str) -> None:
    at = run_page(path, query=FRENCH)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="language_picker").value == "fr"
    shown = words(at)
    for english in PAGES[path]:
        assert french(english) in shown, (english, shown)
        assert english not in shown


def test_the_same_pages_stay_in_english_without_the_choice(run_page: RunPage) -> None:
    at = run_page("pages/raise_concern.py")
    assert not at.exception
    assert "Send my concern" in words(at)
    assert at.radio(key="concern_identity").options == [
        "Stay anonymous",
        "Leave my contact details",
    ]


def test_a_concern_is_raised_and_followed_up_in_french(
    run_page: RunPage, app_engine: Engine
) -> None:
    at = run_page("pages/raise_concern.py", query=FRENCH)
    assert at.radio(key="concern_urgency").options == ["faible", "moyenne", "élevée"]
    assert at.radio(key="concern_identity").options == ["Rester anonyme", "Laisser mes coordonnées"]
    at.text_area(key="concern_what").input("La porte coupe-feu reste ouverte chaque soir.")
    at.button(key="concern_send").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Votre signalement a bien été reçu."]
    keep = french(
        "Keep **both** of these. You need them to read replies and add information on "
        "*Follow up a concern*. We cannot show the receipt code again or recover it: it is "
        "not stored anywhere in a readable form."
    )
    assert keep in [m.value for m in at.markdown]
    assert f"ni le retrouver{NO_BREAK}: il" in keep
    assert [c.value for c in at.caption] == ["Référence du dossier", "Code de reçu (secret)"]
    reference, receipt = (c.value for c in at.code)
    assert at.checkbox(key="concern_saved").label == (
        "J'ai bien noté ma référence et mon code de reçu"
    )
    assert at.button(key="concern_done").label == "Terminé"

    at = run_page("pages/follow_up.py", query=FRENCH)
    at.text_input(key="follow_reference").input(reference)
    at.text_input(key="follow_receipt").input(receipt)
    at.button(key="follow_open").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {"État", "Catégorie", "Reçu le"}
    day = re.fullmatch(r"(\d{1,2}) (\S+) \d{4}", metrics["Reçu le"])
    assert (
        day and day[2] in "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split()
    )
    headings = [s.value for s in at.subheader]
    assert {"Messages et mises à jour", "Ajouter des informations ou répondre"} <= set(headings)
    at.text_area(key="follow_message").input("C'est encore arrivé ce soir.")
    at.button(key="FormSubmitter:reporter_reply-Envoyer").click()
    at.run()
    assert not at.exception
    assert "Envoyé. L'équipe chargée du dossier verra votre message." in [
        s.value for s in at.success
    ]


def test_the_preference_centre_in_french_records_a_choice(
    run_page: RunPage, app_engine: Engine
) -> None:
    with session_scope(app_engine) as session:
        contact = session.exec(
            select(Contact).where(col(Contact.erased_at).is_(None)).order_by(col(Contact.id))
        ).first()
        assert contact is not None and contact.id is not None
        token = issue_link(session=session, contact_id=contact.id, actor=OPERATOR).token
    at = run_page("pages/preferences.py", query={**FRENCH, "token": token})
    assert not at.exception, [e.value for e in at.exception]
    shown = words(at)
    for english in ("How should we reach you?", "Preferred channel", "Stop everything"):
        assert french(english) in shown, (english, shown)
    assert "Par quel moyen vous contacter" + NO_BREAK + "?" in shown
    assert at.radio(key="pref_channel").options[0] == "Aucune préférence"
    switch = at.toggle[0]
    assert switch.label in {"E-mail", "Appels téléphoniques", "SMS", "Courrier"}
    switch.set_value(not switch.value)
    at.run()
    assert not at.exception
    done = {french("Saved: you agreed."), french("Saved: we will stop.")}
    assert done & {s.value for s in at.success}, [e.value for e in at.error]


def test_a_question_is_asked_in_french(run_page: RunPage) -> None:
    at = run_page("pages/ask_us.py", query=FRENCH)
    channel = at.radio(key="ask_answer_by")
    shown = ["E-mail", "Appel téléphonique", "SMS", "Courrier"]  # as the browser shows them
    assert channel.options == [escape_markdown(label) for label in shown]
    at.text_area(key="ask_question").input("Pouvez-vous me rappeler au sujet de ma facture ?")
    at.text_input(key="ask_name").input("Camille Martin")
    channel.set_value(escape_markdown("Appel téléphonique"))
    at.text_input(key="ask_phone").input("+33 1 99 00 12 34")
    at.button(key="FormSubmitter:ask_us-Envoyer ma question").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    thanks = french(
        "Thank you: your question is with the team, and they will answer the way you asked. "
        "You can close this page."
    )
    assert [s.value for s in at.success] == [thanks], [e.value for e in at.error]
    assert at.button(key="ask_again").label == "Poser une autre question"
