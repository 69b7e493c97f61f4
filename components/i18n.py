"""The app's own words on public pages, in the visitor's language.

A small message table rather than gettext catalogs: the public pages have a few dozen
sentences, the table is type-checked Python with no compile step, and
tests/unit/test_i18n.py fails when a language misses a sentence the pages use or a
placeholder differs. The English sentence is the key (as with gettext's msgid), so a
page reads in English and an untranslated sentence shows in English.
"""

import re
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
    # Words the pages share
    "Your name": "Votre nom",
    "Email": "E-mail",
    "Phone": "Téléphone",
    "Category": "Catégorie",
    "Case reference": "Référence du dossier",
    "Evidence (optional): up to {count} photos or PDFs": (
        "Pièces jointes (facultatif) : jusqu'à {count} photos ou PDF"
    ),
    "JPEG or PNG photos and PDF documents": "Photos JPEG ou PNG et documents PDF",
    "{accepted}, up to {size} MB each.": "{accepted}, {size} Mo maximum chacun.",
    # Raise a concern
    "Your concern has been received.": "Votre signalement a bien été reçu.",
    "Keep **both** of these. You need them to read replies and add information on "
    "*Follow up a concern*. We cannot show the receipt code again or recover it: it is not "
    "stored anywhere in a readable form.": (
        "Conservez **les deux**. Ils vous permettront de lire nos réponses et d'ajouter des "
        "informations sur la page *Suivre un signalement*. Nous ne pouvons ni réafficher le "
        "code de reçu ni le retrouver : il n'est conservé nulle part sous une forme lisible."
    ),
    "Receipt code (secret)": "Code de reçu (secret)",
    "I have saved my reference and receipt code": (
        "J'ai bien noté ma référence et mon code de reçu"
    ),
    "Done": "Terminé",
    "What is stored, and what is not": "Ce qui est conservé, et ce qui ne l'est pas",
    "- **Stored:** what you write in this form, the category, and the date it arrived.\n"
    "- **Not stored:** your IP address, your browser, cookies, or any account, even if you "
    "are signed in to Rapport on this computer. Nothing you write goes to server logs.\n"
    "- If you choose to **stay anonymous**, we keep no name or contact details; we can only "
    "reply on the follow-up page, with the reference and receipt code you get next.\n"
    "- Be aware that the details you describe may themselves point to you.": (
        "- **Conservé :** ce que vous écrivez dans ce formulaire, la catégorie et la date de "
        "réception.\n"
        "- **Non conservé :** votre adresse IP, votre navigateur, les cookies ou tout compte, "
        "même si vous avez ouvert une session Rapport sur cet ordinateur. Rien de ce que vous "
        "écrivez n'apparaît dans les journaux du serveur.\n"
        "- Si vous choisissez de **rester anonyme**, nous ne gardons ni nom ni coordonnées ; "
        "nous ne pouvons vous répondre que sur la page de suivi, avec la référence et le code "
        "de reçu qui vous seront remis à l'étape suivante.\n"
        "- Sachez que les faits que vous décrivez peuvent, à eux seuls, permettre de vous "
        "reconnaître."
    ),
    "What happened": "Ce qui s'est passé",
    "Describe what happened in your own words. Plain text: formatting is not applied.": (
        "Décrivez ce qui s'est passé avec vos propres mots. Texte brut : la mise en forme "
        "n'est pas appliquée."
    ),
    "Where and when (optional)": "Où et quand (facultatif)",
    "Date it happened (optional)": "Date des faits (facultatif)",
    "People involved (optional)": "Personnes concernées (facultatif)",
    "**A few questions about this kind of concern** (optional)": (
        "**Quelques questions sur ce type de signalement** (facultatif)"
    ),
    "Before anyone sees them, we remove what files say about where they came from: a "
    "photo's camera, place and time, a document's author. The file names are not kept.": (
        "Avant que quiconque ne les voie, nous retirons ce que les fichiers disent de leur "
        "origine : l'appareil, le lieu et l'heure d'une photo, l'auteur d'un document. Les "
        "noms des fichiers ne sont pas conservés."
    ),
    "How urgent does it feel?": "À quel point est-ce urgent, selon vous ?",
    "low": "faible",
    "medium": "moyenne",
    "high": "élevée",
    "Who you are": "Qui vous êtes",
    "Stay anonymous": "Rester anonyme",
    "Leave my contact details": "Laisser mes coordonnées",
    "Reviewers who should NOT see this concern (optional)": (
        "Personnes chargées de l'examen qui ne doivent PAS voir ce signalement (facultatif)"
    ),
    "Choose options": "Choisissez une ou plusieurs personnes",
    "For example someone involved, or close to someone involved.": (
        "Par exemple une personne impliquée, ou proche d'une personne impliquée."
    ),
    "Send my concern": "Envoyer mon signalement",
    # Follow up a concern
    "Follow up a concern": "Suivre un signalement",
    "Enter the case reference and the receipt code you were given. After five wrong codes "
    "in one hour, this browser has to wait until the hour is over; nobody else's wrong "
    "codes count against you.": (
        "Saisissez la référence du dossier et le code de reçu qui vous ont été remis. Après "
        "cinq codes erronés en une heure, ce navigateur doit attendre la fin de l'heure ; les "
        "erreurs des autres personnes ne comptent pas contre vous."
    ),
    "Receipt code": "Code de reçu",
    "Open my case": "Ouvrir mon dossier",
    "Status": "État",
    "Received": "Reçu le",
    "Messages and updates": "Messages et mises à jour",
    "Add information or reply": "Ajouter des informations ou répondre",
    "Your message": "Votre message",
    "What a file says about where it came from (a photo's camera, place and time, a "
    "document's author) is removed before the case team sees it.": (
        "Ce qu'un fichier dit de son origine (l'appareil, le lieu et l'heure d'une photo, "
        "l'auteur d'un document) est retiré avant que l'équipe chargée du dossier ne le voie."
    ),
    "Send": "Envoyer",
    "Sent. The case team will see your message.": (
        "Envoyé. L'équipe chargée du dossier verra votre message."
    ),
    # Your preferences
    "Choose what you hear from {organisation} and how. Each change takes effect at once "
    "and is kept as a record of your choice.": (
        "Choisissez ce que vous recevez de {organisation}, et par quel moyen. Chaque "
        "modification prend effet immédiatement et est conservée comme trace de votre choix."
    ),
    "Saved: you agreed.": "Enregistré : vous avez donné votre accord.",
    "Saved: we will stop.": "Enregistré : nous arrêtons.",
    "There is nothing to choose yet.": "Il n'y a encore rien à choisir.",
    "Wording version {version}": "Version du texte : {version}",
    "Currently: {state}": "Actuellement : {state}",
    "granted": "accord donné",
    "withdrawn": "accord retiré",
    "objected": "opposition",
    "expired": "accord expiré",
    "no record": "aucun choix enregistré",
    "Phone calls": "Appels téléphoniques",
    "Text messages": "SMS",
    "Post": "Courrier",
    "Download the receipt of your agreement ({channel})": (
        "Télécharger le reçu de votre accord ({channel})"
    ),
    "email": "e-mail",
    "phone calls": "appels téléphoniques",
    "text messages": "SMS",
    "post": "courrier",
    "How should we reach you?": "Par quel moyen vous contacter ?",
    "Preferred channel": "Moyen préféré",
    "No preference": "Aucune préférence",
    "Text message": "SMS",
    "Saved: we will use the channel you chose.": (
        "Enregistré : nous utiliserons le moyen que vous avez choisi."
    ),
    "Stop everything": "Tout arrêter",
    "Withdraws every agreement above, on every channel, in one click.": (
        "Retire en un clic tous les accords ci-dessus, sur tous les canaux."
    ),
    "Nothing was in force, so nothing changed.": (
        "Aucun accord n'était en vigueur : rien n'a changé."
    ),
    "Done: 1 agreement withdrawn.": "C'est fait : 1 accord retiré.",
    "Done: {count} agreements withdrawn.": "C'est fait : {count} accords retirés.",
    # Your data and your rights
    "Ask {organisation} what it holds about you, or to correct, erase, stop using or hand "
    "over your data. We answer within one month.": (
        "Demandez à {organisation} quelles données elle détient sur vous, ou de les corriger, "
        "de les effacer, de cesser de les utiliser ou de vous les remettre. Nous répondons "
        "dans un délai d'un mois."
    ),
    "Make a request": "Faire une demande",
    "Follow a request": "Suivre une demande",
    "Your request is registered. Its reference is {reference}: keep it to follow the "
    "request. We answer by {day}.": (
        "Votre demande est enregistrée. Sa référence est {reference} : conservez-la pour "
        "suivre la demande. Nous répondrons au plus tard le {day}."
    ),
    "Make another request": "Faire une autre demande",
    "What would you like?": "Que souhaitez-vous ?",
    "Tell me what you hold on me (a copy of my data)": (
        "Savoir ce que vous détenez sur moi (une copie de mes données)"
    ),
    "Give me my data in a machine-readable file, to take elsewhere": (
        "Recevoir mes données dans un fichier lisible par machine, pour les transmettre ailleurs"
    ),
    "Correct something you hold about me": "Corriger une information que vous détenez sur moi",
    "Erase my data": "Effacer mes données",
    "Stop using my data for marketing or profiling": (
        "Ne plus utiliser mes données pour la prospection ou le profilage"
    ),
    "Stop using my data while a question is settled": (
        "Ne plus utiliser mes données le temps qu'une question soit réglée"
    ),
    "Your email address": "Votre adresse e-mail",
    "We send a code to this address to check it is yours.": (
        "Nous envoyons un code à cette adresse pour vérifier qu'elle est bien la vôtre."
    ),
    "Anything we should know (optional)": "Ce que nous devrions savoir (facultatif)",
    "For a correction, say what is wrong; otherwise leave it empty.": (
        "Pour une correction, indiquez ce qui est inexact ; sinon, laissez ce champ vide."
    ),
    "Send me a code": "M'envoyer un code",
    "We have sent a code to the address you gave. Enter it here to register your request. "
    "(If it does not arrive within a few minutes, check the address.)": (
        "Nous avons envoyé un code à l'adresse indiquée. Saisissez-le ici pour enregistrer "
        "votre demande. (S'il n'arrive pas d'ici quelques minutes, vérifiez l'adresse.)"
    ),
    "Code from the email": "Code reçu par e-mail",
    "Register my request": "Enregistrer ma demande",
    "Start again": "Recommencer",
    "Reference": "Référence",
    "Received {received} · answer due by {due}": (
        "Reçue le {received} · réponse au plus tard le {due}"
    ),
    "Email me a code to download": "M'envoyer par e-mail un code de téléchargement",
    "Show my download": "Afficher mon téléchargement",
    "Your data is ready.": "Vos données sont prêtes.",
    "Download your data (JSON)": "Télécharger vos données (JSON)",
    "Download a readable summary": "Télécharger un résumé lisible",
    # Ask us
    "Ask {organisation} a question and tell us how you would like the answer. Someone from "
    "the team will answer the way you choose.": (
        "Posez une question à {organisation} et dites-nous comment vous souhaitez recevoir la "
        "réponse. Un membre de l'équipe vous répondra de la façon choisie."
    ),
    "Thank you: your question is with the team, and they will answer the way you asked. "
    "You can close this page.": (
        "Merci : votre question a été transmise à l'équipe, qui vous répondra de la façon "
        "demandée. Vous pouvez fermer cette page."
    ),
    "Ask another question": "Poser une autre question",
    "Your question": "Votre question",
    "How should we answer?": "Comment souhaitez-vous recevoir la réponse ?",
    "Phone call": "Appel téléphonique",
    "Email address": "Adresse e-mail",
    "Phone number": "Numéro de téléphone",
    "With the country code, e.g. +44 20 7946 0018.": (
        "Avec l'indicatif du pays, par exemple +33 1 99 00 12 34."
    ),
    "Postal address (to answer by post)": "Adresse postale (pour une réponse par courrier)",
    "When can we reach you? (optional)": "Quand pouvons-nous vous joindre ? (facultatif)",
    "e.g. weekdays after 5 pm": "par exemple en semaine après 17 h",
    "We use these details only to answer you and keep a record of your question with your "
    "details. See “Your data and rights” to ask what we hold.": (
        "Nous n'utilisons ces informations que pour vous répondre, et gardons une trace de "
        "votre question avec vos coordonnées. Consultez « Vos données et vos droits » pour "
        "savoir ce que nous détenons."
    ),
    "Send my question": "Envoyer ma question",
}

MESSAGES: dict[str, dict[str, str]] = {"fr": _FR}

# French typography: the space before : ; ? ! and inside « » never breaks a line. The table
# is written with plain spaces (readable, and the same as typed); t() makes them fixed.
_FIXED_SPACES = {"fr": re.compile(r" (?=[:;?!»])|(?<=«) ")}


def current_language() -> str:
    """The visitor's language: chosen on the page, or given in the link (?lang=fr)."""
    chosen = st.session_state.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    asked = str(st.query_params.get("lang", ""))
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def t(text: str, /, **values: object) -> str:
    """`text` in the visitor's language (English when untranslated), placeholders filled."""
    language = current_language()
    translated = MESSAGES.get(language, {}).get(text)
    if translated is None:
        return text.format(**values) if values else text
    spaces = _FIXED_SPACES.get(language)
    if spaces is not None:
        translated = spaces.sub("\u00a0", translated)
    return translated.format(**values) if values else translated


def long_date(day: date, *, abbreviated: bool = False) -> str:
    """A date written out in the visitor's language (04 December 2026 / 4 décembre 2026;
    abbreviated: 04 Dec 2026 / 4 déc. 2026)."""
    return written_date(day, current_language(), abbreviated=abbreviated)


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
