"""Home: sign in, then what needs the signed-in person today.

Streamlit runs this file as the Home script (under the name `__main__`). `streamlit run
app.py` first imports it as a module to find `app` below: the one server that serves the
pages and, beside them, the HTTP routes of api/ (api/server.py lists them).
"""

import streamlit as st

if __name__ == "__main__":
    from components import page
    from components.home import render_home
    from components.text import escape_markdown

    user = page(__file__)
    # A name is typed by a person: escape it, or a markdown image in it would load.
    st.title(f"Good to see you, {escape_markdown(user.display_name.split(' ')[0])}")
    render_home(user)
else:
    from streamlit import config

    from api.server import routes
    from db.core.settings import get_settings

    # The organisation's colour is the theme's primary colour in every session. Set
    # here, once, before the server starts: the page modules are not imported yet.
    if colour := get_settings().brand_colour:
        config.set_option("theme.primaryColor", colour, where_defined="RAPPORT_BRAND_COLOUR")
    app = st.App(__file__, routes=routes())
