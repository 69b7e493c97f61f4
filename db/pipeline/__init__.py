"""Deals through stages: commands (create, move, win, lose), queries (board, lists),
setup (pipelines and stages), forecast, metrics and targets.
May import db.core, db.auth, db.people and db.models.
"""
