"""The HTTP edge: Starlette routes served by the same server as the pages.

A thin layer like pages/: a handler parses the request, calls one db/ command and maps
its domain errors to status codes. No business rule and no SQL live here. `server.py`
holds the one list of every module's routes, which app.py hands to `st.App`. It may
import db/ (never components/ or pages/) and Starlette; db/ never imports it.
"""
