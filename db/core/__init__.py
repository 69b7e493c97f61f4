"""The ground floor: settings, the engine, errors, column types, validation, text
normalisation, deadlines, migrations, backups, public-form limits, the report cache and
the small-group rule. Imports nothing of Rapport but db.models.
"""
