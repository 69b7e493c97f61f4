"""Pipeline settings: pipelines and their stages, and the lost-reason list."""

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.core.errors import ValidationError
from db.models.pipeline import CURRENCIES, LostReason, Pipeline, Stage
from db.pipeline.setup import (
    LOST_REASON_MAX,
    PIPELINE_NAME_MAX,
    STAGE_NAME_MAX,
    STAGES_TEXT_MAX,
    StageSpec,
    add_lost_reason,
    add_stage,
    create_pipeline,
    list_lost_reasons,
    list_pipelines,
    list_stages,
    retire_lost_reason,
    retire_stage,
    update_stage,
)

user = page(__file__)
st.title("Pipeline settings")


def load_pipelines() -> list[Pipeline]:
    with db_session() as session:
        return list_pipelines(session=session, actor=user)


pipelines = attempt(load_pipelines) or []
names = {p.id: p.name for p in pipelines}

st.subheader("Stages")
if pipelines:
    pipeline_id = st.selectbox(
        "Pipeline", list(names), format_func=lambda i: names[i], key="set_pipeline"
    )

    def load_stages() -> list[Stage]:
        with db_session() as session:
            return list_stages(session=session, pipeline_id=pipeline_id or 0, actor=user)

    stages = attempt(load_stages) or []
    table = pd.DataFrame(
        [
            {
                "Id": s.id,
                "Order": s.position,
                "Stage": s.name,
                "Probability %": s.probability,
                "Rotting after (days)": s.rotting_days,
                "Retire": False,
            }
            for s in stages
        ]
    )
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        disabled=["Id"],
        column_config={
            "Probability %": st.column_config.NumberColumn(min_value=0, max_value=100, step=1),
            "Rotting after (days)": st.column_config.NumberColumn(min_value=1, step=1),
            "Order": st.column_config.NumberColumn(min_value=1, step=1),
        },
        key=f"stages_{pipeline_id}",
    )
    if st.button("Save stages", icon=":material/save:", key="save_stages"):

        def save() -> int:
            changed = 0
            with db_session() as session:
                for row in edited.to_dict("records"):
                    stage_id = int(row["Id"])
                    if row["Retire"]:
                        retire_stage(session=session, stage_id=stage_id, actor=user)
                        changed += 1
                        continue
                    rotting = row["Rotting after (days)"]
                    update_stage(
                        session=session,
                        stage_id=stage_id,
                        spec=StageSpec(
                            name=str(row["Stage"] or ""),
                            probability=int(row["Probability %"]),
                            rotting_days=None if pd.isna(rotting) else int(rotting),
                        ),
                        position=int(row["Order"]),
                        actor=user,
                    )
                    changed += 1
            return changed

        saved = attempt(save)
        if saved is not None:
            st.success(f"Saved {saved:,} stage(s).")

    with st.form("add_stage", clear_on_submit=True):
        st.markdown("**Add a stage at the end**")
        left, middle, right = st.columns(3)
        name = left.text_input("Stage name", key="stage_name", max_chars=STAGE_NAME_MAX)
        probability = middle.number_input(
            "Probability %", min_value=0, max_value=100, value=50, key="stage_probability"
        )
        rotting = right.number_input(
            "Rotting after (days, 0 = never)", min_value=0, value=14, key="stage_rotting"
        )
        if st.form_submit_button("Add stage", icon=":material/add:"):

            def add() -> Stage:
                with db_session() as session:
                    return add_stage(
                        session=session,
                        pipeline_id=pipeline_id or 0,
                        spec=StageSpec(name, int(probability), int(rotting) or None),
                        actor=user,
                    )

            attempt(add, success="Stage added.")
else:
    st.info("No pipelines yet: create the first one below.")

with st.expander("New pipeline", icon=":material/add:"):
    with st.form("new_pipeline", clear_on_submit=True):
        pipeline_name = st.text_input(
            "Pipeline name", key="pipeline_name", max_chars=PIPELINE_NAME_MAX
        )
        currency = st.selectbox("Currency", list(CURRENCIES), key="pipeline_currency")
        lines = st.text_area(
            "Stages, one a line: name, probability %, rotting days (optional)",
            value="Lead, 10, 14\nProposal, 50, 10\nNegotiation, 80, 7",
            key="pipeline_stages",
            max_chars=STAGES_TEXT_MAX,
        )
        created = st.form_submit_button("Create pipeline", icon=":material/add:")
    if created:

        def parse() -> list[StageSpec]:
            specs = []
            for number, line in enumerate(lines.splitlines(), start=1):
                if not line.strip():
                    continue
                parts = [p.strip() for p in line.split(",")]
                try:
                    chance = int(parts[1]) if len(parts) > 1 else 0
                    days = int(parts[2]) if len(parts) > 2 and parts[2] else None
                except ValueError:
                    raise ValidationError(
                        f"Stages: line {number} needs whole numbers for probability and days."
                    ) from None
                specs.append(StageSpec(parts[0], chance, days))
            return specs

        def create() -> Pipeline:
            specs = parse()
            with db_session() as session:
                return create_pipeline(
                    session=session,
                    name=pipeline_name,
                    currency=currency,
                    stages=specs,
                    actor=user,
                )

        made = attempt(create)
        if made is not None:
            st.success(f"Created the pipeline {escape_markdown(made.name)}.")

st.subheader("Lost reasons")
st.caption("A lost deal must give one of these reasons.")


def load_reasons() -> list[LostReason]:
    with db_session() as session:
        return list_lost_reasons(session=session, actor=user)


for reason in attempt(load_reasons) or []:
    left, right = st.columns([4, 1])
    left.text(reason.label)
    if right.button("Retire", key=f"retire_reason_{reason.id}"):

        def retire(reason_id: int = reason.id or 0) -> LostReason:
            with db_session() as session:
                return retire_lost_reason(session=session, reason_id=reason_id, actor=user)

        if attempt(retire) is not None:
            st.rerun()
with st.form("add_reason", clear_on_submit=True):
    label = st.text_input("New lost reason", key="reason_label", max_chars=LOST_REASON_MAX)
    if st.form_submit_button("Add reason", icon=":material/add:"):

        def add_reason() -> LostReason:
            with db_session() as session:
                return add_lost_reason(session=session, label=label, actor=user)

        attempt(add_reason, success="Reason added.")
