"""Two servers on one PostgreSQL race for the same deal and the same survey link.

Each "server" is a separate process with its own engine and connection pool, released
at the same instant; exactly one wins and the other is told why.
"""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from db.auth.accounts import get_user_by_username
from db.auth.actor import OPERATOR
from db.core.engine import make_engine
from db.core.errors import Conflict
from db.demo.fixtures import seed_users
from db.models.pipeline import Deal, DealCreate, DealUpdate, StageChange
from db.models.surveys import SurveyInvitation, SurveyResponse
from db.pipeline.commands import create_deal, move_deal, update_deal
from db.pipeline.setup import StageSpec, create_pipeline, list_stages
from db.surveys.answers import LinkProblem, submit_answers
from tests.conftest import IN_CI, POSTGRES_URL, ROOT, drop_postgres_schema, fresh_engine
from tests.integration.test_surveys import answers_for, opened_pulse


def act_in_child(schema: str, action: str, args_json: str, go_file: str) -> None:
    """Run in a child process: connect, say ready, then act when `go_file` appears."""
    engine = make_engine(POSTGRES_URL)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    args = json.loads(args_json)
    with Session(engine, expire_on_commit=False) as session:
        actor = get_user_by_username(session=session, username=args.get("user", "admin"))
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while not Path(go_file).exists():
            time.sleep(0.001)
        try:
            if action == "move":
                move_deal(
                    session=session,
                    deal_id=args["deal"],
                    stage_id=args["stage"],
                    version=args["version"],
                    actor=actor,  # type: ignore[arg-type]
                )
            elif action == "edit":
                update_deal(
                    session=session,
                    deal_id=args["deal"],
                    patch=DealUpdate(title=args["title"]),
                    version=args["version"],
                    actor=actor,  # type: ignore[arg-type]
                )
            else:
                answers = {int(k): v for k, v in args["answers"].items()}
                submit_answers(session=session, token=args["token"], answers=answers)
            sys.stdout.write("won\n")
        except (Conflict, LinkProblem) as err:
            sys.stdout.write(f"lost {err}\n")
    engine.dispose()


def race(schema: str, tmp_path: Path, runs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Start one process per run, release them together, return their outcome lines."""
    go_file = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.integration.test_server_races import act_in_child;"
                " act_in_child(*sys.argv[1:5])",
                schema,
                action,
                json.dumps(args),
                str(go_file),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for action, args in runs
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    go_file.touch()  # every process is connected and waiting: release them together
    outcomes = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        outcomes.append(out.strip())
    return sorted(outcomes)


@pytest.fixture
def shared() -> Iterator[tuple[Engine, str, Path]]:
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("RAPPORT_TEST_POSTGRES_URL is required in CI")
        pytest.skip("RAPPORT_TEST_POSTGRES_URL is not set")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        engine, schema = fresh_engine("postgresql", Path(tmp))
        assert schema is not None
        try:
            SQLModel.metadata.create_all(engine)
            yield engine, schema, Path(tmp)
        finally:
            drop_postgres_schema(engine, schema)


def a_deal(engine: Engine) -> tuple[int, int, list[int]]:
    """A deal owned by `sales`, its version, and the ids of its pipeline's stages."""
    with Session(engine, expire_on_commit=False) as session:
        seed_users(session=session)
        pipeline = create_pipeline(
            session=session,
            name="New business",
            stages=[
                StageSpec("Lead", 10, 7),
                StageSpec("Qualified", 40, None),
                StageSpec("Proposal", 60, None),
            ],
            actor=OPERATOR,
        )
        stages = list_stages(session=session, pipeline_id=pipeline.id or 0, actor=OPERATOR)
        owner = get_user_by_username(session=session, username="sales")
        assert owner is not None
        deal = create_deal(
            session=session,
            deal_in=DealCreate.model_validate(
                {"title": "Care records", "pipeline_id": pipeline.id, "amount": Decimal("900")}
            ),
            actor=owner,
        )
        return deal.id or 0, deal.version, [s.id or 0 for s in stages]


def test_two_servers_moving_one_deal_with_the_same_version_yield_one_move(
    shared: tuple[Engine, str, Path],
) -> None:
    engine, schema, tmp = shared
    deal_id, version, stages = a_deal(engine)
    outcomes = race(
        schema,
        tmp,
        [
            ("move", {"user": "sales", "deal": deal_id, "stage": stages[1], "version": version}),
            ("move", {"user": "admin", "deal": deal_id, "stage": stages[2], "version": version}),
        ],
    )
    assert outcomes[1] == "won"
    assert outcomes[0].startswith("lost Care records was changed by")
    with Session(engine) as session:
        deal = session.get(Deal, deal_id)
        assert deal is not None and deal.version == version + 1
        assert deal.stage_id in stages[1:]
        moves = session.exec(
            select(StageChange).where(StageChange.deal_id == deal_id, StageChange.event == "moved")
        ).all()
        assert [m.to_stage_id for m in moves] == [deal.stage_id]


def test_two_servers_editing_one_deal_with_the_same_version_keep_one_edit(
    shared: tuple[Engine, str, Path],
) -> None:
    engine, schema, tmp = shared
    deal_id, version, _stages = a_deal(engine)
    outcomes = race(
        schema,
        tmp,
        [
            ("edit", {"user": "sales", "deal": deal_id, "title": "From A", "version": version}),
            ("edit", {"user": "admin", "deal": deal_id, "title": "From B", "version": version}),
        ],
    )
    assert outcomes[1] == "won"
    assert outcomes[0].startswith("lost") and "was changed by" in outcomes[0]
    with Session(engine) as session:
        deal = session.get(Deal, deal_id)
        assert deal is not None and deal.version == version + 1
        assert deal.title in {"From A", "From B"}
        # The loser is told who saved first, by the title that person gave it.
        winner = "Sam Sales" if deal.title == "From A" else "Ada Admin"
        assert outcomes[0].startswith(f"lost {deal.title} was changed by")
        assert f"was changed by {winner}" in outcomes[0]


def test_two_servers_submitting_one_survey_link_store_one_response(
    shared: tuple[Engine, str, Path],
) -> None:
    engine, schema, tmp = shared
    with Session(engine, expire_on_commit=False) as session:
        sid, (token, *_) = opened_pulse(session)
        answers = {str(q): a for q, a in answers_for(session, sid, 4).items()}
    run = ("answer", {"token": token, "answers": answers})
    outcomes = race(schema, tmp, [run, run])
    assert outcomes[1] == "won"
    assert outcomes[0].startswith("lost") and "already been used" in outcomes[0]
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(SurveyResponse)).one() == 1
        answered = session.exec(
            select(func.count()).select_from(SurveyInvitation).where(SurveyInvitation.answered)
        ).one()
        assert answered == 1
