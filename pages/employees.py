"""Employees: the directory surveys are sent to, with CSV import and leavers."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.text import escape_markdown
from components.ui import Failed, act, flash, pager, run
from db.core.normalise import EMAIL_MAX, SEARCH_MAX
from db.core.spreadsheets import frame_csv
from db.models.surveys import EmployeeCreate
from db.surveys.employees import (
    CSV_COLUMNS,
    EMPLOYEE_NAME_MAX,
    ORG_UNIT_MAX,
    EmployeeFilter,
    count_employees,
    create_employee,
    import_employees_csv,
    list_employees,
    mark_leaver,
    org_choices,
)

hr = page(__file__)
st.title("Employees")
st.caption("The survey directory. It is separate from sign-in accounts; leavers stay for history.")
PAGE_SIZE = 50
ANY = "(any)"


class NotLoaded(Exception):
    """The choices could not be read: the message is shown, and nothing is cached."""


@st.cache_data(ttl=300, show_spinner=False)
def load_choices(user_id: int | None) -> dict[str, list[str]]:
    """Departments, teams and locations for the filters (cached per viewer; an add or
    an import on this page clears it)."""
    found = run(org_choices, actor=hr)
    if isinstance(found, Failed):
        raise NotLoaded
    return found


try:
    choices = load_choices(hr.id)
except NotLoaded:
    choices = {"department": [], "team": [], "location": []}
directory, add_tab, import_tab = st.tabs(["Directory", "Add a person", "Import CSV"])

with directory:
    cols = st.columns([2, 1, 1, 1])
    search = cols[0].text_input("Search name or email", key="emp_search", max_chars=SEARCH_MAX)
    department = cols[1].selectbox("Department", [ANY, *choices["department"]], key="emp_dept")
    team = cols[2].selectbox("Team", [ANY, *choices["team"]], key="emp_team")
    leavers = cols[3].checkbox("Include leavers", key="emp_leavers")
    flt = EmployeeFilter(
        search=search or None,
        department=None if department == ANY else department,
        team=None if team == ANY else team,
        include_leavers=leavers,
    )

    counted = run(count_employees, actor=hr, flt=flt)
    total = 0 if isinstance(counted, Failed) else counted
    offset = pager(total=total, page_size=PAGE_SIZE, key="emp_page") if total else 0
    listed = run(list_employees, actor=hr, flt=flt, offset=offset, limit=PAGE_SIZE)
    people = [] if isinstance(listed, Failed) else listed
    if people:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Name": p.name,
                        "Email": p.email,
                        "Department": p.department,
                        "Team": p.team,
                        "Location": p.location,
                        "Start": p.start_date,
                        "Type": p.employment_type,
                        "Left": p.left_on,
                    }
                    for p in people
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        with st.form("leaver"):
            by_email = {p.email: p for p in people if p.left_on is None}
            cols = st.columns([2, 1])
            leaver = cols[0].selectbox("Record a leaver (from this page)", list(by_email))
            left_on = cols[1].date_input("Leaving date", value=dt.date.today())
            if st.form_submit_button("Record leaving") and leaver:
                act(
                    mark_leaver,
                    done=f"Recorded that {escape_markdown(leaver)} left.",
                    employee_id=by_email[leaver].id or 0,
                    left_on=left_on,
                    actor=hr,
                )
    else:
        st.info("Nobody matches these filters.")

with add_tab, st.form("add_employee", clear_on_submit=False):
    add_cols = st.columns(2)
    name = add_cols[0].text_input("Name", key="add_name", max_chars=EMPLOYEE_NAME_MAX)
    email = add_cols[1].text_input("Email", key="add_email", max_chars=EMAIL_MAX)
    department_in = add_cols[0].text_input(
        "Department", key="add_department", max_chars=ORG_UNIT_MAX
    )
    team_in = add_cols[1].text_input("Team", key="add_team", max_chars=ORG_UNIT_MAX)
    location_in = add_cols[0].text_input("Location", key="add_location", max_chars=ORG_UNIT_MAX)
    manager = add_cols[1].text_input(
        "Manager's email (optional)", key="add_manager", max_chars=EMAIL_MAX
    )
    start = add_cols[0].date_input("Start date", value=dt.date.today(), key="add_start")
    kind = add_cols[1].selectbox("Employment type", ["full-time", "part-time", "contractor"])
    if st.form_submit_button("Add to directory", type="primary"):
        added = run(
            create_employee,
            employee_in=EmployeeCreate(
                name=name,
                email=email,
                department=department_in,
                team=team_in,
                location=location_in,
                manager_email=manager or None,
                start_date=start,
                employment_type=kind,
            ),
            actor=hr,
        )
        if not isinstance(added, Failed):
            load_choices.clear()
            flash(f"Added {escape_markdown(added.name)}.")
            st.rerun()

with import_tab:
    st.caption(
        "A CSV with the columns " + ", ".join(CSV_COLUMNS) + ". Dates as YYYY-MM-DD. Good rows "
        "are added; each refused row is listed with the reason, so you can fix and re-import."
    )
    upload = st.file_uploader("CSV file", type=["csv"], key="emp_csv", max_upload_size=5)
    if upload is not None and st.button("Import", type="primary", key="emp_import"):
        uploaded_text = upload.getvalue().decode("utf-8", "replace")
        report = run(import_employees_csv, text=uploaded_text, actor=hr)
        if not isinstance(report, Failed):
            load_choices.clear()
            st.success(f"Added {report.created} people.")
            if report.bad_rows:
                st.warning(f"{len(report.bad_rows)} row(s) were refused:")
                bad = pd.DataFrame(report.bad_rows)
                st.dataframe(bad, hide_index=True, width="stretch")
                st.download_button(
                    "Download the refused rows (CSV)",
                    frame_csv(bad),
                    file_name="refused-rows.csv",
                    mime="text/csv",
                )
