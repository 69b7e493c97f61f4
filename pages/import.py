"""Import and export: upload a file, map its columns, preview the rows, import, revert."""

from typing import Any

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, attempt, run
from db.core.errors import DomainError
from db.imports.batches import (
    ImportResult,
    file_sample,
    kind_for,
    kinds_for,
    list_batches,
    preview_rows,
    rejected_rows_csv,
    revert_batch,
    run_import,
)
from db.imports.export import EXPORT_KINDS, export_csv, export_xlsx
from db.imports.files import detect_format, file_digest
from db.imports.mapping import field_label, guess_fields
from db.models.auth import Role

user = page(__file__)

SKIP = ""
RESULT_KEY = "import_result"
st.title("Import and export")


def forget_result() -> None:
    """A new file (or none) makes the last import's result a thing of the past."""
    st.session_state.pop(RESULT_KEY, None)


st.subheader("Import a file")
kinds = sorted(kinds_for(user))
kind = str(
    st.selectbox(
        "What the file holds",
        options=kinds,
        index=kinds.index("contacts") if "contacts" in kinds else 0,
        help="Deals match existing deals by their external reference (the source system's "
        "id); employees by email. A file never removes anyone from the employee directory.",
    )
)
upload = st.file_uploader(
    "CSV or XLSX file",
    type=["csv", "txt", "tsv", "xlsx"],
    max_upload_size=20,
    on_change=forget_result,
)
left, right = st.columns(2)
source_format = str(
    left.selectbox(
        "Format",
        options=["auto", "hubspot", "salesforce", "rapport"],
        help="HubSpot and Salesforce exports are recognised by their headers.",
    )
)
update_by = str(
    right.selectbox(
        "Update existing records by",
        options=["email", "external_ref", "none"],
        format_func={
            "email": "Email",
            "external_ref": "External reference",
            "none": "Never (always create)",
        }.__getitem__,
    )
)
dry_run = st.checkbox("Dry run: report what would happen, change nothing")
all_or_nothing = st.checkbox("All or nothing: one bad row imports nothing")

Sample = tuple[list[str], int, list[list[str]]]


@st.cache_data(max_entries=4, show_spinner=False)
def sample_of(digest: str, filename: str, _data: bytes) -> Sample | DomainError:
    """The file's headers, row count and first rows, parsed once per file (by its hash)."""
    try:
        return file_sample(data=_data, filename=filename)
    except DomainError as err:  # a refused file is remembered too: it is not read again
        return err


def parsed(digest: str, filename: str, data: bytes) -> Sample:
    """The file's sample, or its refusal raised again (shown like any refused command)."""
    sample = sample_of(digest, filename, data)
    if isinstance(sample, DomainError):
        raise sample
    return sample


def mapping_screen(
    digest: str, headers: list[str], first: list[list[str]]
) -> list[tuple[str, str]]:
    """Each source column with a drop-down of the kind's fields, guessed from its header."""
    fields = sorted(kind_for(kind).fields)
    guesses = guess_fields(headers, kind=kind, fields=fields, source_format=source_format)
    options = [SKIP, *fields]
    st.markdown("**Map the columns**")
    st.caption(
        "Each column of the file and the Rapport field it goes into, guessed from its header. "
        "Choose “don't import” to leave a column out; two columns given the same field are "
        "joined with a space, in the file's order."
    )
    head = st.columns([3, 4, 3], vertical_alignment="bottom")
    head[0].caption("Column in the file")
    head[1].caption("First values")
    head[2].caption("Rapport field")
    chosen: list[tuple[str, str]] = []
    for index, guess in enumerate(guesses):
        cells = st.columns([3, 4, 3], vertical_alignment="center")
        cells[0].text(guess.column)
        examples = [row[index] for row in first[:3] if index < len(row) and row[index].strip()]
        cells[1].text(" · ".join(examples)[:80] or "(empty)")
        picked = cells[2].selectbox(
            f"Field for {escape_markdown(guess.column)}",
            options=options,
            index=options.index(guess.field or SKIP),
            format_func=lambda name: "— don't import —" if name == SKIP else field_label(name),
            key=f"map-{digest[:16]}-{kind}-{index}",
            label_visibility="collapsed",
            help=f"Guessed: {escape_markdown(guess.why)}." if guess.field else None,
        )
        if picked:
            chosen.append((guess.column, str(picked)))
    return chosen


def preview_table(
    headers: list[str], first: list[list[str]], chosen: list[tuple[str, str]]
) -> None:
    """The first rows as the import would store them (run and rolled back, nothing saved)."""
    shown = run(
        preview_rows,
        actor=user,
        kind=kind,
        headers=headers,
        rows=first,
        mapping=chosen,
        update_by=update_by,
    )
    if isinstance(shown, Failed):
        return
    st.markdown("**Preview: the first rows as they will be stored**")
    fields = list(dict.fromkeys(dst for _, dst in chosen))
    labels = [field_label(f) for f in fields]
    # The note (why a row is rejected, what was left out) comes before the values, where
    # it is seen without scrolling a wide file sideways.
    st.dataframe(
        pd.DataFrame(
            [[r.row, r.outcome, r.note, *(r.values.get(f, "") for f in fields)] for r in shown],
            columns=["Row", "Outcome", "Note", *labels],
        ),
        hide_index=True,
        width="stretch",
    )


def start_import(data: bytes, filename: str, digest: str, chosen: list[tuple[str, str]]) -> None:
    """Import the file with the mapping on screen; keep the result for this file."""
    bar = st.progress(0.0, text="Importing…")

    def step(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Row {done:,} of {total:,}")

    outcome = run(
        run_import,
        actor=user,
        kind=kind,
        data=data,
        filename=filename,
        source_format=source_format,
        mapping=chosen,
        exact_mapping=True,
        update_by=update_by,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        progress=step,
    )
    bar.empty()
    if not isinstance(outcome, Failed):
        st.session_state[RESULT_KEY] = (digest, outcome)


if upload is None:
    forget_result()
else:
    data, filename = upload.getvalue(), upload.name
    digest = file_digest(data)
    sample = attempt(lambda: parsed(digest, filename, data))
    if sample is not None:
        headers, count, first = sample
        fmt = detect_format(headers) if source_format == "auto" else source_format
        st.info(f"Detected format: {escape_markdown(fmt)}. {count:,} rows, {len(headers)} columns.")
        chosen = mapping_screen(digest, headers, first)
        if not chosen:
            st.warning("Choose a field for at least one column to import the file.")
        else:
            preview_table(headers, first, chosen)
            if st.button("Import", type="primary"):
                start_import(data, filename, digest, chosen)

kept: tuple[str, ImportResult] | None = st.session_state.get(RESULT_KEY)
if kept is not None and upload is not None and kept[0] == file_digest(upload.getvalue()):
    result = kept[1]
    st.subheader("Result")
    (st.success if not result.rejected else st.warning)(result.summary())
    if result.rejected:
        st.dataframe(
            pd.DataFrame([vars(p) for p in result.rejected]), hide_index=True, width="stretch"
        )
        st.download_button(
            "Download rejected rows (CSV)",
            data=rejected_rows_csv(result),
            file_name="rejected-rows.csv",
            mime="text/csv",
            help="Each rejected row as the file had it, after the reason: fix the rows and "
            "upload this file again.",
        )
    if result.warnings:
        with st.expander(f"{len(result.warnings)} values dropped with a warning"):
            st.dataframe(
                pd.DataFrame([vars(p) for p in result.warnings]), hide_index=True, width="stretch"
            )

st.subheader("Recent imports")
found = run(list_batches, actor=user)
batches: list[dict[str, Any]] = [
    {
        "Batch": b.id,
        "When": b.created_at,
        "By": b.created_by_name,
        "Kind": b.kind,
        "File": b.filename,
        "Format": b.source_format,
        "Created": b.created,
        "Updated": b.updated,
        "Rejected": b.rejected,
        "Reverted": b.reverted_at,
    }
    for b in ([] if isinstance(found, Failed) else found)
]
if not batches:
    st.caption("No imports yet.")
else:
    st.dataframe(pd.DataFrame(batches), hide_index=True, width="stretch")
    open_batches = [b["Batch"] for b in batches if b["Reverted"] is None]
    if open_batches:
        cols = st.columns([2, 1], vertical_alignment="bottom")
        chosen_batch = cols[0].selectbox("Batch to revert", options=open_batches)
        if cols[1].button("Revert batch"):
            forget_result()
            act(
                revert_batch,
                done=f"Batch {escape_markdown(chosen_batch)} was reverted.",
                batch_id=int(str(chosen_batch)),
                actor=user,
            )

if not user.has_any({Role.admin, Role.manager}):
    st.stop()  # exports are for data stewards; HR imports the employee directory only

st.subheader("Export")
export_kind = st.selectbox("Export", options=list(EXPORT_KINDS))


def export_both(*, session: Any, kind: str) -> tuple[bytes, bytes]:
    """The export as CSV and as XLSX, in one session."""
    return (
        export_csv(session=session, actor=user, kind=kind),
        export_xlsx(session=session, actor=user, kind=kind),
    )


if st.button("Prepare export files", key="prepare_export"):
    built = run(export_both, kind=str(export_kind))
    if not isinstance(built, Failed):
        st.session_state["export_files"] = (export_kind, *built)
files = st.session_state.get("export_files")
if files is not None:
    name, csv_data, xlsx_data = files
    first_col, second_col = st.columns(2)
    first_col.download_button(
        f"Download {escape_markdown(name)} (CSV)",
        data=csv_data,
        file_name=f"{name}.csv",
        mime="text/csv",
    )
    second_col.download_button(
        f"Download {escape_markdown(name)} (XLSX)",
        data=xlsx_data,
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
