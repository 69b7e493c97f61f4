"""Spreadsheet imports (batches, kinds, files, rows and one module per kind) and
exports. May import every area below it: core, auth, people, pipeline, consent, surveys.
"""
