"""The framework's floor: a page that does nothing, timed like every other page."""

import streamlit as st

st.write("")
