"""Blocking: people are compared only within blocks sharing a key. Several keys, so one typo rarely loses a pair.

Every key is a function of the record alone (no windows over a sorted population), so the blocks one person is in can
be looked up by key in an index (registry.models.PersonBlockKey) and a person's check finds exactly the pairs of a
whole scan. Keys come in families, each a coarse key and finer ones:

- the email address and its local part;
- the surname's Metaphone code with the given initial (typos that sound alike: "mccarthy" / "mccrathy"), finer with
  the given name's code;
- the given name's code with the surname's first letter (a surname typo anywhere after it: "bralic" / "brhalic"; it
  also meets the surname key of a swapped order), finer with the surname's code;
- the given name with the surname's last three letters (a typo in the surname's first letters), finer with the
  surname's code;
- the letters of the whole name without spaces ("wil liam"), finer with the organization;
- the first two letters of each name (a typo in each name after them: "luca mccadrthy" / "lucas mccarthy"), finer
  with the surname's or the given name's next two letters;
- a lone name's code, for records with a surname only (they meet each other whatever the common names around);
- the surname and each of its one-letter deletions (SymSpell's deletion neighbourhood: surnames one edit or one
  swap of neighbours apart share one, whatever the given names: "liam mcphail" / "zebediah mcpahil", and a lone
  name against a full one, "waller" / "jamilla wallner");
- the organization with the given initial, finer with the given name's code.

Index rows written before a family was added lack its keys until the next whole scan reconciles them.

A record uses a family's coarse key when at most MAX_BLOCK records share it; over that (a common name), its finer keys
instead, each if at most MAX_FINE records share it — as Splink leaves out blocking rules that make too many pairs.
Work then grows linearly: each record meets at most a few hundred others.
"""

import zlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from registry.dedup.records import PersonRecord

MAX_BLOCK = 50
MAX_FINE = 100


def key_families(record: PersonRecord) -> list[tuple[str, tuple[str, ...]]]:
    """(coarse key, finer keys) of each blocking family of one record."""
    families: list[tuple[str, tuple[str, ...]]] = [(f"email:{k}", ()) for k in sorted(record.email_keys)]
    families += [(f"local:{part}", ()) for part in sorted(record.local_parts)]
    given, surname, initial = record.given, record.surname, record.given[:1]
    orgs = sorted(record.organizations)
    org_refinements = [str(o) for o in orgs]
    if surname:
        if given:
            families.append(_family(f"sound:{record.surname_code}:{initial}", [record.given_code]))
        families.append(_family(f"surname:{surname}", org_refinements))
        families += [_family(f"org-sound:{o}:{record.surname_code}", []) for o in orgs]
        families += [_family(f"org-start:{o}:{surname[:3]}", []) for o in orgs if len(surname) >= 3]
    for code in {record.given_code if len(given) > 1 else "", record.surname_code} - {""}:
        # Either name meets either name of another record ("lavis henry" / "jordan lavis"; a lone "luke").
        families.append(_family(f"token:{code}", org_refinements))
    if len(given) > 1 and surname:
        # Meets the surname key of a swapped record ("smith john": surname code JN, initial s).
        families.append(_family(f"sound:{record.given_code}:{surname[0]}", [record.surname_code]))
        if len(surname) > 3:
            families.append(_family(f"tail:{given}:{surname[-3:]}", [record.surname_code]))
        families.append(_family(f"joined:{record.joined}", [str(o) for o in orgs]))
        # A typo in each name after its first two letters ("luca mccadrthy" / "lucas mccarthy").
        families.append(_family(f"start:{given[:2]}:{surname[:2]}", [f"s{surname[2:4]}", f"g{given[2:4]}"]))
    elif surname and not given:  # one name only: meets the others with one name, whatever the names around
        families.append(_family(f"lone:{record.surname_code}", []))
    families += [_family(f"del:{variant}", []) for variant in sorted(one_deletions(surname))]
    for org_id in orgs:
        families.append(_family(f"org:{org_id}:{initial}", [record.given_code] if given else []))
    return families


def one_deletions(word: str) -> set[str]:
    """The word and the word less each one letter, for words of at least three and four letters: two words one edit
    apart (or two neighbours swapped) share one of them."""
    if len(word) < 3:
        return set()
    return {word} | ({word[:i] + word[i + 1 :] for i in range(len(word))} if len(word) >= 4 else set())


def _family(coarse: str, refinements: list[str]) -> tuple[str, tuple[str, ...]]:
    """A coarse key and its finer keys, each the coarse key and more (two records sharing a finer key share the
    coarse one, so they decide alike which of the two to use)."""
    return coarse, tuple(f"{coarse}+{extra}" for extra in refinements)


def blocking_keys(record: PersonRecord) -> set[str]:
    """Every key of one record, coarse and fine (what the index stores for it)."""
    return {key for coarse, fine in key_families(record) for key in (coarse, *fine)}


def chunk_of(block_key: str, chunks: int) -> int:
    return zlib.crc32(block_key.encode()) % chunks


def keys_in_use(families: list[tuple[str, tuple[str, ...]]], counts: Mapping[str, int]) -> set[str]:
    """The keys a record is blocked on, given how many records share each key (`counts`, over the population)."""
    used = set()
    for coarse, fine in families:
        if counts.get(coarse, 0) <= MAX_BLOCK:
            used.add(coarse)
        else:
            used.update(key for key in fine if counts.get(key, 0) <= MAX_FINE)
    return used


@dataclass
class Blocks:
    """Blocks as positions into a list of records: block n holds positions[starts[n]:starts[n + 1]] (ascending)."""

    starts: np.ndarray
    positions: np.ndarray
    email: np.ndarray  # whether block n is an email address's (its pairs share an address)
    names: list[str] | None = None

    def __len__(self) -> int:
        return len(self.starts) - 1

    def members(self, n: int) -> np.ndarray:
        return self.positions[self.starts[n] : self.starts[n + 1]]


class BlockEntries:
    """Every (record, key) of a population as arrays, gathered one record at a time (the record is not kept): its
    position, the key's hash, and flags (a finer key; an email key; kept by the key and chunk filters)."""

    def __init__(self, *, only_block_keys: set[str] | None = None, chunk: tuple[int, int] | None = None) -> None:
        self.only_block_keys, self.chunk = only_block_keys, chunk
        self.rec, self.key, self.flags = array("i"), array("q"), array("b")
        self.named: dict[int, str] | None = None
        self.count = 0

    def add(self, record: PersonRecord) -> None:
        i, only, chunk = self.count, self.only_block_keys, self.chunk
        rec, key, flags = self.rec, self.key, self.flags
        for coarse_key, fine_keys in key_families(record):
            for k, finer in ((coarse_key, 0), *((f, FINE) for f in fine_keys)):
                hk = hash(k)
                rec.append(i)
                key.append(hk)
                kept = (only is None or k in only) and (chunk is None or chunk_of(k, chunk[1]) == chunk[0])
                flags.append(finer | (EMAIL if k.startswith("email:") else 0) | (KEPT if kept else 0))
                if self.named is not None:
                    self.named[hk] = k
        self.count += 1

    def blocks(self) -> Blocks:
        """The blocks (see `keys_in_use`); the entries are spent."""
        recs = np.frombuffer(self.rec, dtype=np.int32)
        keys = np.frombuffer(self.key, dtype=np.int64)
        flags = np.frombuffer(self.flags, dtype=np.int8)
        # Each entry's coarse key is the last coarse entry up to it (a family's keys are added together).
        index = np.arange(len(flags), dtype=np.int32)
        coarse_entry = np.maximum.accumulate(np.where(flags & FINE, 0, index))
        del index
        # Stable: within a key, entries stay in record order.
        order = np.argsort(keys, kind="stable").astype(np.int32)
        sorted_keys, sorted_recs = keys[order], recs[order]
        self.rec, self.key = array("i"), array("q")
        del recs, keys
        distinct = np.ones(len(order), dtype=bool)
        distinct[1:] = (sorted_keys[1:] != sorted_keys[:-1]) | (sorted_recs[1:] != sorted_recs[:-1])
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(order) else order[:0]
        # How many records share each entry's key (a record counts once per key), for every entry.
        counted = np.add.reduceat(distinct.astype(np.int32), starts) if len(starts) else starts
        count = np.empty(len(order), dtype=np.int32)
        count[order] = np.repeat(counted.astype(np.int32), np.diff(np.r_[starts, len(order)]))
        del counted
        coarse_count = count[coarse_entry]
        del coarse_entry
        is_fine = (flags & FINE).astype(bool)
        used_entry = (
            ((flags & KEPT) != 0)
            & (count >= 2)
            & np.where(is_fine, (coarse_count > MAX_BLOCK) & (count <= MAX_FINE), count <= MAX_BLOCK)
        )
        del count, coarse_count, is_fine
        used = distinct & used_entry[order]
        del used_entry, distinct
        order, sorted_keys, sorted_recs = order[used], sorted_keys[used], sorted_recs[used]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(order) else order[:0]
        block_email = ((flags[order[starts]] & EMAIL) != 0) if len(order) else np.zeros(0, dtype=bool)
        named = self.named
        return Blocks(
            starts=np.r_[starts, len(order)].astype(np.int64),
            positions=sorted_recs.astype(np.int64),
            email=block_email,
            names=[named[k] for k in sorted_keys[starts].tolist()] if named is not None else None,
        )


FINE, EMAIL, KEPT = 1, 2, 4  # BlockEntries flags


def block_positions(
    records: Iterable[PersonRecord],
    *,
    only_block_keys: set[str] | None = None,
    chunk: tuple[int, int] | None = None,
    names: bool = False,
) -> Blocks:
    """The blocks of `records` (see `keys_in_use`), with arrays: keys are held as their hashes, never as strings
    (a million people have millions of keys), unless `names`."""
    entries = BlockEntries(only_block_keys=only_block_keys, chunk=chunk)
    if names:
        entries.named = {}
    for record in records:
        entries.add(record)
    return entries.blocks()


def block_map(
    records: Iterable[PersonRecord], *, only_block_keys: set[str] | None = None, chunk: tuple[int, int] | None = None
) -> dict[str, list[PersonRecord]]:
    """Blocks to score by key, each sorted by id; optionally only some keys, or only the keys of one chunk
    (`chunk=(n, of)`) of a scan."""
    records = list(records)
    blocks = block_positions(records, only_block_keys=only_block_keys, chunk=chunk, names=True)
    assert blocks.names is not None
    return {
        name: sorted((records[i] for i in blocks.members(n).tolist()), key=lambda m: m.id)
        for n, name in enumerate(blocks.names)
    }


def blocked_pairs(records: list[PersonRecord]) -> set[tuple[int, int]]:
    """Every pair that meets in a block, i.e. is ever compared (for measuring blocking recall)."""
    pairs: set[tuple[int, int]] = set()
    for block in block_map(records).values():
        ids = [m.id for m in block]
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1 :])
    return pairs
