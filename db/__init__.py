"""Rapport's data layer: tables, sessions and one package of commands per area.

Areas depend downward: core <- auth <- people <- the others (pipeline, experience, cases,
consent, surveys, imports, duplicates); demo builds on all of them. `db.wiring` connects
the areas' hooks, once, here.
"""

from db import wiring

wiring.connect()
