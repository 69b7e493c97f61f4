"""Surveys: build from a template, open and distribute links, remind, close, copy a wave."""

import datetime as dt

import pandas as pd
import streamlit as st

from components import page
from components.branding import mail_preview
from components.pipeline_ui import local_time, viewer_zone
from components.text import escape_markdown
from components.ui import Failed, act, flash, run
from db.models.people import ContactKind
from db.models.surveys import (
    DEFAULT_COMMENT_MIN,
    DEFAULT_MIN_GROUP,
    FLOOR_MIN_GROUP,
    QuestionKind,
    SurveyCreate,
    SurveyStatus,
)
from db.surveys.builder import (
    CHOICES_TEXT_MAX,
    FACTORS,
    ITEM_CODE_MAX,
    QUESTION_TEXT_MAX,
    SECTION_MAX,
    SURVEY_TITLE_MAX,
    TEMPLATES,
    add_question,
    close_survey,
    copy_to_new_wave,
    create_survey,
    delete_draft,
    edit_question,
    list_questions,
    list_surveys,
    remove_question,
)
from db.surveys.distribution import (
    SAMPLE_NAME,
    describe_send,
    issue_links,
    links_csv,
    open_survey,
    preview_mail,
    progress,
    send_round,
)
from db.surveys.employees import org_choices
from db.surveys.languages import LANGUAGES
from db.surveys.library import add_from_library, add_to_library, library
from db.surveys.schedule import Schedule, ScheduleProblem, schedule_problem, set_schedule
from db.surveys.voice import (
    CONTACT_TEMPLATES,
    AudienceChoices,
    ContactInvitations,
    ContactSurveyCreate,
    audience_choices,
    create_contact_survey,
    describe_audience,
    is_contact_survey,
    open_contact_survey,
)
from db.surveys.wording import (
    BODY_MAX,
    KINDS,
    PLACEHOLDERS,
    SUBJECT_MAX,
    Draft,
    reset_wording,
    save_wording,
    wording,
)

hr = page(__file__)
st.title("Surveys")
ANY = "(everyone)"
FOLLOW = "follow_survey"
KIND_LABELS = {
    QuestionKind.agree5: "Agreement, 1–5",
    QuestionKind.scale10: "Scale, 0–10",
    QuestionKind.choice: "Single choice",
    QuestionKind.text: "Free text",
}


def follow(survey_id: int | None) -> None:
    """Make the picker show this survey on the next run (after a create, copy or delete)."""
    st.session_state[FOLLOW] = survey_id


@st.cache_data(ttl=300, show_spinner=False)
def load_choices(user_id: int | None) -> dict[str, list[str]]:
    """Departments, teams and locations an audience can be cut by (cached per viewer)."""
    found = run(org_choices, actor=hr)
    return {"department": [], "team": [], "location": []} if isinstance(found, Failed) else found


choices = load_choices(hr.id)

with st.expander("New survey", icon=":material/add:"):
    with st.form("new_survey"):
        title = st.text_input("Title", key="new_title", max_chars=SURVEY_TITLE_MAX)
        template = st.selectbox(
            "Start from",
            list(TEMPLATES),
            key="new_template",
            format_func=lambda t: f"{t.capitalize()} template",
        )
        cols = st.columns(3)
        department = cols[0].selectbox("Audience: department", [ANY, *choices["department"]])
        team = cols[1].selectbox("Audience: team", [ANY, *choices["team"]])
        location = cols[2].selectbox("Audience: location", [ANY, *choices["location"]])
        today = dt.date.today()
        dates = st.columns(2)
        opens_on = dates[0].date_input("Opens on", value=today, key="new_opens")
        closes_on = dates[1].date_input(
            "Closes on", value=today + dt.timedelta(days=14), key="new_closes"
        )
        limits = st.columns(2)
        min_group = limits[0].number_input(
            "Confidentiality threshold",
            min_value=FLOOR_MIN_GROUP,
            value=DEFAULT_MIN_GROUP,
            key="new_min_group",
            help="No result is shown for a group with fewer responses.",
        )
        comment_min = limits[1].number_input(
            "Comment threshold",
            min_value=FLOOR_MIN_GROUP,
            value=DEFAULT_COMMENT_MIN,
            key="new_comment_min",
            help="Comments are shown only for groups at least this big.",
        )
        if st.form_submit_button("Create survey", type="primary"):
            created = run(
                create_survey,
                survey_in=SurveyCreate(
                    title=title,
                    template=template,
                    audience_department=None if department == ANY else department,
                    audience_team=None if team == ANY else team,
                    audience_location=None if location == ANY else location,
                    opens_on=opens_on,
                    closes_on=closes_on,
                    min_group=int(min_group),
                    comment_min=int(comment_min),
                ),
                actor=hr,
            )
            if not isinstance(created, Failed):
                follow(created.id)
                flash(
                    f"Created “{escape_markdown(created.title)}” as a draft. "
                    "Review its questions below."
                )
                st.rerun()


@st.cache_data(ttl=300, show_spinner=False)
def load_audience(user_id: int | None) -> AudienceChoices:
    """Tags and organisations a customer survey's audience can be cut by (cached)."""
    found = run(audience_choices, actor=hr)
    return AudienceChoices([], []) if isinstance(found, Failed) else found


with st.expander("Ask customers or citizens", icon=":material/campaign:"):
    st.caption(
        "Only contacts whose consent allows the feedback purpose get a link; the rest are "
        "counted, with the reason, when the survey opens. Consent is checked again each "
        "time links are sent."
    )
    contact_choices = load_audience(hr.id)
    org_names = dict(contact_choices.organisations)
    with st.form("new_contact_survey"):
        c_title = st.text_input("Survey title", key="contact_title", max_chars=SURVEY_TITLE_MAX)
        c_template = st.selectbox(
            "Start from",
            list(CONTACT_TEMPLATES),
            key="contact_template",
            format_func=lambda t: f"{t[0].upper()}{t[1:]} template",
        )
        c_cols = st.columns(3)
        c_kind = c_cols[0].selectbox("Kind of contact", [ANY, *[k.value for k in ContactKind]])
        c_tag = c_cols[1].selectbox("Tag", [ANY, *contact_choices.tags])
        c_org = c_cols[2].selectbox(
            "Organisation",
            [None, *org_names],
            format_func=lambda o: ANY if o is None else org_names[o],
        )
        c_dates = st.columns(2)
        c_opens = c_dates[0].date_input("Opens on", value=dt.date.today(), key="contact_opens")
        c_closes = c_dates[1].date_input(
            "Closes on", value=dt.date.today() + dt.timedelta(days=14), key="contact_closes"
        )
        c_limits = st.columns(2)
        c_min = c_limits[0].number_input(
            "Smallest group reported",
            min_value=FLOOR_MIN_GROUP,
            value=DEFAULT_MIN_GROUP,
            key="contact_min_group",
        )
        c_comment = c_limits[1].number_input(
            "Smallest group whose comments are shown",
            min_value=FLOOR_MIN_GROUP,
            value=DEFAULT_COMMENT_MIN,
            key="contact_comment_min",
        )
        c_named = st.checkbox(
            "Not anonymous: keep each answer with the contact and show it on their timeline",
            key="contact_named",
        )
        if st.form_submit_button("Create contact survey", type="primary"):
            made = run(
                create_contact_survey,
                survey_in=ContactSurveyCreate(
                    title=c_title,
                    template=c_template or "customer NPS",
                    contact_kind=None if c_kind == ANY else ContactKind(c_kind),
                    tag=None if c_tag == ANY else c_tag,
                    organisation_id=c_org,
                    opens_on=c_opens,
                    closes_on=c_closes,
                    min_group=int(c_min),
                    comment_min=int(c_comment),
                    anonymous=not c_named,
                ),
                actor=hr,
            )
            if not isinstance(made, Failed):
                follow(made.id)
                flash(
                    f"Created “{escape_markdown(made.title)}” as a draft. "
                    "Review its questions below."
                )
                st.rerun()


surveys = run(list_surveys, actor=hr)
if isinstance(surveys, Failed) or not surveys:
    if not isinstance(surveys, Failed):
        st.info("No surveys yet. Create one from a template above.")
    st.stop()
by_id = {s.id: s for s in surveys}
followed = st.session_state.pop(FOLLOW, None)
if followed in by_id:
    st.session_state["chosen_survey"] = followed
if st.session_state.get("chosen_survey") not in by_id:
    st.session_state["chosen_survey"] = surveys[0].id
# The label never changes with the survey's status: a label that changed under a chosen
# survey (open → closed) would let the picker fall back to another survey.
chosen = st.selectbox(
    "Survey",
    list(by_id),
    format_func=lambda i: f"{by_id[i].title} · #{i}",
    key="chosen_survey",
)
survey = by_id[chosen]
survey_id = int(chosen or 0)
# Every action's key carries the survey's id, so a click only ever acts on the survey
# that was on screen when it was made.
sid = f"s{survey_id}"
for_contacts = is_contact_survey(survey)
quoted = f"“{escape_markdown(survey.title)}”"

if for_contacts:
    words = run(describe_audience, survey=survey)
    audience = "contacts" if isinstance(words, Failed) else words
else:
    audience = (
        ", ".join(
            v
            for v in (survey.audience_department, survey.audience_team, survey.audience_location)
            if v
        )
        or "everyone"
    )
st.caption(
    f"Status: {survey.status} · {survey.opens_on:%d %b %Y} to {survey.closes_on:%d %b %Y} · "
    f"audience: {escape_markdown(audience)} · threshold {survey.min_group}, comments from "
    f"{survey.comment_min} · wave {survey.wave} · survey id {survey_id} (for "
    f"`manage.py survey-links --survey {survey_id}`)"
)

found_questions = run(list_questions, survey_id=survey_id)
questions = [] if isinstance(found_questions, Failed) else found_questions
st.subheader("Questions")
if questions:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": q.position,
                    "Section": q.section,
                    "Code": q.code,
                    "Question": q.text,
                    "Type": KIND_LABELS[QuestionKind(q.kind)],
                    "Factor": q.factor or "",
                }
                for q in questions
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No questions yet.")

if questions and survey.status != SurveyStatus.closed.value:
    with (
        st.expander("Edit a question", icon=":material/edit:"),
        st.form(f"edit_question_{sid}"),
    ):
        st.caption(
            "Wording and sections can change until the first answer arrives; the item code "
            "and the type stay, so results still trend across waves."
        )
        by_position = {q.position: q for q in questions}
        picked = st.selectbox(
            "Question",
            list(by_position),
            format_func=lambda p: f"{p}. {by_position[p].code}",
            key=f"edit_pick_{sid}",
        )
        editing = by_position[picked or next(iter(by_position))]
        new_text = st.text_input(
            "New wording (leave empty to keep it)", max_chars=QUESTION_TEXT_MAX
        )
        new_section = st.text_input("Section (leave empty to keep it)", max_chars=SECTION_MAX)
        if st.form_submit_button("Save the question"):
            act(
                edit_question,
                done=f"Saved question {escape_markdown(editing.code)} of {quoted}.",
                question_id=editing.id or 0,
                text=new_text or editing.text,
                section=new_section or editing.section,
                actor=hr,
            )

if survey.status == SurveyStatus.draft.value:
    with (
        st.expander("Add a question", icon=":material/playlist_add:"),
        st.form(f"add_question_{sid}"),
    ):
        cols = st.columns(3)
        section = cols[0].text_input("Section", value="Questions", max_chars=SECTION_MAX)
        code = cols[1].text_input(
            "Item code", help="Stable across waves, e.g. mgr_support.", max_chars=ITEM_CODE_MAX
        )
        kind = cols[2].selectbox("Type", list(QuestionKind), format_func=KIND_LABELS.__getitem__)
        text = st.text_input("Question", max_chars=QUESTION_TEXT_MAX)
        factor = st.selectbox("Factor (agreement questions)", FACTORS)
        options = st.text_area("Choices (single choice; one per line)", max_chars=CHOICES_TEXT_MAX)
        required = st.checkbox("Required", value=True)
        if st.form_submit_button("Add question"):
            act(
                add_question,
                done=f"Added question {escape_markdown(code.strip().lower())} to {quoted}.",
                survey_id=survey_id,
                section=section,
                code=code,
                text=text,
                kind=QuestionKind(kind or QuestionKind.agree5),
                factor=factor,
                choices=options.splitlines(),
                required=required,
                actor=hr,
            )
    with st.expander("Question library", icon=":material/library_books:"):
        kept = run(library, actor=hr)
        shelf = {} if isinstance(kept, Failed) else {q.code: q for q in kept}
        in_survey = {q.code for q in questions}
        offered = [c for c in shelf if c not in in_survey]
        lib_cols = st.columns([3, 1])
        taken = lib_cols[0].selectbox(
            "Add from the library",
            offered,
            format_func=lambda c: f"{c}: {shelf[c].text}",
            key=f"library_pick_{sid}",
        )
        if lib_cols[1].button("Add", key=f"library_add_{sid}", disabled=not offered):
            act(
                add_from_library,
                done=f"Added question {escape_markdown(str(taken))} to {quoted}.",
                survey_id=survey_id,
                code=str(taken),
                actor=hr,
            )
        with st.form(f"library_new_{sid}", clear_on_submit=True):
            st.markdown("**Keep a new question in the library**")
            lcols = st.columns(3)
            l_section = lcols[0].text_input("Section", value="Questions", max_chars=SECTION_MAX)
            l_code = lcols[1].text_input("Item code", max_chars=ITEM_CODE_MAX)
            l_kind = lcols[2].selectbox(
                "Type", list(QuestionKind), format_func=KIND_LABELS.__getitem__
            )
            l_text = st.text_input("Question", max_chars=QUESTION_TEXT_MAX)
            l_factor = st.selectbox("Factor (agreement questions)", FACTORS)
            l_options = st.text_area(
                "Choices (single choice; one per line)", max_chars=CHOICES_TEXT_MAX
            )
            if st.form_submit_button("Keep in the library"):
                act(
                    add_to_library,
                    done=f"Kept {escape_markdown(l_code.strip().lower())} in the library.",
                    section=l_section,
                    code=l_code,
                    text=l_text,
                    kind=QuestionKind(l_kind or QuestionKind.agree5),
                    factor=l_factor,
                    choices=l_options.splitlines(),
                    required=QuestionKind(l_kind or QuestionKind.agree5) != QuestionKind.text,
                    actor=hr,
                )
    if questions:
        remove_cols = st.columns([3, 1])
        by_code = {q.code: q for q in questions}
        doomed = remove_cols[0].selectbox(
            "Remove question", list(by_code), key=f"remove_code_{sid}"
        )
        if remove_cols[1].button("Remove", key=f"remove_question_{sid}"):
            act(
                remove_question,
                done=f"Removed question {escape_markdown(str(doomed))} from {quoted}.",
                question_id=by_code[doomed].id or 0,
                actor=hr,
            )
    st.subheader("Open")
    st.caption(
        "Opening invites the contacts of the audience who allow feedback requests, and "
        "freezes the questions."
        if for_contacts
        else "Opening invites everyone in the audience and freezes the questions."
    )
    if st.button(f"Open and invite the audience of {quoted}", type="primary", key=f"open_{sid}"):
        with st.spinner("Checking consent and inviting…"):
            outcome = (
                run(open_contact_survey, survey_id=survey_id, actor=hr)
                if for_contacts
                else run(open_survey, survey_id=survey_id, actor=hr)
            )
        if not isinstance(outcome, Failed):
            st.session_state["opened_report"] = (survey_id, outcome)
            st.rerun()
    with st.expander("Delete this draft", icon=":material/delete:"):
        st.caption("A draft that was never opened can be deleted with its questions.")
        if st.button(f"Delete the draft {quoted}", key=f"delete_{sid}"):
            deleted = run(delete_draft, survey_id=survey_id, actor=hr)
            if not isinstance(deleted, Failed):
                follow(None)
                flash(f"Deleted the draft “{escape_markdown(deleted)}”.")
                st.rerun()

opened = st.session_state.get("opened_report")
if opened and opened[0] == survey_id:
    outcome = opened[1]
    if isinstance(outcome, ContactInvitations):
        st.success(
            f"Opened {quoted}: {outcome.invited} contacts invited; {outcome.skipped_total} "
            "left out. Now send or download their links."
        )
        if outcome.skipped:
            st.dataframe(
                pd.DataFrame(
                    [
                        {"Left out because the contact…": why, "Contacts": n}
                        for why, n in sorted(outcome.skipped.items(), key=lambda kv: -kv[1])
                    ]
                ),
                hide_index=True,
            )
    else:
        st.success(f"Opened {quoted}: {outcome:,} people invited. Now send or download links.")


def describe_schedule() -> str:
    """The survey's schedule in a line, with how many reminders have gone (counts only)."""
    parts = []
    if survey.opens_at and survey.status == SurveyStatus.draft.value:
        parts.append(f"opens by itself {local_time(survey.opens_at)}")
    if survey.closes_at:
        parts.append(f"closes by itself {local_time(survey.closes_at)}")
    if survey.remind_max:
        rule = f"first {survey.remind_after_days} days after opening"
        if survey.remind_max > 1:
            rule += f", then every {survey.remind_every_days} days"
        parts.append(f"up to {survey.remind_max} reminders ({rule})")
    told = " · ".join(parts) or "no schedule: opening, reminders and closing are done by hand"
    return f"{told} · reminders sent so far: {survey.reminders_sent}"


def pick_moment(
    label: str, stored: dt.datetime | None, default: dt.date, hour: int, key: str
) -> dt.datetime | None:
    """A date and a time in the viewer's zone, or None when left unticked; UTC."""
    zone = viewer_zone()
    shown = stored.astimezone(zone) if stored else None
    wanted = st.checkbox(label, value=stored is not None, key=f"{key}_on_{sid}")
    cols = st.columns(2)
    day = cols[0].date_input(
        "Date", value=shown.date() if shown else default, key=f"{key}_date_{sid}"
    )
    at = cols[1].time_input(
        "Time", value=shown.time() if shown else dt.time(hour), key=f"{key}_time_{sid}"
    )
    if not wanted or day is None or at is None:
        return None
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


if survey.status != SurveyStatus.closed.value:
    st.subheader("Schedule")
    st.caption(
        f"Now: {escape_markdown(describe_schedule())}. The worker (`manage.py worker`, "
        "started by `make run`) opens, reminds only those who have not answered, and "
        "closes at these times; who has answered is never shown."
    )
    problem = run(schedule_problem, survey_id=survey_id, actor=hr)
    if isinstance(problem, ScheduleProblem):
        st.warning(
            f"The worker could not open this survey at {escape_markdown(local_time(problem.at))}:"
            f" {escape_markdown(problem.reason)} Fix that, then set the opening time again."
        )
    with st.form(f"schedule_{sid}"):
        st.caption(f"Times are in your time zone ({escape_markdown(str(viewer_zone()))}).")
        opens_at = (
            pick_moment("Open at a set time", survey.opens_at, survey.opens_on, 9, "sched_open")
            if survey.status == SurveyStatus.draft.value
            else None
        )
        closes_at = pick_moment(
            "Close at a set time", survey.closes_at, survey.closes_on, 17, "sched_close"
        )
        rule = st.columns(3)
        remind_max = rule[0].number_input(
            "Reminders, at most", 0, 10, survey.remind_max, key=f"sched_max_{sid}"
        )
        remind_after = rule[1].number_input(
            "First reminder after (days)",
            1,
            365,
            survey.remind_after_days or 3,
            key=f"sched_after_{sid}",
        )
        remind_every = rule[2].number_input(
            "Then every (days)", 1, 365, survey.remind_every_days or 3, key=f"sched_every_{sid}"
        )
        if st.form_submit_button("Save schedule"):
            act(
                set_schedule,
                done=f"Saved the schedule of {quoted}.",
                survey_id=survey_id,
                schedule=Schedule(
                    opens_at=opens_at,
                    closes_at=closes_at,
                    remind_after_days=int(remind_after) if remind_max else None,
                    remind_every_days=int(remind_every) if remind_max else None,
                    remind_max=int(remind_max),
                ),
                actor=hr,
            )


def wording_editor() -> None:
    """HR's wording of the invitation and reminder, per language, with a preview."""
    st.caption(
        escape_markdown(
            "Placeholders: "
            + "; ".join(f"{{{name}}} {meaning}" for name, meaning in PLACEHOLDERS.items())
            + ". What the survey stores, a button for the link and, for customers, how to "
            "stop such emails are added by Rapport in the email's language. Each language "
            "the survey is translated into gets its part of the email."
        )
    )
    cols = st.columns(2)
    language = str(
        cols[0].selectbox(
            "Language",
            list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key=f"wording_language_{sid}",
        )
    )
    kind = str(
        cols[1].selectbox(
            "Email", list(KINDS), format_func=KINDS.__getitem__, key=f"wording_kind_{sid}"
        )
    )
    current = run(wording, survey_id=survey_id, language=language, kind=kind)
    if isinstance(current, Failed):
        return
    named = f"{KINDS[kind].lower()} in {LANGUAGES[language]}"
    st.caption(
        f"Your own wording of the {named}."
        if current.edited
        else f"Rapport's default wording of the {named}; change it and save to use yours."
    )
    keys = [f"wording_{part}_{sid}_{language}_{kind}" for part in ("subject", "body")]
    with st.form(f"wording_{sid}_{language}_{kind}"):
        subject = st.text_input(
            "Subject", value=current.subject, max_chars=SUBJECT_MAX, key=keys[0]
        )
        body = st.text_area("Text", value=current.body, max_chars=BODY_MAX, height=260, key=keys[1])
        buttons = st.columns(3)
        save = buttons[0].form_submit_button("Save wording", type="primary")
        show = buttons[1].form_submit_button("Preview", icon=":material/visibility:")
        reset = buttons[2].form_submit_button(
            "Back to the default wording", disabled=not current.edited
        )
    draft = Draft(language, kind, subject, body)
    if save:
        act(
            save_wording,
            done=f"Saved the {named} of {quoted}; the next emails use it.",
            survey_id=survey_id,
            draft=draft,
            actor=hr,
        )
    if reset:
        for key in keys:
            st.session_state.pop(key, None)
        act(
            reset_wording,
            done=f"The {named} of {quoted} is back to the default wording.",
            survey_id=survey_id,
            language=language,
            kind=kind,
            actor=hr,
        )
    if show:
        with st.spinner("Writing the preview…"):
            preview = run(preview_mail, survey_id=survey_id, draft=draft, actor=hr)
        if not isinstance(preview, Failed):
            st.caption(
                f"As {escape_markdown(SAMPLE_NAME)} would receive it (a sample link that "
                "opens nothing). Nothing is saved until you save."
            )
            mail_preview(preview)


if survey.status != SurveyStatus.closed.value:
    with st.expander("Invitation and reminder wording", icon=":material/mail:"):
        wording_editor()

if survey.status == SurveyStatus.open.value:
    st.subheader("Distribution")
    state = run(progress, survey_id=survey_id, actor=hr)
    if not isinstance(state, Failed):
        answered = (
            f"{state.answered}" if state.answered is not None else f"fewer than {state.min_group}"
        )
        st.metric("Invited", state.invited)
        st.caption(
            f"Answered so far: {answered}. Counts move only in steps of {state.min_group} or "
            "more answers per team, and who answered is never shown."
        )
    st.caption(
        "Rapport emails each person their own link, and reminders only to those who have not "
        "answered, so nobody here learns who that is. Each link works once. A send the mail "
        "server cut short is finished by sending again: nobody gets the same email twice."
    )
    cols = st.columns(3)
    for column, label, reminder in (
        (cols[0], "Email the links", False),
        (cols[1], "Send a reminder", True),
    ):
        if column.button(escape_markdown(label), key=f"send_{reminder}_{sid}"):
            with st.spinner("Sending…"):
                report = run(send_round, survey_id=survey_id, actor=hr, reminder=reminder)
            if not isinstance(report, Failed):
                told = escape_markdown(describe_send(report))
                if report.addresses:
                    told += " Addresses the mail server cannot take: " + ", ".join(
                        escape_markdown(a) for a in report.addresses
                    )
                flash(f"{quoted}: {told}", kind="success" if report.sent else "info")
                st.rerun()
    if cols[2].button("Prepare links for mail merge (CSV)", key=f"issue_links_{sid}"):
        links = run(issue_links, survey_id=survey_id, actor=hr)
        if not isinstance(links, Failed):
            st.session_state["links_csv"] = (survey_id, links_csv(links), len(links), False)
    st.caption(
        "The mail-merge list holds only people who have never been sent a link. Answers "
        "through links that were downloaded are counted apart in the results."
    )
    with st.expander("Download links for everyone who has not answered", icon=":material/warning:"):
        st.warning(
            "This list names everyone who has not answered yet: it breaks the confidentiality "
            "of the survey, is recorded in the audit log, and answers through its links are "
            "counted apart in the results. Send reminders by email instead wherever you can."
        )
        understood = st.checkbox(
            "I understand that this list breaks confidentiality", key=f"unanswered_ack_{sid}"
        )
        if st.button("Prepare the list", key=f"issue_unanswered_{sid}", disabled=not understood):
            marked = run(issue_links, survey_id=survey_id, actor=hr, everyone_unanswered=True)
            if not isinstance(marked, Failed):
                st.session_state["links_csv"] = (
                    survey_id,
                    links_csv(marked, breaks_confidentiality=True),
                    len(marked),
                    True,
                )
    pending = st.session_state.get("links_csv")
    if pending and pending[0] == survey_id:
        marked_name = "-breaks-confidentiality" if pending[3] else ""
        if pending[2]:
            st.download_button(
                f"Download {pending[2]:,} links to {quoted} (CSV)"
                + (" — breaks confidentiality" if pending[3] else ""),
                pending[1],
                file_name=f"survey-{survey_id}-links{marked_name}.csv",
                mime="text/csv",
                key=f"download_links_{sid}",
            )
        else:
            st.info("Everyone has been sent a link already; send a reminder by email instead.")
    if st.button(f"Close the survey {quoted}", key=f"close_{sid}"):
        act(close_survey, done=f"Closed {quoted}.", survey_id=survey_id, actor=hr)

st.subheader("Next wave")
with st.form(f"copy_wave_{sid}"):
    st.caption("A copy keeps every question and item code, so results trend across waves.")
    # The suggested title is cut to fit, so the box never holds more than a title may.
    suggested = f"{survey.title} (next wave)"[:SURVEY_TITLE_MAX]
    new_title = st.text_input(
        "Title of the new wave",
        value=suggested,
        max_chars=SURVEY_TITLE_MAX,
        key=f"wave_title_{sid}",
    )
    wave_cols = st.columns(2)
    next_open = wave_cols[0].date_input(
        "Opens on", value=dt.date.today() + dt.timedelta(days=90), key=f"wave_opens_{sid}"
    )
    next_close = wave_cols[1].date_input(
        "Closes on", value=dt.date.today() + dt.timedelta(days=104), key=f"wave_closes_{sid}"
    )
    if st.form_submit_button(f"Copy to a new wave: {quoted}"):
        wave = run(
            copy_to_new_wave,
            survey_id=survey_id,
            title=new_title,
            opens_on=next_open,
            closes_on=next_close,
            actor=hr,
        )
        if not isinstance(wave, Failed):
            follow(wave.id)
            flash(
                f"Created “{escape_markdown(wave.title)}” (wave {wave.wave}) as a draft, "
                f"copied from {quoted}."
            )
            st.rerun()
