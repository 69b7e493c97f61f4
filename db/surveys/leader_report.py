"""A leader's PDF of one survey group: exactly what the results screen shows, nothing more.

Every figure comes from the same db/surveys/reports.py functions the screen calls, under
the same actor, so a group the screen hides is hidden here too (its reason is printed,
never its numbers), and a manager asking for another team's group gets Forbidden.
Rendered by fpdf2 with a font embedded from disk: nothing is fetched from the internet.
"""

import datetime as dt
import re
from pathlib import Path
from typing import Any

from fpdf import FPDF, XPos, YPos  # type: ignore[import-untyped]
from sqlmodel import Session

from db.auth.actor import Actor
from db.core.errors import DomainError, Forbidden
from db.surveys.builder import get_survey
from db.surveys.reports import (
    WHILE_OPEN,
    comments,
    groups,
    heatmap,
    participation,
    results,
    results_released,
    trend,
)
from db.surveys.voice import is_contact_survey

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}  # style -> file, from fonts-dejavu-core


class _Report(FPDF):  # type: ignore[misc]
    def para(self, height: float, text: str) -> None:
        """A full-width paragraph; the next one starts at the left margin below it."""
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("body", size=8)
        self.cell(0, 8, f"Page {self.page_no()} of {{nb}}", align="C")


def _pct(value: object) -> str:
    return "–" if value is None else f"{float(str(value)):.0f}%"


def pdf_file_name(title: str, label: str) -> str:
    """A download name from the survey's title and the group: letters, digits and dashes."""
    return re.sub(r"[^\w]+", "-", f"{title} {label}").strip("-") + ".pdf"


def pdf_unavailable() -> str | None:
    """Why no PDF can be made on this machine (a font file missing), or None."""
    missing = [str(FONT_DIR / name) for name in FONTS.values() if not (FONT_DIR / name).is_file()]
    if not missing:
        return None
    return (
        f"The PDF cannot be made: the font file {missing[0]} is missing. "
        "Install the fonts-dejavu-core package."
    )


def leader_pdf(
    *, session: Session, survey_id: int, group_key: str, actor: Actor, today: dt.date | None = None
) -> bytes:
    """The PDF report of one group this actor may see; Forbidden for any other group."""
    problem = pdf_unavailable()
    if problem:
        raise DomainError(problem)
    visible = {g.key: g for g in groups(session=session, survey_id=survey_id, actor=actor)}
    if group_key not in visible:
        raise Forbidden("You can only see results for your own team.")
    group = visible[group_key]
    survey = get_survey(session=session, survey_id=survey_id)
    pdf = _Report()
    pdf.alias_nb_pages()
    for style, name in FONTS.items():
        pdf.add_font("body", style, str(FONT_DIR / name))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("body", "B", 20)
    pdf.para(10, survey.title)
    pdf.set_font("body", size=12)
    for line in (
        f"Wave {survey.wave}",
        f"Group: {group.label}",
        f"Prepared for: {actor.display_name or actor.username}",
        f"Date: {(today or dt.date.today()).isoformat()}",
    ):
        pdf.para(8, line)
    pdf.ln(4)
    pdf.para(
        6,
        f"Confidential. Results appear only for groups of {survey.min_group} or more "
        f"responses, and comments for groups of {survey.comment_min} or more, exactly as on "
        "the results screen. Do not try to work out who said what.",
    )

    def heading(text: str) -> None:
        if pdf.will_page_break(30):  # never a heading alone at the foot of a page
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("body", "B", 14)
        pdf.para(8, text)
        pdf.set_font("body", size=10)

    def rows(table: list[list[str]], widths: tuple[int, ...] | None = None) -> None:
        with pdf.table(first_row_as_headings=True, col_widths=widths) as t:
            for r in table:
                row = t.row()
                for c in r:
                    row.cell(c)

    heading("Participation")
    turnout = participation(session=session, survey_id=survey_id, actor=actor)
    rows(
        [["Group", "Invited", "Responses"]]
        + [
            [str(r["group"]), str(r.get("invited") or "–"), str(r["responses"] or "–")]
            for r in turnout
        ]
    )
    if not results_released(survey):
        heading("Results")
        pdf.para(6, f"This survey is open: {WHILE_OPEN.format(k=survey.min_group)}.")
        return bytes(pdf.output())
    if not group.shown:
        heading("Results")
        pdf.para(6, f"Results for {group.label} are withheld: {group.reason}.")
        return bytes(pdf.output())
    result = results(session=session, survey_id=survey_id, group_key=group_key, actor=actor)
    heading("Engagement")
    pdf.para(6, f"Responses: {group.n}")
    pdf.para(6, f"Engagement index: {_pct(result.engagement_index)}")
    if result.enps is not None:
        nps = "NPS" if is_contact_survey(survey) else "eNPS"
        pdf.para(6, f"{nps}: {result.enps:+.0f}")
    heading("Favourability by theme")
    rows(
        [["Theme", "Favourable", "Neutral", "Unfavourable"]]
        + [
            [str(f["factor"]), _pct(f["favourable"]), _pct(f["neutral"]), _pct(f["unfavourable"])]
            for f in result.factors
        ]
    )
    heading("Items")
    rows(
        [["Item", "Question", "Favourable"]]
        + [[str(i["code"]), str(i["question"]), _pct(i["favourable"])] for i in result.items],
        widths=(3, 7, 2),
    )
    heading("Your groups")
    cells: list[dict[str, Any]] = heatmap(session=session, survey_id=survey_id, actor=actor)
    rows(
        [["Group", "Theme", "Favourable"]]
        + [
            [
                str(c["group"]),
                str(c["factor"] or ""),
                f"{_pct(c['favourable'])} {c['note']}".strip(),
            ]
            for c in cells
        ]
    )
    waves = trend(session=session, survey_id=survey_id, group_key=group_key, actor=actor)
    index = [r for r in waves if r["code"] == "engagement index"]
    if len(index) > 1:
        heading("Trend: engagement index")
        rows([["Wave", "Favourable"]] + [[str(r["wave"]), _pct(r["favourable"])] for r in index])
    said = comments(session=session, survey_id=survey_id, group_key=group_key, actor=actor)
    heading("Comments")
    if said:
        for text in said:
            pdf.para(6, f"“{text}”")
            pdf.ln(1)
    else:
        pdf.para(6, f"Comments are shown only for groups of {survey.comment_min} or more.")
    return bytes(pdf.output())
