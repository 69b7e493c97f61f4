"""The words of survey emails: default invitation and reminder wording in each language,
HR's own wording per survey and language, and the email written from them.

Wording holds placeholders (`{first_name}`, `{survey_title}`, `{close_date}`, `{link}`,
`{organisation}`), checked when HR saves: an unknown one is refused with the list of
known ones, and the body must hold `{link}`. A language HR has not written for uses the
default wording of that language. One email carries a part per language the survey
offers (its own first), each with its link opening the answering page in that language.

HR's text is text, never markup: in the HTML part every character of it (and of the
values filled in) is escaped, and the only markup is Rapport's own layout. What the
survey stores, said in each language, follows the body and cannot be edited away.
"""

import base64
import html
import string
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.branding import Logo, brand_colour, logo, organisation_name
from db.core.errors import ValidationError
from db.core.types import utcnow
from db.models.auth import Role
from db.models.surveys import Survey, SurveyMailWording
from db.surveys.builder import get_survey
from db.surveys.languages import (
    LANGUAGES,
    check_language,
    stored_statement,
    survey_languages,
    translations,
    written_date,
)

KINDS = {"invitation": "Invitation", "reminder": "Reminder"}
SUBJECT_MAX = 200
BODY_MAX = 4000
LOGO_CID = "organisation-logo@rapport"
# What each placeholder becomes; the order is the order HR is shown them in.
PLACEHOLDERS = {
    "first_name": "the person's first name",
    "survey_title": "the survey's title, in the email's language",
    "close_date": "the day the survey closes",
    "link": "the person's own link (required in the body)",
    "organisation": "your organisation's name",
}

_YOUR_LINK_EN = "Your personal link (use it once, do not forward it):\n{link}"
_YOUR_LINK_FR = "Votre lien personnel (à utiliser une seule fois, ne le transférez pas) :\n{link}"
DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "invitation": (
            "{survey_title}: tell us what you think",
            "Hello {first_name},\n\nPlease tell us what you think in “{survey_title}” by "
            f"{{close_date}}.\n\n{_YOUR_LINK_EN}\n\nThank you,\n{{organisation}}",
        ),
        "reminder": (
            "Reminder: {survey_title}",
            "Hello {first_name},\n\nThere is still time to answer “{survey_title}”: it "
            f"closes on {{close_date}}.\n\n{_YOUR_LINK_EN}\n\nThank you,\n{{organisation}}",
        ),
    },
    "fr": {
        "invitation": (
            "{survey_title} : donnez-nous votre avis",
            "Bonjour {first_name},\n\nDites-nous ce que vous pensez dans « {survey_title} » "
            f"d'ici le {{close_date}}.\n\n{_YOUR_LINK_FR}\n\nMerci,\n{{organisation}}",
        ),
        "reminder": (
            "Rappel : {survey_title}",
            "Bonjour {first_name},\n\nIl est encore temps de répondre à « {survey_title} » : "
            f"le questionnaire ferme le {{close_date}}.\n\n{_YOUR_LINK_FR}\n\nMerci,\n"
            "{organisation}",
        ),
    },
}
# Rapport's own words in the email, around HR's: the button, the fallback address, and
# the footer of a customer survey (with the link to stop such emails).
FIXED = {
    "en": {
        "button": "Open the survey",
        "copy": "If the button does not work, copy this address into your browser:",
        "stop": (
            "You receive this because you agreed to be asked for your feedback. To stop, or "
            "to change what you hear from us: {url}"
        ),
    },
    "fr": {
        "button": "Ouvrir le questionnaire",
        "copy": "Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :",
        "stop": (
            "Vous recevez ce message parce que vous avez accepté qu'on vous demande votre "
            "avis. Pour ne plus en recevoir, ou changer ce que vous recevez de nous : {url}"
        ),
    },
}


@dataclass(frozen=True)
class Wording:
    """A subject and body with placeholders; `edited` when HR wrote it for this survey."""

    subject: str
    body: str
    edited: bool = False


def _label(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError(f"Unknown email {kind!r}: choose invitation or reminder.")
    return KINDS[kind]


def default_wording(language: str, kind: str) -> Wording:
    """Rapport's wording of an email in `language` (English where it has none)."""
    _label(kind)
    subject, body = DEFAULTS.get(language, DEFAULTS["en"])[kind]
    return Wording(subject, body)


def _known() -> str:
    names = [f"{{{name}}}" for name in PLACEHOLDERS]
    return ", ".join(names[:-1]) + f" or {names[-1]}"


def _fields(text: str, where: str) -> set[str]:
    """The placeholders in `text`, or ValidationError naming `where` and the fix."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as err:
        raise ValidationError(
            f"{where}: a {{ or }} without its pair. Write a placeholder such as "
            "{first_name}, or {{ and }} for a brace itself.",
            field="wording",
        ) from err
    found = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = f"{{{name}}}" if name else "{}"
            raise ValidationError(
                f"{where}: {shown} is not a placeholder. Use {_known()}; write {{{{ and }}}} "
                "for a brace itself.",
                field="wording",
            )
        if spec or conversion:
            raise ValidationError(
                f"{where}: write the placeholder plainly, as {{{name}}}, without ':' or '!'.",
                field="wording",
            )
        found.add(name)
    return found


def check_wording(kind: str, subject: str, body: str) -> Wording:
    """HR's wording cleaned and checked, or ValidationError with a sentence naming the fix."""
    label = _label(kind)
    # NUL is no character of a letter (and marks placeholders while the HTML is written).
    subject = " ".join((subject or "").replace("\x00", "").split())
    body = (body or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not subject:
        raise ValidationError(f"{label} subject: write one.", field="subject")
    if len(subject) > SUBJECT_MAX:
        raise ValidationError(
            f"{label} subject: at most {SUBJECT_MAX} characters.", field="subject"
        )
    if len(body) > BODY_MAX:
        raise ValidationError(f"{label} text: at most {BODY_MAX} characters.", field="body")
    if "link" in _fields(subject, f"{label} subject"):
        raise ValidationError(
            f"{label} subject: {{link}} belongs in the text, not the subject.", field="subject"
        )
    if "link" not in _fields(body, f"{label} text"):
        raise ValidationError(
            f"{label} text: put {{link}} where the person's link goes; without it nobody "
            "can answer.",
            field="body",
        )
    return Wording(subject, body, edited=True)


def wording(*, session: Session, survey_id: int, language: str, kind: str) -> Wording:
    """The survey's wording of an email in `language`: HR's, else the default."""
    saved = session.get(SurveyMailWording, (survey_id, language, kind))
    if saved is None:
        return default_wording(language, kind)
    return Wording(saved.subject, saved.body, edited=True)


@dataclass(frozen=True)
class Draft:
    """HR's wording of one email in one language, as typed (to save or to preview)."""

    language: str
    kind: str
    subject: str
    body: str


def _keep(
    session: Session, actor: Actor, action: str, survey_id: int, language: str, kind: str
) -> None:
    record(
        session=session,
        actor=actor,
        action=action,
        entity="survey",
        entity_id=survey_id,
        details={"kind": kind, "language": language},
    )
    session.commit()


def save_wording(*, session: Session, actor: Actor, survey_id: int, draft: Draft) -> Wording:
    """Keep HR's wording of the survey's invitation or reminder in a language (HR)."""
    require_role(actor, Role.hr, doing="word survey emails")
    language, kind = check_language(draft.language), draft.kind
    get_survey(session=session, survey_id=survey_id)
    checked = check_wording(kind, draft.subject, draft.body)
    saved = session.get(SurveyMailWording, (survey_id, language, kind)) or SurveyMailWording(
        survey_id=survey_id, language=language, kind=kind, subject="", body=""
    )
    saved.subject, saved.body, saved.updated_at = checked.subject, checked.body, utcnow()
    session.add(saved)
    _keep(session, actor, "survey.wording", survey_id, language, kind)
    return checked


def reset_wording(
    *, session: Session, actor: Actor, survey_id: int, language: str, kind: str
) -> Wording:
    """Go back to the default wording of an email in `language` (HR)."""
    require_role(actor, Role.hr, doing="word survey emails")
    check_language(language)
    _label(kind)
    saved = session.get(SurveyMailWording, (survey_id, language, kind))
    if saved is not None:
        session.delete(saved)
        _keep(session, actor, "survey.wording.reset", survey_id, language, kind)
    return default_wording(language, kind)


@dataclass(frozen=True)
class Part:
    """One language's part of an email, before a person's values are filled in."""

    language: str
    wording: Wording
    title: str
    close_date: str
    stored: str


@dataclass(frozen=True)
class Mail:
    """A written email: subject, plain text, and HTML (its logo as cid:, if any)."""

    subject: str
    text: str
    html: str
    logo: Logo | None


@dataclass(frozen=True)
class Letter:
    """A survey email ready to be written for each person: its parts, one per language."""

    parts: list[Part]
    organisation: str
    colour: str
    logo: Logo | None

    def write(
        self, first_name: str, link: Callable[[str], str], stop_url: str | None = None
    ) -> Mail:
        """The email to one person; `link(language)` is their link for that language."""
        texts, blocks, subjects = [], [], []
        for part in self.parts:
            values = {
                "first_name": first_name,
                "survey_title": part.title,
                "close_date": part.close_date,
                "link": link(part.language),
                "organisation": self.organisation,
            }
            subjects.append(part.wording.subject.format_map(values))
            fixed = FIXED.get(part.language, FIXED["en"])
            stop = fixed["stop"].format(url=stop_url) if stop_url else ""
            texts.append(
                "\n\n".join(
                    p for p in (part.wording.body.format_map(values), part.stored, stop) if p
                )
            )
            blocks.append(self._block(part, values, fixed, stop_url))
        rule = "\n\n" + "—" * 24 + "\n\n"
        return Mail(
            " / ".join(dict.fromkeys(subjects)),
            rule.join(texts) + "\n",
            self._page(blocks),
            self.logo,
        )

    def _block(
        self, part: Part, values: dict[str, str], fixed: dict[str, str], stop_url: str | None
    ) -> str:
        url = html.escape(values["link"], quote=True)
        button = (
            f'<a href="{url}" style="display:inline-block;background:{self.colour};'
            "color:#ffffff;text-decoration:none;font-weight:bold;padding:10px 18px;"
            f'border-radius:6px">{html.escape(fixed["button"])}</a>'
        )
        body = _html_paragraphs(part.wording.body, values, {"link": button})
        small = 'style="color:#4a5552;font-size:13px;line-height:1.5"'
        stop = ""
        if stop_url:
            safe = html.escape(stop_url, quote=True)
            words = html.escape(fixed["stop"]).replace(
                "{url}", f'<a href="{safe}" style="color:{self.colour}">{safe}</a>'
            )
            stop = f"<p {small}>{words}</p>"
        return (
            f'<div lang="{html.escape(part.language)}">{body}'
            f"<p {small}>{html.escape(fixed['copy'])}<br>"
            f'<a href="{url}" style="color:{self.colour};word-break:break-all">{url}</a></p>'
            f"<p {small}>{html.escape(part.stored)}</p>{stop}</div>"
        )

    def _page(self, blocks: list[str]) -> str:
        name = html.escape(self.organisation)
        mark = (
            f'<img src="cid:{LOGO_CID}" alt="{name}" style="max-height:48px;max-width:160px;'
            'vertical-align:middle;margin-right:12px">'
            if self.logo
            else ""
        )
        rule = '<hr style="border:none;border-top:1px solid #d5dcd9;margin:24px 0">'
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            '<body style="margin:0;padding:0;background:#f2f5f3">'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            'style="background:#f2f5f3"><tr><td align="center" style="padding:16px">'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
            'style="max-width:600px;background:#ffffff;border-radius:8px;'
            "font-family:Arial,Helvetica,sans-serif;color:#0b1412;font-size:16px;"
            'line-height:1.5">'
            f'<tr><td style="padding:16px 24px;border-bottom:4px solid {self.colour};'
            f'color:{self.colour};font-size:20px;font-weight:bold">{mark}{name}</td></tr>'
            f'<tr><td style="padding:24px">{rule.join(blocks)}</td></tr>'
            "</table></td></tr></table></body></html>"
        )


def _html_paragraphs(template: str, values: dict[str, str], markup: dict[str, str]) -> str:
    """`template` filled in as HTML paragraphs: everything escaped but Rapport's `markup`."""
    marks = {name: f"\x00{name}\x00" for name in values}
    escaped = html.escape(template.format_map(marks))
    for name, mark in marks.items():
        escaped = escaped.replace(mark, markup.get(name) or html.escape(values[name]))
    paragraphs = [p.strip() for p in escaped.split("\n\n") if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _part(session: Session, survey: Survey, language: str, chosen: Wording) -> Part:
    done = translations(session=session, survey_id=survey.id or 0, language=language)
    return Part(
        language,
        chosen,
        done.get("title", survey.title) if language != survey.language else survey.title,
        written_date(survey.closes_on, language),
        stored_statement(survey, language),
    )


def letter(*, session: Session, survey_id: int, kind: str) -> Letter:
    """The survey's invitation or reminder in every language it offers, its own first.

    Raises LogoUnusable when RAPPORT_ORG_LOGO names a file that cannot be sent, so a
    send stops before the first email rather than going out without the logo.
    """
    _label(kind)
    survey = get_survey(session=session, survey_id=survey_id)
    parts = [
        _part(
            session,
            survey,
            language,
            wording(session=session, survey_id=survey_id, language=language, kind=kind),
        )
        for language in survey_languages(session=session, survey_id=survey_id)
        if language in LANGUAGES
    ]
    return Letter(parts, organisation_name(), brand_colour(), logo())


@dataclass(frozen=True)
class Preview:
    """How an email will look: its subject, plain text, and HTML to show in a frame."""

    subject: str
    text: str
    html: str


def sample_letter(*, session: Session, survey_id: int, language: str, wording: Wording) -> Letter:
    """A letter holding only `wording` in `language`, to preview it."""
    survey = get_survey(session=session, survey_id=survey_id)
    return Letter(
        [_part(session, survey, language, wording)], organisation_name(), brand_colour(), logo()
    )


def framed(mail: Mail) -> Preview:
    """The mail to show on a page: its logo put inline (data:), so it needs nothing else."""
    # Defence in depth on top of the escaping: the frame runs no script and loads only
    # its inline logo and styles.
    page = mail.html.replace(
        "<head>",
        '<head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        1,
    )
    if mail.logo:
        inline = base64.b64encode(mail.logo.data).decode("ascii")
        page = page.replace(f"cid:{LOGO_CID}", f"data:image/{mail.logo.subtype};base64,{inline}")
    return Preview(mail.subject, mail.text, page)
