"""The customer's experience: responsiveness, moments that matter, channel of
choice, customer feedback, and team outcomes beside engagement.
May import db.core, db.auth, db.people, db.pipeline, db.surveys and db.models.
"""
