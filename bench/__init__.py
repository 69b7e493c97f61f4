"""The page-latency benchmark: `python -m bench --help`."""
