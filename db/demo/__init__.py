"""The demo world (fixtures and one seeder per area) and demo/bulk/ for the
benchmark scales. May import any area; no area imports it.
"""
