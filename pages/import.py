"""Import and export: upload a file, check the detected format and mapping, import, revert."""

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.core.errors import DomainError
from db.imports.batches import (
    ImportResult,
    file_outline,
    kinds_for,
    list_batches,
    preview_outline,
    problems_csv,
    revert_batch,
    run_import,
)
from db.imports.export import EXPORT_KINDS, export_csv, export_xlsx
from db.imports.files import MAP_TEXT_MAX, file_digest, parse_map
from db.models.auth import Role

user = page(__file__)
st.title("Import and export")

st.subheader("Import a file")
kinds = sorted(kinds_for(user))
kind = st.selectbox(
    "What the file holds",
    options=kinds,
    index=kinds.index("contacts") if "contacts" in kinds else 0,
    help="Deals match existing deals by their external reference (the source system's id); "
    "employees by email. A file never removes anyone from the employee directory.",
)
upload = st.file_uploader(
    "CSV or XLSX file", type=["csv", "txt", "tsv", "xlsx"], max_upload_size=20
)
left, right = st.columns(2)
source_format = left.selectbox("Format", options=["auto", "hubspot", "salesforce", "rapport"])
update_by = right.selectbox(
    "Update existing records by",
    options=["email", "external_ref", "none"],
    format_func={
        "email": "Email",
        "external_ref": "External reference",
        "none": "Never (always create)",
    }.__getitem__,
)
extra = st.text_area(
    "Extra column mappings (optional)",
    placeholder="One per line, e.g.\nSurname=family_name\nStreet 1=street\nStreet 2=street",
    help="Several columns mapped to one field are joined with a space, in the order given.",
    max_chars=MAP_TEXT_MAX,
)
dry_run = st.checkbox("Dry run: report what would happen, change nothing")
all_or_nothing = st.checkbox("All or nothing: one bad row imports nothing")

Preview = tuple[str, dict[str, list[str]], list[str], int]


@st.cache_data(max_entries=4, show_spinner=False)
def outline_of(digest: str, filename: str, _data: bytes) -> tuple[list[str], int] | DomainError:
    """The file's headers and row count, parsed once per file (by its hash), not per rerun."""
    try:
        return file_outline(data=_data, filename=filename)
    except DomainError as err:  # a refused file is remembered too: it is not read again
        return err


def previewed_file(data: bytes, filename: str, mapping: list[tuple[str, str]]) -> Preview:
    outline = outline_of(file_digest(data), filename, data)
    if isinstance(outline, DomainError):
        raise outline
    headers, count = outline
    return preview_outline(
        headers=headers,
        count=count,
        kind=str(kind),
        source_format=str(source_format),
        mapping=mapping,
    )


if upload is not None:
    data = upload.getvalue()
    filename = upload.name
    mapping = attempt(lambda: parse_map([line for line in extra.splitlines() if line.strip()]))
    previewed = (
        attempt(lambda: previewed_file(data, filename, mapping or []))
        if mapping is not None
        else None
    )
    if previewed is not None:
        fmt, mapped, headers, count = previewed
        st.info(f"Detected format: {escape_markdown(fmt)}. {count:,} rows, {len(headers)} columns.")
        st.dataframe(
            pd.DataFrame(
                [{"Field": dst, "From column(s)": " + ".join(src)} for dst, src in mapped.items()]
            ),
            hide_index=True,
            width="stretch",
        )
        unused = [h for h in headers if not any(h in src for src in mapped.values())]
        if unused:
            st.caption("Not imported: " + ", ".join(escape_markdown(h) for h in unused))
        if st.button("Import", type="primary"):
            bar = st.progress(0.0, text="Importing…")

            def step(done: int, total: int) -> None:
                bar.progress(done / max(total, 1), text=f"Row {done:,} of {total:,}")

            def go() -> ImportResult:
                with db_session() as session:
                    return run_import(
                        session=session,
                        actor=user,
                        kind=str(kind),
                        data=data,
                        filename=filename,
                        source_format=str(source_format),
                        mapping=mapping or [],
                        update_by=str(update_by),
                        dry_run=dry_run,
                        all_or_nothing=all_or_nothing,
                        progress=step,
                    )

            outcome = attempt(go)
            if outcome is not None:
                st.session_state["import_result"] = outcome

result: ImportResult | None = st.session_state.get("import_result")
if result is not None:
    st.subheader("Result")
    (st.success if not result.rejected else st.warning)(result.summary())
    if result.rejected:
        st.dataframe(
            pd.DataFrame([vars(p) for p in result.rejected]), hide_index=True, width="stretch"
        )
        st.download_button(
            "Download rejected rows (CSV)",
            data=problems_csv(result.rejected),
            file_name="rejected-rows.csv",
            mime="text/csv",
        )
    if result.warnings:
        with st.expander(f"{len(result.warnings)} values dropped with a warning"):
            st.dataframe(
                pd.DataFrame([vars(p) for p in result.warnings]), hide_index=True, width="stretch"
            )

st.subheader("Recent imports")


def load_batches() -> list[dict[str, object]]:
    with db_session() as session:
        batches = list_batches(session=session, actor=user)
    return [
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
        for b in batches
    ]


batches = attempt(load_batches) or []
if not batches:
    st.caption("No imports yet.")
else:
    st.dataframe(pd.DataFrame(batches), hide_index=True, width="stretch")
    open_batches = [b["Batch"] for b in batches if b["Reverted"] is None]
    if open_batches:
        cols = st.columns([2, 1])
        chosen = cols[0].selectbox("Batch to revert", options=open_batches)
        if cols[1].button("Revert batch"):

            def revert() -> int:
                with db_session() as session:
                    return revert_batch(session=session, batch_id=int(str(chosen)), actor=user)

            attempt(revert, success=f"Batch {escape_markdown(chosen)} was reverted.")

if not user.has_any({Role.admin, Role.manager}):
    st.stop()  # exports are for data stewards; HR imports the employee directory only

st.subheader("Export")
export_kind = st.selectbox("Export", options=list(EXPORT_KINDS))
if st.button("Prepare export files", key="prepare_export"):

    def build() -> tuple[bytes, bytes]:
        with db_session() as session:
            return (
                export_csv(session=session, actor=user, kind=str(export_kind)),
                export_xlsx(session=session, actor=user, kind=str(export_kind)),
            )

    built = attempt(build)
    if built is not None:
        st.session_state["export_files"] = (export_kind, *built)
files = st.session_state.get("export_files")
if files is not None:
    name, csv_data, xlsx_data = files
    first, second = st.columns(2)
    first.download_button(
        f"Download {escape_markdown(name)} (CSV)",
        data=csv_data,
        file_name=f"{name}.csv",
        mime="text/csv",
    )
    second.download_button(
        f"Download {escape_markdown(name)} (XLSX)",
        data=xlsx_data,
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
