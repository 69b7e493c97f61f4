"""Every HTTP route Rapport serves beside its pages, in one explicit list.

app.py passes `routes()` to `st.App`, so `streamlit run app.py` (and `make run`) serve
these paths on the same port as the pages. A module adds its own routes by exposing a
list of Starlette routes and naming it here, one line each; nothing registers itself by
being imported. Paths must not start with Streamlit's own prefixes (`/_stcore/`,
`/media/`, `/component/`, `/static/`); everything under `/api/v1/` is the token API.
"""

from starlette.routing import BaseRoute

import api.unsubscribe
import api.v1


def routes() -> list[BaseRoute]:
    """The routes of every module, in the order Starlette tries them."""
    return [
        *api.v1.routes,
        *api.unsubscribe.routes,
    ]
