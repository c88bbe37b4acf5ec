"""Duplicate people: records (records.py) held as columns during a scan (table.py), blocking keys (blocking.py),
Fellegi–Sunter comparison levels and their weights (levels.py, weights.py), the prior estimated per registry
(prior.py), and the scan over blocks with readable evidence (matching.py).

registry.duplicate_matching is the entry point the rest of the registry uses.
"""
