"""Purposes and their notices (versioned wording), and importing consent history."""

import pandas as pd
import streamlit as st

from components import page
from components.db import db_session
from components.ui import attempt
from db.consent import create_purpose, list_notices, list_purposes, notice_in_use, publish_notice
from db.consent_import import ImportReport, import_consent
from db.models.auth import Role
from db.models.consent import ConsentPurpose, ConsentPurposeCreate, LawfulBasis, Notice

user = page("Purposes and notices", roles={Role.privacy}, icon=":material/description:")
st.title("Purposes and notices")
st.caption(
    "A notice version is the wording people saw. Once any consent cites it, it is "
    "evidence and never changes: publish a new version instead."
)


def load() -> list[ConsentPurpose]:
    with db_session() as session:
        return list_purposes(session=session)


purposes = attempt(load) or []
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

notices_tab, new_tab, import_tab = st.tabs(["Notices", "New purpose", "Import consent history"])

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
            wording = st.text_area("Wording of the new version", key="nw")
            if st.form_submit_button("Publish new version"):

                def publish() -> Notice:
                    with db_session() as session:
                        return publish_notice(
                            session=session,
                            purpose_id=chosen.id or 0,
                            wording=wording,
                            actor=user,
                        )

                made = attempt(publish)
                if made is not None:
                    st.success(f"Published version {made.version}.")

with new_tab, st.form("new_purpose"):
    left, right = st.columns(2)
    code = left.text_input("Code", help="Short, e.g. newsletter", key="pc")
    name = right.text_input("Name", key="pn")
    basis = left.selectbox("Lawful basis", list(LawfulBasis), format_func=str, key="pb")
    months = right.number_input("Refresh period (months)", 1, 120, 24, key="pm")
    marketing = st.checkbox("Permits direct marketing", key="pk")
    description = st.text_area("Description", key="pd")
    if st.form_submit_button("Create purpose", type="primary"):

        def create() -> ConsentPurpose:
            with db_session() as session:
                return create_purpose(
                    session=session,
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

        attempt(create, success="Purpose created.")

with import_tab:
    st.caption(
        "Columns: contact_id or external_ref or email; purpose (code), channel, action, "
        "occurred_at (ISO date-time); optional notice_version, source, evidence."
    )
    upload = st.file_uploader("Consent history (CSV)", type=["csv"], key="ci")
    dry_run = st.checkbox("Check only (dry run)", value=True, key="cdry")
    if upload is not None and st.button("Import", key="cimport"):
        text = upload.getvalue().decode("utf-8-sig", errors="replace")

        def run_import() -> ImportReport:
            with db_session() as session:
                return import_consent(session=session, text=text, actor=user, dry_run=dry_run)

        result = attempt(run_import)
        if result is not None:
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
