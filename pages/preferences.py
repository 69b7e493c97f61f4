"""Your preferences: public, opened from the personal link in our emails (?token=…)."""

import json

import streamlit as st

from components import page
from components.i18n import language_picker, t
from components.text import escape_markdown
from components.ui import FAILED, flash, run
from db.consent.preferences import (
    CHANNEL_WORDS,
    CHOICE_CHANNELS,
    PREFERRED_CHANNELS,
    TOKEN_MAX,
    Preferences,
    my_receipt,
    open_preferences,
    set_choice,
    set_preferred_channel,
    stop_everything,
)
from db.core.settings import get_settings
from db.models.consent import ConsentChannel

page(__file__, public=True)
organisation = get_settings().organisation_name
language_picker()
st.title(t("Your preferences"))
st.caption(
    t(
        "Choose what you hear from {organisation} and how. Each change takes effect at once "
        "and is kept as a record of your choice.",
        organisation=escape_markdown(organisation),
    )
)

token = str(st.query_params.get("token", "")).strip()
if not token:
    st.info(
        t(
            "Open the personal link from one of our emails. If you only have the code at "
            "the end of the link (after token=), paste it here."
        )
    )
    token = st.text_input(t("Link code"), key="pref_token", max_chars=TOKEN_MAX).strip()
    if not token:
        st.stop()

loaded = run(open_preferences, token=token)
if loaded is FAILED:
    st.stop()
assert isinstance(loaded, Preferences)
prefs = loaded


def change(purpose_id: int, channel: ConsentChannel, agree: bool, notice_id: int | None) -> None:
    """One click per choice: record it and say so."""
    changed = run(
        set_choice,
        token=token,
        purpose_id=purpose_id,
        channel=channel,
        agree=agree,
        notice_id=notice_id,
    )
    if changed is FAILED:
        # Refused: the switch goes back to what is recorded.
        st.session_state[f"pref_{purpose_id}_{channel.value}"] = not agree
    else:
        flash(t("Saved: you agreed.") if agree else t("Saved: we will stop."))


if not prefs.choices:
    st.info(t("There is nothing to choose yet."))
for choice in prefs.choices:
    with st.container(border=True):
        st.subheader(escape_markdown(choice.name))
        st.text(choice.wording)
        if choice.notice_version is not None:
            st.caption(t("Wording version {version}", version=f"{choice.notice_version:d}"))
        columns = st.columns(len(CHOICE_CHANNELS))
        for column, channel in zip(columns, CHOICE_CHANNELS, strict=True):
            on = choice.agreed(channel)
            column.toggle(
                t(CHANNEL_WORDS[channel]),
                value=on,
                key=f"pref_{choice.purpose_id}_{channel.value}",
                on_change=change,
                args=(choice.purpose_id, channel, not on, choice.notice_id),
                help=t("Currently: {state}", state=t(choice.states[channel].value)),
            )
        for channel, event_id in choice.grants.items():
            receipt = run(my_receipt, token=token, event_id=event_id)
            if receipt is not FAILED:
                st.download_button(
                    t(
                        "Download the receipt of your agreement ({channel})",
                        channel=t(CHANNEL_WORDS[channel].lower()),
                    ),
                    json.dumps(receipt, indent=2),
                    file_name=f"consent-receipt-{choice.code}-{channel.value}.json",
                    mime="application/json",
                    key=f"receipt_{choice.purpose_id}_{channel.value}",
                )

st.subheader(t("How should we reach you?"))
options = ["No preference", *PREFERRED_CHANNELS]
current = prefs.preferred or "No preference"
# Labels fixed now, in the visitor's language (the widget formats them later too).
shown = {option: escape_markdown(t(option)) for option in options}
preferred = st.radio(
    t("Preferred channel"),
    options,
    index=options.index(current),
    format_func=shown.__getitem__,
    key="pref_channel",
    horizontal=True,
)
if preferred != current:
    done = run(
        set_preferred_channel,
        token=token,
        preferred=None if preferred == "No preference" else preferred,
    )
    if done is not FAILED:
        flash(t("Saved: we will use the channel you chose."))
        st.rerun()

st.subheader(t("Stop everything"))
st.caption(t("Withdraws every agreement above, on every channel, in one click."))
if st.button(t("Stop everything"), type="primary", key="pref_stop"):
    stopped = run(stop_everything, token=token)
    if stopped is not FAILED:
        if not stopped:
            flash(t("Nothing was in force, so nothing changed."))
        elif stopped == 1:
            flash(t("Done: 1 agreement withdrawn."))
        else:
            flash(t("Done: {count} agreements withdrawn.", count=stopped))
        st.rerun()
