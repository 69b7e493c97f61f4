"""The leader's PDF of one survey group shows what the results screen shows, nothing more."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

import manage
from db.auth.actor import OPERATOR
from db.core.engine import reset_engines, session_scope
from db.core.errors import DomainError, Forbidden
from db.models.auth import Role
from db.surveys import leader_report
from db.surveys.answers import submit_answers
from db.surveys.builder import close_survey
from db.surveys.distribution import open_survey
from db.surveys.held import flush_held_answers
from db.surveys.leader_report import leader_pdf, pdf_file_name
from tests.integration.test_surveys import TODAY, answers_for, new_survey, staff, tokens_of, user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NORTH = "d:Sales/t:North"
SOUTH = "d:Sales/t:South"


def closed_survey(session: Session) -> int:
    """North: 6 answer 5 (all favourable). South: 2 of 5 answer (too few). East: 5 answer 2."""
    staff(session, {("Sales", "North"): 6, ("Sales", "South"): 5, ("Sales", "East"): 5})
    sid = new_survey(session, comment_min=5).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    tokens = tokens_of(session, sid)
    said = {"North": (range(1, 7), 5), "South": (range(7, 9), 1), "East": (range(12, 17), 2)}
    for team, (numbers, score) in said.items():
        for i in numbers:
            submit_answers(
                session=session,
                token=tokens[f"p{i}@example.org"],
                answers=answers_for(session, sid, score, f"{team.lower()} remark {i}"),
            )
    flush_held_answers(session=session, survey_id=sid)
    close_survey(session=session, survey_id=sid, actor=OPERATOR)
    return sid


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_of_a_shown_group_carries_its_figures_and_comments(session: Session) -> None:
    sid = closed_survey(session)
    hr = user(session, "hana", Role.hr)
    pdf = leader_pdf(session=session, survey_id=sid, group_key=NORTH, actor=hr)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "leader-report.pdf").write_bytes(pdf)  # kept to be looked at
    text = text_of(pdf)
    assert "Pulse" in text
    assert "Group: North" in text
    assert "Prepared for: Hana" in text
    assert f"Date: {TODAY.isoformat()}" in text
    assert "Responses: 6" in text
    assert "Engagement index: 100%" in text
    assert "north remark 3" in text
    # The department (13 answers, 6 favourable) on the heat map of the groups HR sees.
    assert "46%" in text
    assert "south remark" not in text and "east remark" not in text


def test_the_pdf_of_a_hidden_group_says_why_and_shows_none_of_it(session: Session) -> None:
    sid = closed_survey(session)
    hr = user(session, "hana", Role.hr)
    text = text_of(leader_pdf(session=session, survey_id=sid, group_key=SOUTH, actor=hr))
    assert "Group: South" in text
    assert "fewer than 5 responses" in text
    assert "Favourability by theme" not in text and "Comments" not in text
    assert "south remark" not in text
    # Its participation row: five invited, the number who answered withheld.
    assert re.search(r"South\s+5\s+–", text), text
    assert not re.search(r"South\s+5\s+2\b", text)


def test_a_manager_gets_their_team_and_is_refused_another(session: Session) -> None:
    sid = closed_survey(session)
    maya = user(session, "maya", Role.manager, "North")
    text = text_of(leader_pdf(session=session, survey_id=sid, group_key=NORTH, actor=maya))
    assert "Responses: 6" in text and "Prepared for: Maya" in text
    assert "South" not in text and "East" not in text
    with pytest.raises(Forbidden):
        leader_pdf(session=session, survey_id=sid, group_key=SOUTH, actor=maya)
    with pytest.raises(Forbidden):
        leader_pdf(session=session, survey_id=sid, group_key="all", actor=maya)


def test_a_missing_font_file_is_named_with_the_package_to_install(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leader_report, "FONT_DIR", tmp_path)
    hr = user(session, "hana", Role.hr)
    with pytest.raises(DomainError) as refused:
        leader_pdf(session=session, survey_id=1, group_key="all", actor=hr)
    assert str(tmp_path / "DejaVuSans.ttf") in str(refused.value)
    assert "fonts-dejavu-core" in str(refused.value)


def test_an_open_survey_gives_participation_and_no_results(session: Session) -> None:
    staff(session, {("Sales", "North"): 6})
    sid = new_survey(session).id or 0
    open_survey(session=session, survey_id=sid, actor=OPERATOR)
    hr = user(session, "hana", Role.hr)
    text = text_of(leader_pdf(session=session, survey_id=sid, group_key="all", actor=hr))
    assert "This survey is open: results are shown once the survey closes" in text
    assert "Engagement index" not in text and "Favourability by theme" not in text


def test_the_file_name_keeps_letters_and_digits_of_title_and_group() -> None:
    assert pdf_file_name("Pulse / Q3: 2026", "North") == "Pulse-Q3-2026-North.pdf"


def test_the_command_line_writes_each_groups_pdf_for_leaders_who_never_open_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert manage.main(["migrate"]) == 0
        capsys.readouterr()
        with session_scope() as session:
            sid = closed_survey(session)
        out_dir = tmp_path / "pdfs"
        assert manage.main(["survey-report", str(sid), "--out-dir", str(out_dir)]) == 0
        lines = capsys.readouterr().out.splitlines()
        written = sorted(out_dir.iterdir())
        # The whole survey, the department and its three teams: one file each.
        assert len(written) == len(lines) == 5
        south = next(line for line in lines if "(South; withheld" in line)
        south_text = text_of(Path(south.split("  (")[0]).read_bytes())
        assert "south remark" not in south_text and "withheld" in south_text.lower()
        north = next(line for line in lines if "(North; results)" in line)
        assert "Group: North" in text_of(Path(north.split("  (")[0]).read_bytes())

        assert (
            manage.main(["survey-report", str(sid), "--out-dir", str(out_dir), "--group", NORTH])
            == 0
        )
        assert len(capsys.readouterr().out.splitlines()) == 1
        assert (
            manage.main(
                ["survey-report", str(sid), "--out-dir", str(out_dir), "--group", "d:Nowhere"]
            )
            == 2
        )
        assert "has no group 'd:Nowhere'" in capsys.readouterr().err
        assert manage.main(["survey-report", "999999", "--out-dir", str(out_dir)]) == 1
    finally:
        reset_engines()
