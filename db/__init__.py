"""Rapport's data layer: tables, sessions and one module of commands per area."""
