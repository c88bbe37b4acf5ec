"""Blocking: people are compared only within blocks sharing a key. Several keys, so one typo rarely loses a pair.

Keys: the email address and its local part; the surname's Metaphone code (typos that sound alike: "mccarthy" /
"mccrathy"); the given name with the surname's first letter (a surname typo anywhere after it: "bralic" / "brhalic");
the surname's first and last three letters with the given initial (q-gram keys for typos Metaphone hears); both codes
in sorted order (a swapped order, typos and all); the letters of the whole name without spaces ("wil liam"); the
organization with the given initial. Blocks bigger than MAX_BLOCK are cut by given initial, then into slices.
"""

import zlib
from collections import defaultdict
from collections.abc import Iterable

from registry.dedup.records import PersonRecord

MAX_BLOCK = 50
WINDOW = 20  # sorted-neighbourhood window; windows overlap by half


def blocking_keys(record: PersonRecord) -> set[str]:
    """The keys of one record (sorted-neighbourhood windows come on top, from the whole population: `block_map`)."""
    keys = {f"email:{k}" for k in record.email_keys}
    keys.update(f"local:{part}" for part in record.local_parts)
    given, surname, initial = record.given, record.surname, record.given[:1]
    if surname:
        keys.add(f"sound:{record.surname_code}:{initial}")
    if len(given) > 1 and surname:
        keys.add(f"sound:{record.given_code}:{surname[0]}")  # meets the surname key of a swapped record
        keys.add(f"joined:{record.joined}")
    for org_id in record.organizations:
        keys.add(f"org:{org_id}:{initial}")
    return keys


def chunk_of(block_key: str, chunks: int) -> int:
    return zlib.crc32(block_key.encode()) % chunks


def _neighbourhoods(records: list[PersonRecord]) -> dict[str, list[PersonRecord]]:
    """Sorted neighbourhood: overlapping windows over the names sorted two ways (given name first, surname first),
    so near names meet whatever their blocking keys ("dominic" / "dominic flockhdart")."""
    windows: dict[str, list[PersonRecord]] = {}
    orders = {
        "near": lambda r: (r.joined, r.id),
        "near-surname": lambda r: (r.surname + r.given + "".join(r.middle), r.id),
    }
    for name, order in orders.items():
        ranked = sorted((r for r in records if r.joined), key=order)
        for start in range(0, max(len(ranked) - WINDOW // 2, 1), WINDOW // 2):
            windows[f"{name}:{start // (WINDOW // 2)}"] = ranked[start : start + WINDOW]
    return windows


def block_map(
    records: Iterable[PersonRecord], *, only_block_keys: set[str] | None = None, chunk: tuple[int, int] | None = None
) -> dict[str, list[PersonRecord]]:
    """Blocks to score by key, each sorted by id (so a block is cut the same way whatever the order of `records`);
    optionally only some keys, or only the keys of one chunk (`chunk=(n, of)`) of a scan."""
    records = list(records)
    by_key: dict[str, list[PersonRecord]] = defaultdict(list)
    for record in records:
        for key in blocking_keys(record):
            by_key[key].append(record)
    by_key.update(_neighbourhoods(records))
    out: dict[str, list[PersonRecord]] = {}
    for key, members in by_key.items():
        if len(members) < 2:
            continue
        if (only_block_keys is not None and key not in only_block_keys) or (
            chunk is not None and chunk_of(key, chunk[1]) != chunk[0]
        ):
            continue
        if len(members) <= MAX_BLOCK:
            out[key] = sorted(members, key=lambda m: m.id)
            continue
        # A big block (a common name): overlapping slices of the block sorted by name, so work stays linear and
        # near names still meet.
        ranked = sorted(members, key=lambda m: (m.joined, m.id))
        step = MAX_BLOCK // 2
        for start in range(0, max(len(ranked) - step, 1), step):
            out[f"{key}/{start // step}"] = sorted(ranked[start : start + MAX_BLOCK], key=lambda m: m.id)
    return out


def blocked_pairs(records: list[PersonRecord]) -> set[tuple[int, int]]:
    """Every pair that meets in a block, i.e. is ever compared (for measuring blocking recall)."""
    pairs: set[tuple[int, int]] = set()
    for block in block_map(records).values():
        ids = [m.id for m in block]
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs
