"""Concerns and wellbeing cases: intake and receipts, review, actions, SLA clocks,
welfare cases, insights and retention. May import db.core, db.auth, db.people and db.models.
"""
