"""Rapport and the systems around it: connected mailboxes, API tokens, outgoing webhooks
and the notification service. May import db.core, db.auth, db.people and db.models;
other areas reach it only through the hooks listed in db/wiring.py.
"""
