"""Purposes and their notices (versioned wording), and importing consent history."""

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.pipeline_ui import forget_version, opened_version
from components.text import escape_markdown
from components.ui import Failed, attempt, run
from db.consent.csv_import import import_consent
from db.consent.records import (
    DESCRIPTION_MAX,
    PURPOSE_CODE_MAX,
    PURPOSE_NAME_MAX,
    WORDING_MAX,
    create_purpose,
    list_notices,
    list_purposes,
    notice_in_use,
    publish_notice,
    update_purpose,
)
from db.models.consent import (
    ConsentPurpose,
    ConsentPurposeCreate,
    ConsentPurposeUpdate,
    LawfulBasis,
    Notice,
)

user = page(__file__)
st.title("Purposes and notices")
st.caption(
    "A notice version is the wording people saw. Once any consent cites it, it is "
    "evidence and never changes: publish a new version instead."
)


def load() -> list[ConsentPurpose]:
    with db_session() as session:
        return list_purposes(session=session)


purposes = attempt(load) or []
saved_message = st.session_state.pop("purpose_saved", None)
if saved_message:
    st.success(saved_message)
if purposes:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Code": p.code,
                    "Name": p.name,
                    "Lawful basis": p.lawful_basis,
                    "Refresh (months)": p.refresh_months,
                    "Permits marketing": p.covers_marketing,
                    "Description": p.description,
                }
                for p in purposes
            ]
        ),
        hide_index=True,
        width="stretch",
    )

notices_tab, edit_tab, new_tab, import_tab = st.tabs(
    ["Notices", "Edit a purpose", "New purpose", "Import consent history"]
)

with notices_tab:
    if purposes:
        chosen = st.selectbox("Purpose", purposes, format_func=lambda p: p.name, key="np")

        def load_notices() -> list[tuple[Notice, bool]]:
            with db_session() as session:
                notices = list_notices(session=session, purpose_id=chosen.id or 0)
                return [(n, notice_in_use(session=session, notice_id=n.id or 0)) for n in notices]

        for notice, used in attempt(load_notices) or []:
            st.markdown(
                f"**Version {notice.version}** · published {notice.published_at:%d %b %Y}"
                + (" · in use (frozen)" if used else "")
            )
            st.text(notice.wording)
        with st.form("publish_notice", clear_on_submit=True):
            wording = st.text_area("Wording of the new version", key="nw", max_chars=WORDING_MAX)
            if st.form_submit_button("Publish new version"):
                made = run(publish_notice, purpose_id=chosen.id or 0, wording=wording, actor=user)
                if not isinstance(made, Failed):
                    st.success(f"Published version {made.version}.")

with edit_tab:
    if not purposes:
        st.info("No purposes yet: create one first.")
    else:
        # Choose by id: the purpose objects change with each save, the ids do not.
        by_id = {p.id: p for p in purposes}
        chosen_id = st.selectbox(
            "Purpose to edit",
            list(by_id),
            format_func=lambda i: f"{by_id[i].name} ({by_id[i].code})",
            key="pe",
        )
        target = by_id[chosen_id]
        version_key = f"purpose_{target.id}"
        version = opened_version(version_key, target.version)
        if version != target.version:
            st.warning(
                "Someone else changed this purpose since you opened it. Reload to see their "
                "change before saving yours."
            )
        st.caption(
            "The code cannot change (imports and receipts name it). A new refresh period "
            "applies to grants recorded from now on; earlier grants keep the expiry they were "
            "given. Wording is not edited here: publish a new notice version."
        )
        suffix = f"{target.id}_{target.version}"
        with st.form("edit_purpose"):
            left, right = st.columns(2)
            new_name = left.text_input(
                "Name", value=target.name, key=f"pen_{suffix}", max_chars=PURPOSE_NAME_MAX
            )
            bases = list(LawfulBasis)
            new_basis = right.selectbox(
                "Lawful basis",
                bases,
                index=bases.index(LawfulBasis(target.lawful_basis)),
                format_func=str,
                key=f"peb_{suffix}",
            )
            new_months = left.number_input(
                "Refresh period (months)", 1, 120, target.refresh_months, key=f"pem_{suffix}"
            )
            new_description = st.text_area(
                "Description",
                value=target.description,
                key=f"ped_{suffix}",
                max_chars=DESCRIPTION_MAX,
            )
            save = st.form_submit_button("Save changes", icon=":material/save:")
        if save:
            changed = run(
                update_purpose,
                purpose_id=target.id or 0,
                patch=ConsentPurposeUpdate(
                    name=new_name,
                    description=new_description,
                    lawful_basis=LawfulBasis(str(new_basis)),
                    refresh_months=int(new_months),
                ),
                version=version,
                actor=user,
            )
            if not isinstance(changed, Failed):
                forget_version(version_key)
                if changed.version == target.version:
                    st.info("Nothing was different; nothing was saved.")
                else:
                    st.session_state["purpose_saved"] = (
                        f"Saved; {escape_markdown(changed.name)} is now version {changed.version}."
                    )
                    st.rerun()
        if st.button("Reload", icon=":material/refresh:", key="purpose_reload"):
            forget_version(version_key)
            st.rerun()

with new_tab, st.form("new_purpose"):
    left, right = st.columns(2)
    code = left.text_input(
        "Code", help="Short, e.g. newsletter", key="pc", max_chars=PURPOSE_CODE_MAX
    )
    name = right.text_input("Name", key="pn", max_chars=PURPOSE_NAME_MAX)
    basis = left.selectbox("Lawful basis", list(LawfulBasis), format_func=str, key="pb")
    months = right.number_input("Refresh period (months)", 1, 120, 24, key="pm")
    marketing = st.checkbox("Permits direct marketing", key="pk")
    description = st.text_area("Description", key="pd", max_chars=DESCRIPTION_MAX)
    if st.form_submit_button("Create purpose", type="primary"):
        run(
            create_purpose,
            success="Purpose created.",
            purpose_in=ConsentPurposeCreate(
                code=code,
                name=name,
                description=description,
                lawful_basis=LawfulBasis(str(basis)),
                refresh_months=int(months),
                covers_marketing=marketing,
            ),
            actor=user,
        )

with import_tab:
    st.caption(
        "Columns: contact_id or external_ref or email; purpose (code), channel, action, "
        "occurred_at (ISO date-time); optional notice_version, source, evidence."
    )
    upload = st.file_uploader("Consent history (CSV)", type=["csv"], key="ci", max_upload_size=20)
    dry_run = st.checkbox("Check only (dry run)", value=True, key="cdry")
    if upload is not None and st.button("Import", key="cimport"):
        text = upload.getvalue().decode("utf-8-sig", errors="replace")

        result = run(import_consent, text=text, actor=user, dry_run=dry_run)
        if not isinstance(result, Failed):
            verb = "Would import" if result.dry_run else "Imported"
            st.success(f"{verb} {result.imported} events; {len(result.bad)} rows refused.")
            if result.bad:
                st.dataframe(
                    pd.DataFrame(
                        [{"Row": b.row, "Column": b.column, "Reason": b.reason} for b in result.bad]
                    ),
                    hide_index=True,
                    width="stretch",
                )
