"""Finding people who are the same person: the registry's entry point to registry.dedup.

Fellegi–Sunter scoring: every comparison (given name, surname, organization, email domain) falls in a level with a
weight learnt from labelled pairs (registry/dedup/weights.py); a pair is proposed when the weights and the prior
estimated for the registry (registry/dedup/prior.py) add up to the posterior cut-off, and keeps each piece of
evidence with its weight. Work grows about linearly: people are only compared
within blocks sharing a key (registry/dedup/blocking.py), and each block is scored at once with arrays.
"""

from registry.dedup.blocking import MAX_BLOCK, block_map, blocked_pairs, blocking_keys, chunk_of
from registry.dedup.matching import (
    Match,
    evaluate,
    find_duplicates,
    naive_duplicates,
    person_duplicates,
    scan_duplicates,
)
from registry.dedup.records import FREE_MAIL, PersonRecord

__all__ = [
    "FREE_MAIL",
    "MAX_BLOCK",
    "Match",
    "PersonRecord",
    "block_map",
    "blocked_pairs",
    "blocking_keys",
    "chunk_of",
    "evaluate",
    "find_duplicates",
    "naive_duplicates",
    "person_duplicates",
    "scan_duplicates",
]
