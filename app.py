"""Home: sign in, then what needs the signed-in person today."""

import streamlit as st

from components import page
from components.home import render_home
from components.text import escape_markdown

user = page(__file__)
# A name is typed by a person: escape it, or a markdown image in it would load.
st.title(f"Good to see you, {escape_markdown(user.display_name.split(' ')[0])}")
render_home(user)
