"""Who is acting and what they may do: accounts and sign-in sessions, the actor,
the tamper-evident audit log, team visibility and the table of command roles.
May import db.core and db.models.
"""
