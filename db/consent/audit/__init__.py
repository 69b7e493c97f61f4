"""The consent audit: one module per family of findings, and the report that
walks them. May import db.consent and what it may.
"""
