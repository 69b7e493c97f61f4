"""Organisations, contacts, interactions, tasks and the contact timeline.
May import db.core, db.auth and db.models.
"""
