"""Finding and merging duplicate contacts and organisations.
May import db.core, db.auth, db.people and db.models.
"""
