"""Pipeline settings: pipelines and their stages, and the lost-reason list."""

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.text import count_of, escape_markdown
from components.ui import Failed, act, flash, run
from db.core.errors import ValidationError
from db.models.pipeline import CURRENCIES, Pipeline
from db.pipeline.setup import (
    LOST_REASON_MAX,
    PIPELINE_NAME_MAX,
    STAGE_NAME_MAX,
    STAGES_TEXT_MAX,
    StageEdit,
    StageSpec,
    add_lost_reason,
    add_stage,
    configurable_pipelines,
    create_pipeline,
    list_lost_reasons,
    list_stages,
    retire_lost_reason,
    save_stages,
)

user = page(__file__)
st.title("Pipeline settings")
st.caption(
    "A pipeline's stages are changed by administrators and by the managers of the teams "
    "whose deals are in it."
)
# Bumped after each save, so the stage table is drawn afresh from the database rather
# than keeping the edits of the table it replaced.
ROUND_KEY = "stages_round"


def saved_stages(message: str) -> None:
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1
    flash(message)
    st.rerun()


found = run(configurable_pipelines, actor=user)
pipelines = [] if isinstance(found, Failed) else found
names = {p.id: p.name for p in pipelines}

st.subheader("Stages")
if pipelines:
    pipeline_id = st.selectbox(
        "Pipeline", list(names), format_func=lambda i: names[i], key="set_pipeline"
    )
    listed = run(list_stages, pipeline_id=pipeline_id or 0, actor=user)
    stages = [] if isinstance(listed, Failed) else listed
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
        key=f"stages_{pipeline_id}_{st.session_state.get(ROUND_KEY, 0)}",
    )
    if st.button("Save stages", icon=":material/save:", key="save_stages"):
        edits = []
        for row in edited.to_dict("records"):
            rotting = row["Rotting after (days)"]
            edits.append(
                StageEdit(
                    stage_id=int(row["Id"]),
                    spec=StageSpec(
                        name=str(row["Stage"] or ""),
                        probability=int(row["Probability %"]),
                        rotting_days=None if pd.isna(rotting) else int(rotting),
                    ),
                    position=int(row["Order"]),
                    retire=bool(row["Retire"]),
                )
            )
        changed = run(save_stages, pipeline_id=pipeline_id or 0, edits=edits, actor=user)
        if not isinstance(changed, Failed):
            saved_stages(
                f"Saved {count_of(changed, 'changed stage')}." if changed else "Nothing changed."
            )

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
            added = run(
                add_stage,
                pipeline_id=pipeline_id or 0,
                spec=StageSpec(name, int(probability), int(rotting) or None),
                actor=user,
            )
            if not isinstance(added, Failed):
                saved_stages(f"Stage added: {escape_markdown(added.name)}.")
else:
    st.info(
        "No pipeline you may change: create one below, or ask an administrator or the "
        "manager of a team that uses it."
    )

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

        def create(*, session: Session) -> Pipeline:
            return create_pipeline(
                session=session, name=pipeline_name, currency=currency, stages=parse(), actor=user
            )

        act(create, done=f"Created the pipeline {escape_markdown(pipeline_name.strip())}.")

st.subheader("Lost reasons")
st.caption("A lost deal must give one of these reasons.")


reasons = run(list_lost_reasons, actor=user)
for reason in [] if isinstance(reasons, Failed) else reasons:
    left, right = st.columns([4, 1])
    left.text(reason.label)
    if right.button("Retire", key=f"retire_reason_{reason.id}"):
        act(
            retire_lost_reason,
            done=f"Retired the reason {escape_markdown(reason.label)}.",
            reason_id=reason.id or 0,
            actor=user,
        )
with st.form("add_reason", clear_on_submit=True):
    label = st.text_input("New lost reason", key="reason_label", max_chars=LOST_REASON_MAX)
    if st.form_submit_button("Add reason", icon=":material/add:"):
        act(
            add_lost_reason,
            done=f"Reason added: {escape_markdown(label.strip())}.",
            label=label,
            actor=user,
        )
