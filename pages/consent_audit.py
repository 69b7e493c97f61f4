"""Consent audit: seven findings for a period, each with its rows and downloads."""

import datetime as dt
import json

import pandas as pd
import streamlit as st

from components import page
from components.consent_charts import violations_trend_chart
from components.db import db_session
from components.text import escape_markdown
from components.ui import attempt
from db.consent.audit.findings import AuditReport
from db.consent.audit.report import CSV_COLUMNS, report_csv_rows, run_audit
from db.core.spreadsheets import frame_csv, records_csv

user = page(__file__)
st.title("Consent audit")
st.caption(
    "A report an auditor can sign: who was contacted without consent, whether opt-outs "
    "were honoured in time, stale consent, soft opt-in eligibility, data-subject request "
    "deadlines, and whether the ledger and audit log are intact."
)
ROW_LIMIT = 5000
SEVERITY_ICONS = {
    "critical": ":material/error:",
    "high": ":material/warning:",
    "medium": ":material/info:",
    "none": ":material/check_circle:",
}

today = dt.date.today()
left, right = st.columns([3, 1])
period = left.date_input(
    "Period", value=(today - dt.timedelta(days=365), today), max_value=today, format="YYYY-MM-DD"
)
run = right.button("Run the audit", type="primary", icon=":material/play_arrow:", key="run_audit")
full_chain = left.checkbox(
    "Recompute the whole ledger chain (slow on a large ledger)",
    key="audit_full_chain",
    help="By default the ledger's hash chain is checked from the last verified checkpoint "
    "on. A full check recomputes every event from the first: run it periodically, and "
    "whenever you suspect an old record was changed.",
)

chosen = list(period) if isinstance(period, tuple) else []
if run and len(chosen) == 2:
    since, until = chosen[0], chosen[1]

    def audit() -> AuditReport:
        with db_session() as session:
            return run_audit(
                session=session,
                actor=user,
                since=since,
                until=until,
                row_limit=ROW_LIMIT,
                full_chain=full_chain,
            )

    with st.spinner("Checking the ledger, the interactions and both hash chains…"):
        result = attempt(audit)
    if result is not None:
        st.session_state["consent_audit_report"] = result
elif run:
    st.error("Period: choose a first and a last day.")

report: AuditReport | None = st.session_state.get("consent_audit_report")
if report is None:
    st.info("Choose a period and run the audit.")
    st.stop()

st.caption(
    f"Period {report.since:%d %b %Y} to {report.until - dt.timedelta(days=1):%d %b %Y}; "
    f"generated {report.generated_at:%d %b %Y %H:%M} UTC."
)
whole_csv = records_csv(report_csv_rows(report), columns=CSV_COLUMNS)
first, second = st.columns(2)
first.download_button(
    "Download the report (JSON)",
    json.dumps(report.as_dict(), indent=2, default=str),
    file_name="consent-audit.json",
    mime="application/json",
)
second.download_button(
    "Download the report (CSV)",
    whole_csv,
    file_name="consent-audit.csv",
    mime="text/csv",
)

if report.trend:
    st.altair_chart(violations_trend_chart(report.trend), width="stretch")

for finding in report.findings:
    st.subheader(f"{finding.number}\\. {escape_markdown(finding.title)}")
    a, b, c = st.columns([1, 1, 4])
    a.metric("Count", finding.count)
    b.metric("Severity", finding.severity)
    if finding.summary:
        c.caption(
            "; ".join(
                f"{escape_markdown(k.replace('_', ' '))}: {escape_markdown(v)}"
                for k, v in finding.summary.items()
            )
        )
    if finding.key == "integrity":
        for row in finding.rows:
            state = "intact" if row["intact"] else f"broken: {row['problem']}"
            st.text(f"{row['chain']}: {state}. Checked {row['check']}.")
    if finding.truncated:
        st.caption(f"Showing the first {len(finding.rows):,}; the CLI writes every row.")
    overrides = [r for r in finding.rows if r.get("override_reason")]
    if overrides:
        st.markdown("**Sent with an override**")
        for row in overrides[:20]:
            st.text(
                f"{row['sent_at'][:16].replace('T', ' ')} · {row['contact']} · {row['channel']} "
                f"· by {row['sender']} · reason: {row['override_reason']}"
            )
    if finding.rows:
        frame = pd.DataFrame(finding.rows)
        with st.expander(f"Rows ({len(finding.rows):,})", icon=SEVERITY_ICONS[finding.severity]):
            st.dataframe(frame, hide_index=True, width="stretch")
            st.download_button(
                "Download rows (CSV)",
                frame_csv(frame),
                file_name=f"consent-audit-{finding.number}-{finding.key}.csv",
                mime="text/csv",
                key=f"download_{finding.key}",
            )
