"""Home: sign in, then what needs the signed-in person today."""

import streamlit as st

from components import page
from components.home import render_home

user = page("Home", icon=":material/home:")
st.title(f"Good to see you, {user.display_name.split(' ')[0]}")
render_home(user)
