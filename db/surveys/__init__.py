"""Engagement and customer surveys: builder, templates, distribution, answers,
tallies, reports, the report tree's privacy, voice of the customer, employees.
May import db.core, db.auth, db.people and db.models.
"""
