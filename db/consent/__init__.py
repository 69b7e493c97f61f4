"""Consent and data-subject rights: records, current state, the ledger, the marketing
check, CSV import, receipts, requests and erasure; consent/audit/ holds the audit's
findings. May import db.core, db.auth, db.people and db.models.
"""
