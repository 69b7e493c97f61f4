"""The benchmark worlds: bulk inserts at scale, one module per area.
May import any area and db.demo.
"""
