"""Contact 360: details, one timeline of everything, recent contact on other channels,
and what to do next (log an interaction, add a task, open a deal)."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlmodel import Session

from components import page
from components.drafts import clear_pending
from components.marketing_ui import forget, override_reason_input
from components.pipeline_ui import forget_version, local_time, opened_version, query_id
from components.text import count_of, escape_markdown
from components.ui import Failed, act, attempt, flash, pager, run
from db.core.normalise import EMAIL_MAX, PHONE_MAX, SEARCH_MAX, TAGS_TEXT_MAX
from db.core.types import utcnow
from db.core.validation import parse_model
from db.experience.moments import contact_moments, is_flagged
from db.models.auth import Role
from db.models.people import (
    Channel,
    Contact,
    ContactUpdate,
    Direction,
    InteractionCreate,
    Purpose,
    Sentiment,
    TaskCreate,
)
from db.models.pipeline import CURRENCIES, Deal, DealCreate
from db.people.contacts import (
    CONTACT_NOTES_MAX,
    JOB_TITLE_MAX,
    NAME_PART_MAX,
    ContactFilter,
    find_contacts,
    get_contact,
    save_contact,
    tags_of,
)
from db.people.interactions import (
    BODY_MAX,
    SUBJECT_MAX,
    TASK_TITLE_MAX,
    InteractionFilter,
    create_task,
    log_interaction,
)
from db.people.timeline import RECENT_TOUCHES_MAX, recent_touches, timeline
from db.pipeline.commands import DEAL_TITLE_MAX, SOURCE_MAX, create_deal
from db.pipeline.setup import list_pipelines

user = page(__file__)
clear_pending()  # fields emptied after the last save
PAGE_SIZE = 25
PERIODS = {
    "All time": None,
    "Last 7 days": 7,
    "Last 30 days": 30,
    "Last 90 days": 90,
    "Last year": 365,
}

contact_id = query_id()
if contact_id is None:
    st.title("Contact 360")
    name = st.text_input("Find a contact by name or email", key="c360_find", max_chars=SEARCH_MAX)
    if name.strip():
        hits = run(find_contacts, actor=user, flt=ContactFilter(query=name), limit=20)
        for found in [] if isinstance(hits, Failed) else hits[0]:
            st.page_link(
                "pages/contact.py",
                label=escape_markdown(found.full_name),
                icon=":material/person:",
                query_params={"id": str(found.id)},
            )
    else:
        st.info("Search for a contact, or open one from the Contacts page.")
    st.stop()
chosen_id: int = contact_id


def load(*, session: Session) -> tuple[Contact, list[str]]:
    contact = get_contact(session=session, contact_id=chosen_id, actor=user)
    return contact, tags_of(session=session, contact_id=contact.id or 0)


loaded = run(load)
if isinstance(loaded, Failed):
    st.title("Contact 360")
    st.stop()
contact, tags = loaded
st.title(escape_markdown(contact.full_name or "(no name)"))
st.caption(
    " · ".join(
        escape_markdown(part)
        for part in (str(contact.kind), contact.job_title or "", ", ".join(tags))
        if part
    )
)


found_moments = run(contact_moments, contact_id=contact.id or 0, actor=user)
moments = {} if isinstance(found_moments, Failed) else found_moments
if is_flagged(moments):
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(moments.items()))
    st.warning(
        f"Flagged: two or more negative moments in the last 90 days ({kinds}). "
        "Check what went wrong before the next contact.",
        icon=":material/flag:",
    )

# --- before you contact them: the last 48 hours on other channels -----------------
planned = st.selectbox(
    "Channel you are about to use",
    [c.value for c in Channel],
    key="c360_channel",
    help="The banner lists what happened with this person on the other channels.",
)


found_touches = run(
    recent_touches, contact_id=contact.id or 0, actor=user, channel=Channel(planned)
)
touches = [] if isinstance(found_touches, Failed) else found_touches
if touches:
    with st.container(border=True):
        st.warning(
            f"In the last 48 hours on other channels: {count_of(len(touches), 'contact')}"
            + (" (the latest shown)" if len(touches) >= RECENT_TOUCHES_MAX else "")
            + ". Read them before you contact this person again.",
            icon=":material/history:",
        )
        for touch in touches:
            said = "we contacted them" if touch.direction == "outbound" else "they contacted us"
            line = (
                f"{local_time(touch.occurred_at, '%a %d %b %H:%M')} · {touch.channel} · {said}"
                f" · {touch.subject or '(no subject)'} · by {touch.by or 'someone'}"
            )
            if touch.deal_id:
                st.page_link(
                    "pages/deal.py",
                    label=escape_markdown(line),
                    icon=":material/request_quote:",
                    query_params={"id": str(touch.deal_id)},
                )
            else:
                st.page_link(
                    "pages/contact.py",
                    label=escape_markdown(line),
                    icon=":material/history:",
                    query_params={"id": str(contact.id), "channel": touch.channel},
                )
else:
    st.caption("Nothing on other channels in the last 48 hours.")

details, activity = st.columns([1, 2])
with details:
    st.subheader("Details")
    for label, value in (
        ("Email", contact.email),
        ("Phone", contact.phone),
        ("Mobile", contact.mobile),
        (
            "Address",
            ", ".join(p for p in (contact.street, contact.locality, contact.postcode) if p),
        ),
        ("Preferred channel", contact.preferred_channel),
        ("External reference", contact.external_ref),
    ):
        if value:
            st.text(f"{label}: {value}")
    if contact.notes:
        st.text(contact.notes)

with activity:
    tab_timeline, tab_log, tab_task, tab_deal, tab_edit = st.tabs(
        ["Timeline", "Log interaction", "Add task", "New deal", "Edit"]
    )

with tab_timeline:
    left, right = st.columns(2)
    # A line of the 48-hour banner opens the timeline on its channel (?channel=email).
    linked = st.query_params.get("channel")
    channels = left.multiselect(
        "Channels",
        [c.value for c in Channel],
        default=[linked] if linked in {c.value for c in Channel} else None,
        key="c360_channels",
    )
    period = right.selectbox("Period", list(PERIODS), key="c360_period")
    days = PERIODS[period]
    flt = InteractionFilter(
        channels=tuple(Channel(c) for c in channels),
        since=utcnow() - dt.timedelta(days=days) if days else None,
    )

    counted = run(timeline, contact_id=contact.id or 0, actor=user, flt=flt, offset=0, limit=1)
    total = 0 if isinstance(counted, Failed) else counted[1]
    offset = pager(total=total, page_size=PAGE_SIZE, key="c360_page") if total else 0
    shown = run(
        timeline, contact_id=contact.id or 0, actor=user, flt=flt, offset=offset, limit=PAGE_SIZE
    )
    items = [] if isinstance(shown, Failed) else shown[0]
    if items:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "When": local_time(i.at, "%Y-%m-%d %H:%M"),
                        "What": i.source,
                        "Kind": i.kind,
                        "Channel": i.channel or "",
                        "Title": i.title,
                        "Detail": i.detail,
                    }
                    for i in items
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("Nothing on the timeline for these filters.")

# Not cleared on submit: a refused message keeps what was typed, and its override field
# is right there; the fields are cleared once the message is logged.
with tab_log, st.form("log_interaction", clear_on_submit=False):
    left, right = st.columns(2)
    # What a person logs is mostly what they did: a call they made, an email they sent.
    direction = left.selectbox(
        "Direction",
        [Direction.outbound.value, Direction.inbound.value],
        format_func=lambda d: "We contacted them" if d == "outbound" else "They contacted us",
        key="log_direction",
    )
    purpose = right.selectbox("Purpose", [p.value for p in Purpose], key="log_purpose")
    subject = st.text_input("Subject", key="log_subject", max_chars=SUBJECT_MAX)
    body = st.text_area("Notes", key="log_body", max_chars=BODY_MAX)
    sentiment = left.selectbox(
        "Sentiment", [s.value for s in Sentiment], index=1, key="log_sentiment"
    )
    override = override_reason_input("log_override")
    logged = st.form_submit_button(f"Log {escape_markdown(planned)}", icon=":material/add_call:")
if logged:
    data = {
        "contact_id": contact.id,
        "channel": planned,
        "direction": direction,
        "purpose": purpose,
        "subject": subject,
        "body": body,
        "sentiment": sentiment,
        "override_reason": override or None,
        "occurred_at": utcnow(),
    }
    interaction_in = attempt(lambda: parse_model(InteractionCreate, data))
    if interaction_in is not None and act(
        log_interaction,
        done=f"Logged the {escape_markdown(planned)}.",
        rerun=False,
        interaction_in=interaction_in,
        actor=user,
    ):
        forget("log_subject", "log_body", "log_override")
        st.rerun()

with tab_task, st.form("add_task", clear_on_submit=True):
    task_title = st.text_input("Task", key="task_title", max_chars=TASK_TITLE_MAX)
    due = st.date_input("Due", value=dt.date.today() + dt.timedelta(days=2), key="task_due")
    added = st.form_submit_button("Add task", icon=":material/add_task:")
if added:

    def add_task(*, session: Session) -> object:
        data = {"title": task_title, "due_on": due, "contact_id": contact.id}
        return create_task(session=session, task_in=parse_model(TaskCreate, data), actor=user)

    act(add_task, done=f"Task added: {escape_markdown(task_title.strip())}, due {due:%d %b %Y}.")

with tab_deal:
    if not user.has_any({Role.admin, Role.manager, Role.sales}):
        st.info("Deals are for sales staff and managers.")
    else:
        listed = run(list_pipelines, actor=user)
        pipelines = {p.id: p for p in ([] if isinstance(listed, Failed) else listed)}
        with st.form("new_deal", clear_on_submit=True):
            deal_title = st.text_input("Deal title", key="deal_title", max_chars=DEAL_TITLE_MAX)
            left, right = st.columns(2)
            pipeline_id = left.selectbox(
                "Pipeline",
                list(pipelines),
                format_func=lambda i: pipelines[i].name,
                key="deal_pipeline",
            )
            amount = right.number_input(
                "Amount", min_value=0.0, step=500.0, format="%.2f", key="deal_amount"
            )
            currency = left.selectbox("Currency", list(CURRENCIES), key="deal_currency")
            close = right.date_input(
                "Expected close", value=dt.date.today() + dt.timedelta(days=30), key="deal_close"
            )
            source = left.text_input("Source", key="deal_source", max_chars=SOURCE_MAX)
            opened = st.form_submit_button("Create deal", icon=":material/handshake:")
        if opened:

            def open_deal(*, session: Session) -> Deal:
                data = {
                    "title": deal_title,
                    "pipeline_id": pipeline_id,
                    "organisation_id": contact.organisation_id,
                    "contact_id": contact.id,
                    "amount": Decimal(str(amount)),
                    "currency": currency,
                    "expected_close": close,
                    "source": source or None,
                }
                return create_deal(
                    session=session, deal_in=parse_model(DealCreate, data), actor=user
                )

            deal = run(open_deal)
            if not isinstance(deal, Failed):
                flash(f"Created the deal {escape_markdown(deal.title)}.")
                st.session_state["c360_new_deal"] = deal.id
                st.rerun()
        new_deal = st.session_state.pop("c360_new_deal", None)
        if new_deal:
            st.page_link(
                "pages/deal.py",
                label="Open the deal just created",
                icon=":material/request_quote:",
                query_params={"id": str(new_deal)},
            )

with tab_edit:
    version_key = f"contact_{contact.id}"
    version = opened_version(
        version_key, contact.version, last_by_me=contact.updated_by_id == user.id
    )
    with st.form("edit_contact"):
        left, right = st.columns(2)
        given = left.text_input(
            "Given name", value=contact.given_name, key="edit_given", max_chars=NAME_PART_MAX
        )
        family = right.text_input(
            "Family name", value=contact.family_name, key="edit_family", max_chars=NAME_PART_MAX
        )
        email = left.text_input(
            "Email", value=contact.email or "", key="edit_email", max_chars=EMAIL_MAX
        )
        phone = right.text_input(
            "Phone", value=contact.phone or "", key="edit_phone", max_chars=PHONE_MAX
        )
        job = left.text_input(
            "Job title", value=contact.job_title or "", key="edit_job", max_chars=JOB_TITLE_MAX
        )
        # A merge can leave more tags than fit the box; never cut existing ones off.
        tag_text = right.text_input(
            "Tags (comma separated)",
            value=", ".join(tags),
            key="edit_tags",
            max_chars=max(TAGS_TEXT_MAX, len(", ".join(tags))),
        )
        notes = st.text_area(
            "Notes", value=contact.notes or "", key="edit_notes", max_chars=CONTACT_NOTES_MAX
        )
        saved = st.form_submit_button("Save changes", icon=":material/save:")
    if saved:

        def save(*, session: Session) -> object:
            patch = parse_model(
                ContactUpdate,
                {
                    "given_name": given,
                    "family_name": family,
                    "email": email or None,
                    "phone": phone or None,
                    "job_title": job or None,
                    "notes": notes or None,
                },
            )
            return save_contact(
                session=session,
                contact_id=contact.id or 0,
                patch=patch,
                version=version,
                tags=[t for t in tag_text.split(",") if t.strip()],
                actor=user,
            )

        if not isinstance(run(save), Failed):
            forget_version(version_key)
            flash("Saved the contact's details.")
            st.rerun()
    if st.button("Reload", icon=":material/refresh:", key="contact_reload"):
        forget_version(version_key)
        st.rerun()
