"""Reusable UI: the page guard, sign-in, sidebar, tables and charts."""

from components.guard import page

__all__ = ["page"]
